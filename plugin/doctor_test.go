package plugin

import (
	"context"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

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
