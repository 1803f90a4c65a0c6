package plugin

import (
	"context"
	"reflect"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/doctor"
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
