package rollout

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/workload"
)

func deployment(name string, generation, observed int64, updated, available int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Generation: generation},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: 1, UpdatedReplicas: updated, AvailableReplicas: available},
	}
}

// daemonSet has desired pods on its nodes, updated of them from the current template, available of them ready.
func daemonSet(name string, generation, observed int64, desired, updated, available int32) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Generation: generation},
		Spec:       appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: observed, DesiredNumberScheduled: desired,
			UpdatedNumberScheduled: updated, NumberAvailable: available},
	}
}

func statefulSet(name string, generation, observed int64, replicas, ready, updated int32, current, update string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Generation: generation},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(replicas),
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType}},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: observed, Replicas: replicas, ReadyReplicas: ready,
			UpdatedReplicas: updated, CurrentReplicas: ready, CurrentRevision: current, UpdateRevision: update},
	}
}

func TestState(t *testing.T) {
	onDelete := daemonSet("od", 2, 1, 2, 0, 0)
	onDelete.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	tests := []struct {
		name string
		o    *workload.Object
		done bool
		msg  string
	}{
		{"deployment complete", workload.FromDeployment(deployment("a", 1, 1, 1, 1)), true, "successfully rolled out"},
		{"deployment spec not observed", workload.FromDeployment(deployment("a", 2, 1, 1, 1)), false, "spec update to be observed"},
		{"deployment new replicas pending", workload.FromDeployment(deployment("a", 1, 1, 0, 0)), false, "0 out of 1 new replicas"},
		{"deployment not available", workload.FromDeployment(deployment("a", 1, 1, 1, 0)), false, "0 of 1 updated replicas are available"},
		{"daemonset complete", workload.FromDaemonSet(daemonSet("node-agent", 2, 2, 3, 3, 3)), true, `daemon set "node-agent" successfully rolled out`},
		{"daemonset spec not observed", workload.FromDaemonSet(daemonSet("node-agent", 2, 1, 3, 3, 3)), false, "daemon set spec update to be observed"},
		{"daemonset pods not updated", workload.FromDaemonSet(daemonSet("node-agent", 2, 2, 3, 1, 3)), false, "1 out of 3 new pods have been updated"},
		{"daemonset updated pods not available", workload.FromDaemonSet(daemonSet("node-agent", 2, 2, 3, 3, 2)), false, "2 of 3 updated pods are available"},
		{"daemonset on no node", workload.FromDaemonSet(daemonSet("node-agent", 1, 1, 0, 0, 0)), true, "successfully rolled out"},
		{"daemonset OnDelete has nothing to wait for", workload.FromDaemonSet(onDelete), true, "OnDelete"},
		{"statefulset complete", workload.FromStatefulSet(statefulSet("db", 1, 1, 2, 2, 2, "db-1", "db-1")), true, "rolling update complete 2 pods at revision db-1"},
		{"statefulset pods not ready", workload.FromStatefulSet(statefulSet("db", 1, 1, 2, 1, 2, "db-1", "db-1")), false, "Waiting for 1 pods to be ready"},
		{"statefulset revision pending", workload.FromStatefulSet(statefulSet("db", 2, 2, 2, 2, 1, "db-1", "db-2")), false, "waiting for statefulset rolling update to complete"},
		{"statefulset spec not observed", workload.FromStatefulSet(statefulSet("db", 2, 1, 2, 2, 2, "db-1", "db-1")), false, "Waiting for statefulset spec update to be observed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done, msg, err := State(tc.o)
			if err != nil || done != tc.done || !strings.Contains(msg, tc.msg) {
				t.Fatalf("State = %v %q %v, want %v %q", done, msg, err, tc.done, tc.msg)
			}
		})
	}
}

func TestRestartStampsTemplate(t *testing.T) {
	client := fake.NewClientset(deployment("a", 1, 1, 1, 1), daemonSet("node-agent", 1, 1, 1, 1, 1), statefulSet("db", 1, 1, 1, 1, 1, "r", "r"))
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	templates := map[profile.Workload]func() map[string]string{
		profile.Deployment("a"): func() map[string]string {
			d, _ := client.AppsV1().Deployments("ns").Get(ctx, "a", metav1.GetOptions{})
			return d.Spec.Template.Annotations
		},
		{Kind: profile.KindDaemonSet, Name: "node-agent"}: func() map[string]string {
			ds, _ := client.AppsV1().DaemonSets("ns").Get(ctx, "node-agent", metav1.GetOptions{})
			return ds.Spec.Template.Annotations
		},
		{Kind: profile.KindStatefulSet, Name: "db"}: func() map[string]string {
			s, _ := client.AppsV1().StatefulSets("ns").Get(ctx, "db", metav1.GetOptions{})
			return s.Spec.Template.Annotations
		},
	}
	for w, annotations := range templates {
		t.Run(w.Ref(), func(t *testing.T) {
			if err := Restart(ctx, client, "ns", w, at, false); err != nil {
				t.Fatal(err)
			}
			if got := annotations()[RestartedAtAnnotation]; got != "2026-11-22T12:00:00Z" {
				t.Fatalf("restartedAt = %q", got)
			}
		})
	}
	err := Restart(ctx, client, "ns", profile.Workload{Kind: profile.KindDaemonSet, Name: "missing"}, at, false)
	if err == nil || !strings.Contains(err.Error(), "daemonset/missing in namespace ns") {
		t.Fatalf("err = %v", err)
	}
}

