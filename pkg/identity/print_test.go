package identity

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact/redacttest"
)

func TestWriteStatusEscapesAndRedacts(t *testing.T) {
	st := &Status{Profile: "aks\x1b[31m", Namespace: "velero", Components: []Component{{
		ServiceAccount: "velero\u202e", ClientID: "Bearer abcdefghijklmnopqrstu", ServiceAccountExists: true, Workload: profile.Deployment("velero\r"),
		WorkloadExists: true, RolloutComplete: true,
		Pods: []PodInjection{{Name: "velero-0\x1b[1A", Container: "velero\t", Injected: true, ClientID: "0a1b2c3d-0000-4000-8000-000000000003",
			TokenFile: "/var/run/secrets/azure/tokens/azure-identity-token", Audience: "api://AzureADTokenExchange\x07"}},
	}}}
	var b bytes.Buffer
	if err := WriteStatus(&b, st, findings.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if r, bad := redacttest.TerminalUnsafe(out); bad {
		t.Errorf("control character %U reached the terminal:\n%q", r, out)
	}
	if strings.Contains(out, "abcdefghijklmnopqrstu") {
		t.Errorf("token printed:\n%s", out)
	}
	for _, w := range []string{`aks\x1b[31m`, `velero\u202e`, `velero\r`, `velero-0\x1b[1A`, `velero\t`, "0a1b2c3d-0000-4000-8000-000000000003",
		"/var/run/secrets/azure/tokens/azure-identity-token", `api://AzureADTokenExchange\x07`} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in:\n%s", w, out)
		}
	}
}
