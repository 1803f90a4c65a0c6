package plugin

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bsl"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/doctor"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// TestDoctorNamesDeniedReads: reads the caller may not make are one warning naming each, and the
// check does not fail doctor.
func TestDoctorNamesDeniedReads(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		review := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		ra := review.Spec.ResourceAttributes
		review.Status.Allowed = !(ra.Resource == "pods" && ra.Subresource == "log") && ra.Group != "velero.io"
		return true, review, nil
	})
	run := &doctorRun{o: &DoctorOptions{client: client, profile: profile.Profile{Name: "velero", Namespace: "velero"}}}
	out := run.readAccess(context.Background())
	if out.Err != nil || out.Skip != "" || len(out.Findings) != 1 {
		t.Fatalf("outcome %+v", out)
	}
	f := out.Findings[0]
	if f.ID != "read-access-denied" || f.Severity != "warning" || !strings.Contains(f.Message, "get pods/log") || !strings.Contains(f.Message, "list backupstoragelocations.velero.io") {
		t.Fatalf("finding %+v", f)
	}
	allowed := fake.NewClientset()
	allowed.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		review := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		review.Status.Allowed = true
		return true, review, nil
	})
	run.o.client = allowed
	if out := run.readAccess(context.Background()); len(out.Findings) != 0 {
		t.Fatalf("every read allowed, yet %+v", out.Findings)
	}
}

// TestDoctorFixersFor: each root cause goes to the command that repairs it, by the check that shows
// it: identity configure for the wiring, federation and role checks; trusted-access create for the
// binding (only with --vault-id); everything else, backup-role-missing of the trusted-access check
// included (configure does not grant the vault's roles), is left with its own fix.
func TestDoctorFixersFor(t *testing.T) {
	errFinding := func(id string, causedBy ...string) findings.Finding {
		return findings.Finding{ID: id, Severity: findings.SeverityError, CausedBy: causedBy}
	}
	rep := &doctor.Report{
		Checks: []doctor.Result{
			{ID: checkWiring, Findings: []string{"wi-label-missing"}},
			{ID: checkRoles, Findings: []string{"blob-data-role-missing"}},
			{ID: checkTrustedAccess, Findings: []string{"trusted-access-missing", "backup-role-missing"}},
			{ID: checkBSL, Findings: []string{"bsl-azure-config-missing"}},
		},
		Findings: []findings.Finding{errFinding("wi-label-missing"), errFinding("blob-data-role-missing"), errFinding("trusted-access-missing"),
			errFinding("backup-role-missing"), errFinding("bsl-azure-config-missing"), errFinding("wi-not-injected", "wi-label-missing"),
			{ID: "bsl-not-using-aad", Severity: findings.SeverityWarning}},
	}
	names := func(fs []fixer) map[string][]string {
		out := map[string][]string{}
		for _, fx := range fs {
			out[fx.name] = fx.fixes
		}
		return out
	}
	ids := func(fs []findings.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}
	for _, tc := range []struct {
		vault  string
		fixers map[string][]string
		manual []string
	}{
		{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v",
			map[string][]string{"identity configure": {"wi-label-missing", "blob-data-role-missing"}, "trusted-access create": {"trusted-access-missing"}},
			[]string{"backup-role-missing", "bsl-azure-config-missing"}},
		{"", map[string][]string{"identity configure": {"wi-label-missing", "blob-data-role-missing"}},
			[]string{"trusted-access-missing", "backup-role-missing", "bsl-azure-config-missing"}},
	} {
		fixers, manual := (&DoctorOptions{VaultID: tc.vault}).fixersFor(rep)
		if got := names(fixers); !reflect.DeepEqual(got, tc.fixers) {
			t.Errorf("vault %q: fixers %v, want %v", tc.vault, got, tc.fixers)
		}
		if got := ids(manual); !reflect.DeepEqual(got, tc.manual) {
			t.Errorf("vault %q: left to the user %v, want %v", tc.vault, got, tc.manual)
		}
	}
}