func TestWaitDaemonSetAndStatefulSet(t *testing.T) {
	client := fake.NewClientset(daemonSet("node-agent", 1, 1, 2, 2, 2), statefulSet("db", 1, 1, 1, 0, 1, "r1", "r2"))
	var done bytes.Buffer
	if err := Wait(context.Background(), client, "ns", []string{"daemonset/node-agent"}, WaitOptions{Resync: time.Millisecond, Done: &done}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(done.String(), `daemon set "node-agent" successfully rolled out`) {
		t.Errorf("done = %q", done.String())
	}
	err := Wait(context.Background(), client, "ns", []string{"statefulset/db"}, WaitOptions{Resync: time.Millisecond, Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "kubectl rollout status -n ns statefulset/db") {
		t.Fatalf("err = %v", err)
	}
	if err := Wait(context.Background(), client, "ns", []string{"job/x"}, WaitOptions{}); err == nil || !strings.Contains(err.Error(), "unsupported kind") {
		t.Fatalf("err = %v", err)
	}
}

func TestWait(t *testing.T) {
	client := fake.NewClientset(deployment("done", 1, 1, 1, 1), deployment("stuck", 1, 1, 0, 0))
	var progress, done bytes.Buffer
	err := Wait(context.Background(), client, "ns", []string{"done"}, WaitOptions{Resync: time.Millisecond, Done: &done})
	if err != nil || !strings.Contains(done.String(), `deployment "done" successfully rolled out`) {
		t.Fatalf("err %v, done %q", err, done.String())
	}
	err = Wait(context.Background(), client, "ns", []string{"done", "stuck"}, WaitOptions{Resync: time.Millisecond, Timeout: 300 * time.Millisecond, Progress: &progress})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "stuck: Waiting for deployment \"stuck\"") {
		t.Fatalf("err = %v", err)
	}
	if strings.Count(progress.String(), "\n") != 1 {
		t.Errorf("progress repeats unchanged messages: %q", progress.String())
	}
}

// TestWaitReturnsOnTheWatchEvent: the controller finishes the rollout; with a resync far beyond the
// test, only the watch event can end the wait, and the deployment is listed once, not polled.
func TestWaitReturnsOnTheWatchEvent(t *testing.T) {
	client := fake.NewClientset(deployment("velero", 2, 1, 0, 0))
	done := make(chan error, 1)
	var progress, finished syncBuffer
	go func() {
		done <- Wait(context.Background(), client, "ns", []string{"velero"}, WaitOptions{Resync: time.Hour, Timeout: 30 * time.Second, Progress: &progress, Done: &finished})
	}()
	for !strings.Contains(progress.String(), "spec update to be observed") {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := client.AppsV1().Deployments("ns").UpdateStatus(context.Background(), deployment("velero", 2, 2, 1, 1), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil || !strings.Contains(finished.String(), `deployment "velero" successfully rolled out`) {
		t.Fatalf("err %v, done %q", err, finished.String())
	}
	lists := 0
	for _, a := range client.Actions() {
		if a.GetVerb() == "list" {
			lists++
		}
	}
	if lists != 1 {
		t.Errorf("%d lists: the wait polled", lists)
	}
}

func TestWaitPollsWhenWatchIsForbidden(t *testing.T) {
	client := fake.NewClientset(deployment("velero", 1, 1, 1, 1))
	client.PrependWatchReactor("deployments", func(k8stesting.Action) (bool, watch.Interface, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "", errors.New("no watch"))
	})
	var notice bytes.Buffer
	if err := Wait(context.Background(), client, "ns", []string{"velero"}, WaitOptions{Resync: time.Millisecond, Timeout: 10 * time.Second, Notice: &notice}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notice.String(), "Cannot watch deployment/velero") {
		t.Errorf("notice = %q", notice.String())
	}
}

// syncBuffer is a bytes.Buffer safe to read while Wait writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
