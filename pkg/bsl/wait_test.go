package bsl

import (
	"context"
	"errors"
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
)

func unstructuredBSL(t *testing.T, name, phase string) *unstructured.Unstructured {
	t.Helper()
	b := &velerov1.BackupStorageLocation{
		TypeMeta:   metav1.TypeMeta{APIVersion: "velero.io/v1", Kind: "BackupStorageLocation"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "velero"},
		Spec:       velerov1.BackupStorageLocationSpec{Provider: "azure", StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "b"}}},
		Status:     velerov1.BackupStorageLocationStatus{Phase: velerov1.BackupStorageLocationPhase(phase)},
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(b)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: u}
}

func fakeDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{Resource: "BackupStorageLocationList"}, objs...)
}

func lists(dyn *dynamicfake.FakeDynamicClient) int {
	n := 0
	for _, a := range dyn.Actions() {
		if a.GetVerb() == "list" {
			n++
		}
	}
	return n
}

// TestWaitReturnsOnTheWatchEvent: Velero turns the location Available; the watch event ends the
// wait, with one list and no resync in between.
func TestWaitReturnsOnTheWatchEvent(t *testing.T) {
	dyn := fakeDynamic(unstructuredBSL(t, "default", "Unavailable"), unstructuredBSL(t, "other", "Unavailable"))
	seen := make(chan *Report, 10)
	done := make(chan error, 1)
	var rep *Report
	go func() {
		var err error
		rep, err = Wait(context.Background(), dyn, "velero", "default", WaitOptions{Resync: time.Hour, Progress: func(r *Report) { seen <- r }})
		done <- err
	}()
	if first := <-seen; first.AllAvailable() || len(first.Locations) != 1 {
		t.Fatalf("first report: %+v", first)
	}
	if _, err := dyn.Resource(Resource).Namespace("velero").Update(context.Background(), unstructuredBSL(t, "default", "Available"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil || !rep.AllAvailable() || rep.Locations[0].Name != "default" {
			t.Fatalf("err %v, report %+v", err, rep)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the watch event did not end the wait")
	}
	if n := lists(dyn); n != 1 {
		t.Errorf("%d lists: the wait polled", n)
	}
}

func TestWaitPollsWhenWatchIsForbiddenAndStopsAtTheDeadline(t *testing.T) {
	dyn := fakeDynamic(unstructuredBSL(t, "default", "Unavailable"))
	dyn.PrependWatchReactor("backupstoragelocations", func(k8stesting.Action) (bool, watch.Interface, error) {
		return true, nil, apierrors.NewForbidden(Resource.GroupResource(), "", errors.New("watch not allowed"))
	})
	var notice error
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rep, err := Wait(ctx, dyn, "velero", "", WaitOptions{Resync: 10 * time.Millisecond, Notice: func(err error) { notice = err }})
	if !errors.Is(err, context.DeadlineExceeded) || rep == nil || rep.AllAvailable() {
		t.Fatalf("err %v, report %+v", err, rep)
	}
	if !apierrors.IsForbidden(notice) || lists(dyn) < 3 {
		t.Errorf("notice %v, %d lists", notice, lists(dyn))
	}
}
