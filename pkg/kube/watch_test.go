package kube

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

func configMapWatch(client *fake.Clientset) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return client.CoreV1().ConfigMaps("ns").List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return client.CoreV1().ConfigMaps("ns").Watch(ctx, o)
		},
	}
}

// readyWhen is done once the config map says ready; it signals each check on checked.
func readyWhen(checked chan<- struct{}) WatchCheck {
	return func(objs []runtime.Object) (bool, error) {
		defer func() { checked <- struct{}{} }()
		for _, o := range objs {
			if o.(*corev1.ConfigMap).Data["ready"] == "yes" {
				return true, nil
			}
		}
		return false, nil
	}
}

func markReady(t *testing.T, client *fake.Clientset) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}, Data: map[string]string{"ready": "yes"}}
	if _, err := client.CoreV1().ConfigMaps("ns").Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func countVerb(client *fake.Clientset, verb string) int {
	n := 0
	for _, a := range client.Actions() {
		if a.GetVerb() == verb {
			n++
		}
	}
	return n
}

// TestWaitForObjectsReturnsOnTheWatchEvent: with a resync far beyond the test, only the watch
// event can end the wait; the objects are listed once.
func TestWaitForObjectsReturnsOnTheWatchEvent(t *testing.T) {
	client := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}})
	checked := make(chan struct{}, 10)
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		done <- WaitForObjects(ctx, configMapWatch(client), &corev1.ConfigMap{}, time.Hour, func(err error) { t.Errorf("notice %v", err) }, readyWhen(checked))
	}()
	<-checked // the first check, on the synced cache: not ready
	markReady(t, client)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if lists := countVerb(client, "list"); lists != 1 {
		t.Errorf("listed %d times: the wait polled instead of watching", lists)
	}
}

// TestWaitForObjectsPollsWhenWatchIsForbidden: a user without the watch verb is told, and the wait
// re-lists every resync instead.
func TestWaitForObjectsPollsWhenWatchIsForbidden(t *testing.T) {
	client := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}})
	client.PrependWatchReactor("configmaps", func(k8stesting.Action) (bool, watch.Interface, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "", errors.New("no watch for you"))
	})
	var notices atomic.Int32
	var checks atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := WaitForObjects(ctx, configMapWatch(client), &corev1.ConfigMap{}, time.Millisecond, func(err error) {
		if !apierrors.IsForbidden(err) {
			t.Errorf("notice %v", err)
		}
		notices.Add(1)
	}, func(objs []runtime.Object) (bool, error) {
		if checks.Add(1) == 3 {
			markReady(t, client)
		}
		return readyWhen(make(chan struct{}, 1))(objs)
	})
	if err != nil || notices.Load() != 1 || countVerb(client, "list") < 4 {
		t.Fatalf("err %v, notices %d, lists %d", err, notices.Load(), countVerb(client, "list"))
	}
}

func TestWaitForObjectsEndsWithTheContext(t *testing.T) {
	client := fake.NewClientset()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := WaitForObjects(ctx, configMapWatch(client), &corev1.ConfigMap{}, time.Hour, nil, readyWhen(make(chan struct{}, 10)))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}
