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

func TestWriteStatusGroupsPodsUnlessWide(t *testing.T) {
	injected := func(name string) PodInjection {
		return PodInjection{Name: name, Container: "velero", Injected: true, Ready: true, ClientID: "0a1b2c3d-0000-4000-8000-000000000003", Created: "2026-12-01T10:00:00Z"}
	}
	pods := []PodInjection{injected("velero-a"), injected("velero-b"), injected("velero-c"), {Name: "velero-d", Container: "velero", Missing: []string{EnvClientID}}}
	st := &Status{Profile: "velero", Namespace: "velero", Components: []Component{{ServiceAccount: "velero", ServiceAccountExists: true, Workload: profile.Deployment("velero"),
		WorkloadExists: true, RolloutComplete: true, ClientID: "0a1b2c3d-0000-4000-8000-000000000003", TenantID: "tenant-guid", Pods: pods, InjectedPods: 3}}}
	var normal, wide bytes.Buffer
	if err := WriteStatus(&normal, st, findings.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteStatus(&wide, st, findings.TextOptions{Wide: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"velero-a (+2 more)", "velero-d", "missing: " + EnvClientID, "3/4"} {
		if !strings.Contains(normal.String(), want) {
			t.Errorf("missing %q in:\n%s", want, normal.String())
		}
	}
	for _, absent := range []string{"velero-b", "TENANT ID", "CREATED", "tenant-guid"} {
		if strings.Contains(normal.String(), absent) {
			t.Errorf("%q belongs to -o wide:\n%s", absent, normal.String())
		}
	}
	for _, want := range []string{"velero-a", "velero-b", "velero-c", "velero-d", "TENANT ID", "tenant-guid", "CREATED", "2026-12-01T10:00:00Z"} {
		if !strings.Contains(wide.String(), want) {
			t.Errorf("-o wide lacks %q:\n%s", want, wide.String())
		}
	}
	if strings.Contains(wide.String(), "more)") {
		t.Errorf("-o wide groups pods:\n%s", wide.String())
	}
	if testing.Verbose() {
		t.Log("\n" + normal.String() + "\n" + wide.String())
	}
}