// TestDoctorBSLFixesFor: doctor --fix switches a BackupStorageLocation to Entra ID only where the
// user owns it (not the extension's) and the blob data role is there or granted in the same run.
func TestDoctorBSLFixesFor(t *testing.T) {
	notAAD := findings.Finding{ID: "bsl-not-using-aad", Severity: findings.SeverityWarning, Object: "backupstoragelocation/velero/default"}
	sharedKey := findings.Finding{ID: "shared-key-disabled", Severity: findings.SeverityError}
	keyRefused := findings.Finding{ID: "storage-key-misconfigured", Severity: findings.SeverityError}
	report := func(roles doctor.Status, roots []findings.Finding, roleFindings ...string) *doctor.Report {
		return &doctor.Report{Checks: []doctor.Result{{ID: checkRoles, Status: roles, Findings: roleFindings}},
			Findings: append(append([]findings.Finding{}, roots...), notAAD), RootCauses: roots}
	}
	velero := profile.Profile{Name: "velero", Namespace: "velero"}
	extension := profile.Profile{Name: "aks-backup", Namespace: "dataprotection-microsoft", ExtensionType: "microsoft.dataprotection.kubernetes"}
	configureRoles := []fixer{{name: "identity configure", fixes: []string{"blob-data-role-missing"}}}
	for _, tc := range []struct {
		name    string
		profile profile.Profile
		rep     *doctor.Report
		fixers  []fixer
		names   []string
		fixes   []string
		whyNot  string
	}{
		{"user-owned, role in place", velero, report(doctor.StatusOK, []findings.Finding{sharedKey}), nil, []string{"default"}, []string{"bsl-not-using-aad", "shared-key-disabled"}, ""},
		{"user-owned, role granted by configure first", velero, report(doctor.StatusFailed, nil, "blob-data-role-missing"), configureRoles, []string{"default"}, []string{"bsl-not-using-aad"}, ""},
		{"user-owned, role unknown, keys refused", velero, report(doctor.StatusSkipped, []findings.Finding{keyRefused, sharedKey}), nil, []string{"default"},
			[]string{"bsl-not-using-aad", "storage-key-misconfigured", "shared-key-disabled"}, ""},
		{"user-owned, role unknown, keys may work", velero, report(doctor.StatusSkipped, nil), nil, nil, nil, "blob data role is not confirmed"},
		{"the extension's location", extension, report(doctor.StatusOK, []findings.Finding{sharedKey}), nil, nil, nil, "az k8s-extension update"},
		{"nothing to switch", velero, &doctor.Report{}, nil, nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names, fixes, whyNot := (&DoctorOptions{profile: tc.profile}).bslFixesFor(tc.rep, tc.fixers)
			if !reflect.DeepEqual(names, tc.names) || !reflect.DeepEqual(fixes, tc.fixes) {
				t.Errorf("names %v fixes %v, want %v %v", names, fixes, tc.names, tc.fixes)
			}
			if (tc.whyNot == "") != (whyNot == "") || !strings.Contains(whyNot, tc.whyNot) {
				t.Errorf("why not %q, want it to contain %q", whyNot, tc.whyNot)
			}
		})
	}
}

// TestDoctorFixPlansTheBSLPatch: on a location the user owns, doctor --fix --dry-run shows the
// useAAD patch as part of its one plan, with what it fixes, and changes nothing.
func TestDoctorFixPlansTheBSLPatch(t *testing.T) {
	loc := location("default", "Available", "", time.Now())
	loc.Namespace = "velero"
	loc.Spec.Config["useAAD"] = "false"
	dyn := dynamicWith(t, loc)
	sharedKey := findings.Finding{ID: "shared-key-disabled", Severity: findings.SeverityError, Object: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/backupsa01"}
	before := &doctor.Report{Verdict: doctor.Unhealthy, Summary: "backups cannot be written — root cause shared-key-disabled",
		Checks:     []doctor.Result{{ID: checkRoles, Status: doctor.StatusOK}, {ID: checkStorage, Status: doctor.StatusFailed, Findings: []string{"shared-key-disabled"}}},
		RootCauses: []findings.Finding{sharedKey},
		Findings:   []findings.Finding{sharedKey, {ID: "bsl-not-using-aad", Severity: findings.SeverityWarning, Object: "backupstoragelocation/velero/default"}}}
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	o := &DoctorOptions{IOStreams: streams, DryRun: "client", dynamic: dyn, profile: profile.Profile{Name: "velero", Namespace: "velero"}}
	err := o.fix(context.Background(), before)
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("exit %d (%v), want 1\n%s", exitcode.Code(err), err, out)
	}
	for _, want := range []string{"Before: UNHEALTHY", "BackupStorageLocation config (fixes bsl-not-using-aad, shared-key-disabled):",
		"bsl-config patch backupstoragelocation/default spec.config.useAAD: false -> true", "Dry run: nothing was changed."} {
		// Table columns are matched word by word: their padding is the table printer's.
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "Not fixable by this tool: shared-key-disabled") {
		t.Errorf("shared-key-disabled listed as not fixable:\n%s", out)
	}
	obj, err := dyn.Resource(bsl.Resource).Namespace("velero").Get(context.Background(), "default", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedString(obj.Object, "spec", "config", "useAAD"); v != "false" {
		t.Fatalf("the dry run changed useAAD to %q", v)
	}
}
