package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
)

// TestOutputFormats runs each printing command with kubectl's -o values: every format either prints
// what it names or is refused as bad input (exit 2), never silently replaced by the table.
func TestOutputFormats(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stdout, or in the error when code is 2
		not  []string // absent from stdout
	}{
		{"status table", []string{"identity", "status", "--no-azure"}, 1,
			[]string{"SERVICE ACCOUNT", "POD ", "DETAIL"}, []string{"TENANT ID", "CREATED"}},
		{"status wide", []string{"identity", "status", "--no-azure", "-o", "wide"}, 1,
			[]string{"SERVICE ACCOUNT", "TENANT ID", "HELM RELEASE", "CREATED", "READY"}, nil},
		{"status name", []string{"identity", "status", "--no-azure", "-o", "name"}, 1,
			[]string{"serviceaccount/dataprotection-microsoft-controller-sa\n", "deployment.apps/dataprotection-microsoft-controller\n", "pod/dataprotection-microsoft-controller-1\n"}, []string{"SERVICE ACCOUNT"}},
		{"status jsonpath", []string{"identity", "status", "--no-azure", "-o", `jsonpath={.components[*].workload.name}`}, 1,
			[]string{"dataprotection-microsoft-controller"}, []string{"SERVICE ACCOUNT", "{"}},
		{"status go-template", []string{"identity", "status", "--no-azure", "-o", `go-template={{.kind}} {{.summary.errors}}`}, 1,
			[]string{"IdentityStatus "}, nil},
		{"status json", []string{"identity", "status", "--no-azure", "-o", "json"}, 1,
			[]string{`"kind": "IdentityStatus"`}, nil},
		{"status bad format", []string{"identity", "status", "--no-azure", "-o", "xml"}, 2,
			[]string{`unsupported output format "xml"`, "table|wide|json|yaml|name|jsonpath=..."}, nil},
		{"status bad jsonpath", []string{"identity", "status", "--no-azure", "-o", "jsonpath={.x"}, 2,
			[]string{"error parsing jsonpath"}, nil},
		{"bsl table", []string{"bsl"}, 0, []string{"NAME", "LAST VALIDATED", "backupsa01"}, []string{"STORAGE ACCOUNT"}},
		{"bsl wide", []string{"bsl", "-o", "wide"}, 0, []string{"STORAGE ACCOUNT", "RESOURCE GROUP", "VALIDATION FREQUENCY", "1m0s"}, nil},
		{"bsl name", []string{"bsl", "-o", "name"}, 0, []string{"backupstoragelocation.velero.io/default\n"}, []string{"NAME"}},
		{"bsl jsonpath", []string{"bsl", "-o", "jsonpath={.backupStorageLocations[0].phase}"}, 0, []string{"Available"}, []string{"NAME"}},
		{"triage wide", []string{"triage", "--file", "-", "-o", "wide"}, 2, []string{"-o wide applies to --catalog only"}, nil},
		{"triage name", []string{"triage", "--file", "-", "-o", "name"}, 2, []string{"-o name is not available: triage reports log findings"}, nil},
		{"triage catalog", []string{"triage", "--catalog"}, 0, []string{"ID", "wi-not-injected"}, []string{"EXPLANATION"}},
		{"triage catalog wide", []string{"triage", "--catalog", "-o", "wide"}, 0, []string{"EXPLANATION"}, nil},
		{"triage catalog jsonpath", []string{"triage", "--catalog", "-o", "jsonpath={.kind}"}, 0, []string{"TriageCatalog"}, nil},
		{"configure wide", []string{"identity", "configure", "--no-azure", "--client-id", "11111111-2222-3333-4444-555555555555", "--dry-run", "-o", "wide"}, 2, []string{"-o wide is not available: the plan table has no extra columns"}, nil},
		{"configure name", []string{"identity", "configure", "--no-azure", "--client-id", "11111111-2222-3333-4444-555555555555", "--dry-run", "-o", "name"}, 2, []string{"-o name is not available: configure prints a plan"}, nil},
		{"configure jsonpath", []string{"identity", "configure", "--no-azure", "--client-id", "11111111-2222-3333-4444-555555555555", "--dry-run", "-o", "jsonpath={.kind} {.dryRun}"}, 0, []string{"IdentityConfigureResult client"}, nil},
		{"version wide", []string{"version", "-o", "wide"}, 2, []string{"-o wide is not available: the version is one line"}, nil},
		{"version name", []string{"version", "-o", "name"}, 2, []string{"-o name is not available"}, nil},
		{"version jsonpath", []string{"version", "-o", "jsonpath={.kind}"}, 0, []string{"Version"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFactory{client: unwiredCluster(true), dyn: dynamicWith(t, location("default", "Available", "", time.Now()))}
			out, _, err := run(t, f, "", tt.args...)
			if got := exitcode.Code(err); got != tt.code {
				t.Fatalf("exit %d (%v), want %d\n%s", got, err, tt.code, out)
			}
			text := out
			if tt.code == 2 {
				text = err.Error()
				if out != "" {
					t.Errorf("bad input printed:\n%s", out)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q in:\n%s", w, text)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("%q printed:\n%s", n, out)
				}
			}
		})
	}
}
