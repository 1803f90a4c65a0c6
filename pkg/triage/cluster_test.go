package triage

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestScanClusterBoundsTheLogsItReads(t *testing.T) {
	labels := map[string]string{"app": "velero"}
	objects := []runtime.Object{&appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: "velero"},
		Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}},
	}}
	for i := range 5 {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("velero-%d", i), Namespace: "velero", Labels: labels},
			Status: corev1.PodStatus{Phase: corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{{Name: "velero", Ready: true}}},
		}
		if i == 3 { // the replica that restarted must be read even though its name sorts late
			pod.Status.ContainerStatuses[0].RestartCount = 2
		}
		objects = append(objects, pod)
	}
	tests := []struct {
		name     string
		max      int
		wantRead []string
	}{
		{"all", 0, []string{"velero/velero-3", "velero/velero-0", "velero/velero-1", "velero/velero-2", "velero/velero-4"}},
		{"two, the restarted one first", 2, []string{"velero/velero-3", "velero/velero-0"}},
		{"more than there are", 9, []string{"velero/velero-3", "velero/velero-0", "velero/velero-1", "velero/velero-2", "velero/velero-4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(objects...)
			logReads := 0
			client.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
				if a.GetSubresource() == "log" {
					logReads++
				}
				return false, nil, nil
			})
			sources, err := NewAnalyzer(nil).ScanCluster(context.Background(), client, ClusterSource{
				Namespace: "velero", Deployments: []DeploymentLogs{{Name: "velero", Container: "velero"}}, MaxLogsPerDeployment: tt.max})
			if err != nil {
				t.Fatal(err)
			}
			var read []string
			notRead := 0
			for _, s := range sources {
				if s.Deployment != "velero" {
					t.Errorf("source %s names deployment %q", s.Pod, s.Deployment)
				}
				if s.NotRead {
					notRead++
				} else {
					read = append(read, s.Pod)
				}
			}
			if fmt.Sprint(read) != fmt.Sprint(tt.wantRead) {
				t.Errorf("read %v, want %v", read, tt.wantRead)
			}
			if len(read)+notRead != 5 {
				t.Errorf("%d sources read and %d not read, want all 5 pods named", len(read), notRead)
			}
			if logReads != len(tt.wantRead) {
				t.Errorf("%d log requests, want %d", logReads, len(tt.wantRead))
			}
		})
	}
}
