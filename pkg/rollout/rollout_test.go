package rollout

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func deployment(name string, generation, observed int64, updated, available int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Generation: generation},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: 1, UpdatedReplicas: updated, AvailableReplicas: available},
	}
}

func TestState(t *testing.T) {
	tests := []struct {
		name string
		d    *appsv1.Deployment
		done bool
		msg  string
	}{
		{"complete", deployment("a", 1, 1, 1, 1), true, "successfully rolled out"},
		{"spec not observed", deployment("a", 2, 1, 1, 1), false, "spec update to be observed"},
		{"new replicas pending", deployment("a", 1, 1, 0, 0), false, "0 out of 1 new replicas"},
		{"not available", deployment("a", 1, 1, 1, 0), false, "0 of 1 updated replicas are available"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done, msg, err := State(tc.d)
			if err != nil || done != tc.done || !strings.Contains(msg, tc.msg) {
				t.Fatalf("State = %v %q %v", done, msg, err)
			}
		})
	}
}

func TestRestartStampsTemplate(t *testing.T) {
	client := fake.NewClientset(deployment("a", 1, 1, 1, 1))
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	if err := Restart(context.Background(), client, "ns", "a", at, false); err != nil {
		t.Fatal(err)
	}
	d, _ := client.AppsV1().Deployments("ns").Get(context.Background(), "a", metav1.GetOptions{})
	if got := d.Spec.Template.Annotations[RestartedAtAnnotation]; got != "2026-11-22T12:00:00Z" {
		t.Fatalf("restartedAt = %q", got)
	}
	if err := Restart(context.Background(), client, "ns", "missing", at, false); err == nil || !strings.Contains(err.Error(), "ns/missing") {
		t.Fatalf("err = %v", err)
	}
}

func TestWait(t *testing.T) {
	client := fake.NewClientset(deployment("done", 1, 1, 1, 1), deployment("stuck", 1, 1, 0, 0))
	var progress, done bytes.Buffer
	err := Wait(context.Background(), client, "ns", []string{"done"}, WaitOptions{Interval: time.Millisecond, Done: &done})
	if err != nil || !strings.Contains(done.String(), `deployment "done" successfully rolled out`) {
		t.Fatalf("err %v, done %q", err, done.String())
	}
	err = Wait(context.Background(), client, "ns", []string{"done", "stuck"}, WaitOptions{Interval: time.Millisecond, Timeout: 20 * time.Millisecond, Progress: &progress})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "stuck: Waiting for deployment \"stuck\"") {
		t.Fatalf("err = %v", err)
	}
	if strings.Count(progress.String(), "\n") != 1 {
		t.Errorf("progress repeats unchanged messages: %q", progress.String())
	}
}
