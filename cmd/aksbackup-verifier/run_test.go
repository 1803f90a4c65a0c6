package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe"
)

func TestRunArguments(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"version"}, exitOK, "aksbackup-verifier "},
		{[]string{"frobnicate"}, exitInvalid, `unknown command "frobnicate"`},
		{[]string{"probe", "--container", "velero"}, exitInvalid, "--run-id, --container and --service-url are required"},
		{[]string{"probe", "--bogus"}, exitInvalid, "flag provided but not defined"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tt.args, &out, &errOut, func(string) string { return "" })
		if code != tt.code || !strings.Contains(out.String()+errOut.String(), tt.out) {
			t.Errorf("%v: exit %d (%s%s), want %d with %q", tt.args, code, out.String(), errOut.String(), tt.code, tt.out)
		}
	}
}

// Without the webhook's variables the verifier fails at the env step and says so in its
// termination message, and exits 1.
func TestRunWritesTheTerminationMessage(t *testing.T) {
	log := filepath.Join(t.TempDir(), "termination-log")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"probe", "--run-id", "r-00000000", "--container", "velero", "--service-url", "https://127.0.0.1:1/acct", "--termination-log", log},
		&out, &errOut, func(string) string { return "" })
	if code != exitFailed {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var res probe.Result
	if err := json.Unmarshal(data, &res); err != nil || res.Steps[0].Name != probe.StepEnv || res.Steps[0].FindingID != "wi-not-injected" {
		t.Fatalf("termination message %s: %v", data, err)
	}
}

// The verifier runs in a pod from a small image: it links the probe steps and the Azure SDK, not
// client-go (the pod and token logic of pkg/probe/probekube stay in the plugin).
func TestVerifierLinksNoKubernetesClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "k8s.io/client-go") || strings.HasSuffix(dep, "/pkg/probe/probekube") {
			t.Errorf("the verifier links %s", dep)
		}
	}
}
