package probe

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe/probetest"
)

func verifierEnv(f *probetest.Azure, tokenFile string) func(string) string {
	env := map[string]string{clientIDEnv: "c0ffee00-aaaa-4bbb-8ccc-000000000001", tenantIDEnv: probetest.Tenant, federatedFileEnv: tokenFile, authorityHostEnv: f.Srv.URL + "/"}
	return func(k string) string { return env[k] }
}

func TestVerify(t *testing.T) {
	f := probetest.New(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "azure-identity-token")
	if err := os.WriteFile(tokenFile, []byte(fakeSAToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	caDir := filepath.Join(dir, "ca")
	_ = os.Mkdir(caDir, 0o755)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.Srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(caDir, "ca.crt"), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	args := VerifierArgs{RunID: "run-0badc0de", CABundleDir: caDir,
		Target: Target{Container: "velero", ServiceURL: f.Srv.URL + "/devstoreaccount1", Account: "devstoreaccount1", UseAAD: true}}
	tests := []struct {
		name    string
		getenv  func(string) string
		args    func(*VerifierArgs)
		ok      bool
		step    string
		finding string
	}{
		{name: "healthy with the mounted CA bundle", getenv: verifierEnv(f, tokenFile), ok: true},
		{name: "not injected", getenv: func(k string) string { return "" }, step: StepEnv, finding: catalog.WINotInjected.ID},
		{name: "token file missing", getenv: verifierEnv(f, filepath.Join(dir, "nope")), step: StepTokenFile, finding: catalog.TokenFileUnreadable.ID},
		{name: "no CA bundle: the proxy's CA is not trusted", getenv: verifierEnv(f, tokenFile), args: func(a *VerifierArgs) { a.CABundleDir = "" }, step: StepTLS, finding: catalog.TLSFailed.ID},
		{name: "empty CA bundle", getenv: verifierEnv(f, tokenFile), args: func(a *VerifierArgs) { a.CABundleDir = t.TempDir() }, step: StepTLS, finding: catalog.TLSFailed.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := args
			if tt.args != nil {
				tt.args(&a)
			}
			res := Verify(context.Background(), a, tt.getenv, time.Now)
			if res.OK != tt.ok {
				t.Fatalf("OK = %v; steps %s; failed %+v", res.OK, stepNames(res), failedStep(res))
			}
			if !tt.ok {
				if s := failedStep(res); s == nil || s.Name != tt.step || s.FindingID != tt.finding {
					t.Fatalf("failed step = %+v, want %s %s", s, tt.step, tt.finding)
				}
			}
			msg := TerminationMessage(res)
			if len(msg) > MaxTerminationMessage || strings.Contains(string(msg), fakeSAToken) {
				t.Errorf("termination message: %d bytes, token inside: %v", len(msg), strings.Contains(string(msg), fakeSAToken))
			}
			var back Result
			if err := json.Unmarshal(msg, &back); err != nil || len(back.Steps) != len(res.Steps) {
				t.Errorf("termination message does not round-trip: %v", err)
			}
			// The plugin reports the findings of the result it reads back from the termination message.
			var wantIDs []string
			if !tt.ok {
				wantIDs = []string{tt.finding}
			}
			if got := reportedIDs(&back); !slices.Equal(got, wantIDs) {
				t.Errorf("reported findings %v, want %v", got, wantIDs)
			}
		})
	}
}

func TestTerminationMessageFitsTheKubeletLimit(t *testing.T) {
	res := &Result{RunID: "x"}
	for i := 0; i < 20; i++ {
		res.Steps = append(res.Steps, Step{Name: StepList, Status: StatusFailed, Detail: strings.Repeat("long error text ", 30)})
	}
	if n := len(TerminationMessage(res)); n > MaxTerminationMessage {
		t.Fatalf("%d bytes", n)
	}
}
