package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bsl"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
)

const roleMessage = `BackupStorageLocation "default" is unavailable: rpc error: code = Unknown desc = GET https://backupsa01.blob.core.windows.net/velero
--------------------------------------------------------------------------------
RESPONSE 403: 403 This request is not authorized to perform this operation using this permission.
ERROR CODE: AuthorizationPermissionMismatch
--------------------------------------------------------------------------------`

func location(name, phase, message string, validated time.Time) *velerov1.BackupStorageLocation {
	b := &velerov1.BackupStorageLocation{
		TypeMeta:   metav1.TypeMeta{APIVersion: "velero.io/v1", Kind: "BackupStorageLocation"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "dataprotection-microsoft"},
		Spec: velerov1.BackupStorageLocationSpec{Provider: "azure", Default: name == "default",
			StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "velero"}},
			Config:      map[string]string{"storageAccount": "backupsa01", "resourceGroup": "backup-rg", "subscriptionId": "00000000-0000-0000-0000-000000000001", "useAAD": "true"}},
		Status: velerov1.BackupStorageLocationStatus{Phase: velerov1.BackupStorageLocationPhase(phase), Message: message},
	}
	if !validated.IsZero() {
		b.Status.LastValidationTime = &metav1.Time{Time: validated}
	}
	return b
}

func dynamicWith(t *testing.T, objs ...*velerov1.BackupStorageLocation) *dynamicfake.FakeDynamicClient {
	t.Helper()
	var runtimeObjs []runtime.Object
	for _, o := range objs {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			t.Fatal(err)
		}
		runtimeObjs = append(runtimeObjs, &unstructured.Unstructured{Object: u})
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{bsl.Resource: "BackupStorageLocationList"}, runtimeObjs...)
}

