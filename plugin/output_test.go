package plugin

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

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
			checkOutput(t, out, err, tt.code, tt.want, tt.not)
		})
	}
}

// checkOutput asserts the exit code, then that want is in stdout (in the error for bad input, which
// must print nothing) and not is absent from stdout; it returns the text want was looked for in.
func checkOutput(t *testing.T, out string, err error, code int, want, not []string) string {
	t.Helper()
	if got := exitcode.Code(err); got != code {
		t.Fatalf("exit %d (%v), want %d\n%s", got, err, code, out)
	}
	text := out
	if code == 2 {
		text = err.Error()
		if out != "" {
			t.Errorf("bad input printed:\n%s", out)
		}
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in:\n%s", w, text)
		}
	}
	for _, n := range not {
		if strings.Contains(out, n) {
			t.Errorf("%q printed:\n%s", n, out)
		}
	}
	return text
}

// TestOutputFormatsDoctorPreflightUnconfigure: doctor, preflight and identity unconfigure take the
// same -o values as the other commands: the table (doctor's verdict line first), -o wide with real
// extra columns where the table has them (doctor) and refused where it has none, -o name refused
// (they report checks and plans, not objects), json, yaml, jsonpath and go-template.
func TestOutputFormatsDoctorPreflightUnconfigure(t *testing.T) {
	const clientID = "11111111-2222-3333-4444-555555555555"
	unwired := func(t *testing.T) *fakeFactory {
		return &fakeFactory{client: unwiredCluster(true), dyn: dynamicWith(t, location("default", "Available", "", time.Now()))}
	}
	ready := func(*testing.T) *fakeFactory { return preflightCluster() }
	tests := []struct {
		name    string
		factory func(*testing.T) *fakeFactory
		args    []string
		code    int
		want    []string // in stdout, or in the error when code is 2
		not     []string // absent from stdout
		prefix  string   // stdout starts with it
	}{
		{"doctor table", unwired, []string{"doctor", "--no-azure"}, 1,
			[]string{"Root causes:", "Checks:", "CHECK", "STATUS", "DETAIL", "workload-identity", "failed"}, []string{"WAVE", "BLOCKED BY"}, "UNHEALTHY: backups cannot be written — root cause "},
		{"doctor wide", unwired, []string{"doctor", "--no-azure", "-o", "wide"}, 1,
			[]string{"CHECK", "WAVE", "BLOCKED BY", "FINDINGS", "DURATION", "wi-client-id-missing,"}, nil, "UNHEALTHY: "},
		{"doctor json", unwired, []string{"doctor", "--no-azure", "-o", "json"}, 1,
			[]string{`"kind": "DoctorReport"`, `"apiVersion": "aksbackup.kubectl.io/v1alpha1"`, `"verdict": "UNHEALTHY"`}, []string{"CHECK"}, "{"},
		{"doctor yaml", unwired, []string{"doctor", "--no-azure", "-o", "yaml"}, 1,
			[]string{"kind: DoctorReport", "verdict: UNHEALTHY"}, []string{"CHECK"}, "apiVersion: "},
		{"doctor jsonpath", unwired, []string{"doctor", "--no-azure", "-o", "jsonpath={.verdict} {.checks[0].id}"}, 1,
			[]string{"UNHEALTHY kube-api"}, []string{"CHECK", "{"}, "UNHEALTHY"},
		{"doctor go-template", unwired, []string{"doctor", "--no-azure", "-o", "go-template={{.kind}} {{len .checks}}"}, 1,
			[]string{"DoctorReport 13"}, nil, "DoctorReport"},
		{"doctor name", unwired, []string{"doctor", "--no-azure", "-o", "name"}, 2,
			[]string{"-o name is not available: doctor reports checks and findings"}, nil, ""},
		{"doctor bad format", unwired, []string{"doctor", "--no-azure", "-o", "xml"}, 2,
			[]string{`unsupported output format "xml"`, "table|wide|json|yaml|jsonpath=..."}, nil, ""},
		{"doctor fix structured", unwired, []string{"doctor", "--no-azure", "--fix", "-o", "jsonpath={.verdict}"}, 2,
			[]string{"--fix prints the plan and the report before and after as text"}, nil, ""},
		{"doctor fleet jsonpath", unwired, []string{"doctor", "--contexts", "a,b", "-o", "jsonpath={.healthy}"}, 1,
			[]string{"0"}, []string{"CONTEXT"}, "0"},
		{"doctor fleet name", unwired, []string{"doctor", "--contexts", "a,b", "-o", "name"}, 2,
			[]string{"-o name is not available"}, nil, ""},
		{"doctor fleet wide", unwired, []string{"doctor", "--contexts", "a,b", "-o", "wide"}, 2,
			[]string{"the fleet table has no extra columns"}, nil, ""},
		{"preflight table", ready, []string{"preflight", "--no-azure"}, 0,
			[]string{"CHECK", "STATUS", "DETAIL"}, nil, "READY: "},
		{"preflight json", ready, []string{"preflight", "--no-azure", "-o", "json"}, 0,
			[]string{`"apiVersion": "aksbackup.kubectl.io/v1alpha1"`, `"kind": "Preflight"`, `"ready": true`}, []string{"CHECK"}, "{"},
		{"preflight yaml", ready, []string{"preflight", "--no-azure", "-o", "yaml"}, 0,
			[]string{"kind: Preflight", "ready: true"}, nil, "apiVersion: "},
		{"preflight jsonpath", ready, []string{"preflight", "--no-azure", "-o", "jsonpath={.kind} {.ready}"}, 0,
			[]string{"Preflight true"}, []string{"CHECK"}, "Preflight"},
		{"preflight go-template", ready, []string{"preflight", "--no-azure", "-o", "go-template={{.kubernetesVersion}}"}, 0,
			[]string{"v1.34.4"}, nil, "v1.34.4"},
		{"preflight wide", ready, []string{"preflight", "--no-azure", "-o", "wide"}, 2,
			[]string{"-o wide is not available: the check and volume tables have no extra columns"}, nil, ""},
		{"preflight name", ready, []string{"preflight", "--no-azure", "-o", "name"}, 2,
			[]string{"-o name is not available: preflight reports checks and volume classes"}, nil, ""},
		{"unconfigure table", unwired, []string{"identity", "unconfigure", "--no-azure", "--client-id", clientID, "--dry-run=client"}, 0,
			[]string{"No changes"}, nil, "No changes"},
		{"unconfigure json", unwired, []string{"identity", "unconfigure", "--no-azure", "--client-id", clientID, "--dry-run=client", "-o", "json"}, 0,
			[]string{`"kind": "IdentityUnconfigureResult"`, `"clientId": "` + clientID + `"`}, []string{"No changes"}, "{"},
		{"unconfigure jsonpath", unwired, []string{"identity", "unconfigure", "--no-azure", "--client-id", clientID, "--dry-run=client", "-o", "jsonpath={.kind} {.dryRun}"}, 0,
			[]string{"IdentityUnconfigureResult client"}, nil, "IdentityUnconfigureResult"},
		{"unconfigure go-template", unwired, []string{"identity", "unconfigure", "--no-azure", "--client-id", clientID, "--dry-run=client", "-o", "go-template={{.namespace}}"}, 0,
			[]string{"dataprotection-microsoft"}, nil, "dataprotection-microsoft"},
		{"unconfigure wide", unwired, []string{"identity", "unconfigure", "--no-azure", "--client-id", clientID, "--dry-run=client", "-o", "wide"}, 2,
			[]string{"-o wide is not available: the plan table has no extra columns"}, nil, ""},
		{"unconfigure name", unwired, []string{"identity", "unconfigure", "--no-azure", "--client-id", clientID, "--dry-run=client", "-o", "name"}, 2,
			[]string{"-o name is not available: unconfigure prints a plan"}, nil, ""},
		{"unconfigure structured prompt", unwired, []string{"identity", "unconfigure", "--no-azure", "--client-id", clientID, "-o", "jsonpath={.kind}"}, 2,
			[]string{"cannot prompt for confirmation"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCommands(t, tt.factory(t), tt.args...)
			if text := checkOutput(t, out, err, tt.code, tt.want, tt.not); !strings.HasPrefix(text, tt.prefix) {
				t.Errorf("output does not start with %q:\n%s", tt.prefix, text)
			}
		})
	}
}

// runCommands runs doctor, preflight or identity on the fake factory.
func runCommands(t *testing.T, f *fakeFactory, args ...string) (string, error) {
	t.Helper()
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	root := NewRootCommand(streams)
	root.ResetCommands()
	root.AddCommand(NewDoctorCommand(f, streams), NewPreflightCommand(f, streams), NewIdentityCommand(f, streams))
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	root.SetContext(ctx)
	err := Execute(root)
	return out.String(), err
}