func TestBSL(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name     string
		objs     []*velerov1.BackupStorageLocation
		args     []string
		wantCode int
		want     []string
	}{
		{"unavailable names the cause and the fix", []*velerov1.BackupStorageLocation{location("default", "Unavailable", roleMessage, now)}, nil, exitcode.Findings,
			[]string{"Unavailable", "blob-data-role-missing", "Storage Blob Data Contributor", "-n backupsa01", "-g backup-rg", "explained by: blob-data-role-missing", "storageAccount=backupsa01"}},
		{"available and fresh", []*velerov1.BackupStorageLocation{location("default", "Available", "", now.Add(-20*time.Second))}, nil, 0,
			[]string{"default", "Available", "yes", "s ago  "}},
		{"stale validation warns", []*velerov1.BackupStorageLocation{location("default", "Available", "", now.Add(-10*time.Minute))}, nil, 0,
			[]string{"(stale)", "bsl-validation-stale", "is Velero running?"}},
		{"never validated", []*velerov1.BackupStorageLocation{location("default", "", "", time.Time{})}, nil, 0,
			[]string{"<none>", "bsl-not-validated"}},
		{"none at all", nil, nil, exitcode.Findings, []string{"No BackupStorageLocation in namespace dataprotection-microsoft", "bsl-missing"}},
		{"named one missing", []*velerov1.BackupStorageLocation{location("default", "Available", "", now)}, []string{"secondary"}, exitcode.InvalidInput,
			[]string{"BackupStorageLocation not found: dataprotection-microsoft/secondary"}},
		{"poll interval without wait, even at its default value", nil, []string{"--poll-interval", "2s"}, exitcode.InvalidInput, []string{"--poll-interval only applies with --wait-available"}},
		{"timeout without wait bounds the read", []*velerov1.BackupStorageLocation{location("default", "Available", "", now)}, []string{"--timeout", "1m"}, 0, []string{"default", "Available"}},
		{"bad output", nil, []string{"-o", "xml"}, exitcode.InvalidInput, []string{`unsupported output format "xml"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFactory{client: unwiredCluster(true), dyn: dynamicWith(t, tt.objs...)}
			out, errOut, err := run(t, f, "", append([]string{"bsl"}, tt.args...)...)
			expectRun(t, out, errOut, err, tt.wantCode, tt.want, nil)
		})
	}
}

func TestBSLWithoutVeleroCRD(t *testing.T) {
	dyn := dynamicWith(t)
	dyn.PrependReactor("list", "backupstoragelocations", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(bsl.Resource.GroupResource(), "")
	})
	out, errOut, err := run(t, &fakeFactory{client: unwiredCluster(true), dyn: dyn}, "", "bsl")
	expectRun(t, out, errOut, err, exitcode.InvalidInput, []string{"no velero.io/v1 BackupStorageLocation resource", "kubectl get crd backupstoragelocations.velero.io"}, nil)
}

func TestBSLJSON(t *testing.T) {
	f := &fakeFactory{client: unwiredCluster(true), dyn: dynamicWith(t, location("default", "Unavailable", roleMessage, time.Now()))}
	out, _, err := run(t, f, "", "bsl", "-o", "json")
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("exit %v", err)
	}
	var rep bsl.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	l := rep.Locations[0]
	if l.Phase != "Unavailable" || !l.Default || l.Bucket != "velero" || l.Config["storageAccount"] != "backupsa01" || l.LastValidationTime == nil || l.ValidationFrequency != "1m0s" {
		t.Errorf("location %+v", l)
	}
	if len(l.Findings) < 2 || l.Findings[0].ID != "blob-data-role-missing" || l.Findings[len(l.Findings)-1].ID != "bsl-unavailable" {
		t.Errorf("findings %+v", l.Findings)
	}
}

func TestBSLWaitAvailable(t *testing.T) {
	dyn := dynamicWith(t, location("default", "Unavailable", roleMessage, time.Now()))
	// Once the wait watches, Velero's next validation succeeds, as after a role assignment.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if countActions(dyn.Actions(), "watch") < 2 { // the watch probe, then the informer's watch
				continue
			}
			u, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(location("default", "Available", "", time.Now()))
			_, _ = dyn.Resource(bsl.Resource).Namespace("dataprotection-microsoft").Update(context.Background(), &unstructured.Unstructured{Object: u}, metav1.UpdateOptions{})
		}
	}()
	f := &fakeFactory{client: unwiredCluster(true), dyn: dyn}
	// A resync of an hour: only the watch event can end the wait within the test.
	out, errOut, err := run(t, f, "", "bsl", "--wait-available", "--timeout", "9s", "--poll-interval", "1h")
	if err != nil {
		t.Fatalf("exit %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(errOut, "waiting: default Unavailable (blob-data-role-missing)") || !strings.Contains(errOut, "Available after") {
		t.Errorf("progress:\n%s", errOut)
	}
	if !strings.Contains(out, "Available") {
		t.Errorf("final status:\n%s", out)
	}
	if lists := countActions(dyn.Actions(), "list"); lists != 2 {
		t.Errorf("%d lists (the first read and the informer's): the wait polled", lists)
	}
}

func TestBSLWaitSaysWhenItCannotWatch(t *testing.T) {
	dyn := dynamicWith(t, location("default", "Unavailable", roleMessage, time.Now()))
	dyn.PrependWatchReactor("backupstoragelocations", func(k8stesting.Action) (bool, watch.Interface, error) {
		return true, nil, apierrors.NewForbidden(bsl.Resource.GroupResource(), "", errors.New("no watch"))
	})
	f := &fakeFactory{client: unwiredCluster(true), dyn: dyn}
	out, errOut, err := run(t, f, "", "bsl", "--wait-available", "--timeout", "200ms", "--poll-interval", "10ms")
	if exitcode.Code(err) != exitcode.Findings || !strings.Contains(errOut, "Cannot watch BackupStorageLocations") || !strings.Contains(errOut, "reading them every 10ms instead") {
		t.Fatalf("exit %v\n%s%s", err, out, errOut)
	}
	if lists := countActions(dyn.Actions(), "list"); lists < 3 {
		t.Errorf("%d lists: the fallback did not poll", lists)
	}
}

func countActions(actions []k8stesting.Action, verb string) int {
	n := 0
	for _, a := range actions {
		if a.GetVerb() == verb {
			n++
		}
	}
	return n
}

func TestBSLWaitTimesOut(t *testing.T) {
	f := &fakeFactory{client: unwiredCluster(true), dyn: dynamicWith(t, location("default", "Unavailable", roleMessage, time.Now()))}
	out, errOut, err := run(t, f, "", "bsl", "--wait-available", "--timeout", "100ms", "--poll-interval", "10ms")
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("exit %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(errOut, "Timed out after 100ms: default Unavailable (blob-data-role-missing)") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if !strings.Contains(out, "blob-data-role-missing") {
		t.Errorf("the final report must name the cause:\n%s", out)
	}
}

// expectRun checks a command's exit code, and that its output and error hold every want and no never.
func expectRun(t *testing.T, out, errOut string, err error, wantCode int, want, never []string) {
	t.Helper()
	if got := exitcode.Code(err); got != wantCode {
		t.Fatalf("exit %d, want %d: %v\n%s%s", got, wantCode, err, out, errOut)
	}
	all := out + errOut
	if err != nil {
		all += err.Error()
	}
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("output lacks %q:\n%s", w, all)
		}
	}
	for _, n := range never {
		if strings.Contains(all, n) {
			t.Errorf("output has %q:\n%s", n, all)
		}
	}
}
