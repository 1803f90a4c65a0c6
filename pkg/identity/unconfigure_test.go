package identity

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/rollout"
)

// clusterState renders what configure and unconfigure may touch: each service account's and
// deployment's labels and annotations, and each deployment's spec. Server-managed fields
// (resourceVersion, managedFields, status) are left out, as in the e2e round trip.
func clusterState(t *testing.T, client kubernetes.Interface, p profile.Profile) string {
	t.Helper()
	ctx := context.Background()
	state := map[string]any{}
	for _, pair := range p.Pairs {
		sa, err := client.CoreV1().ServiceAccounts(p.Namespace).Get(ctx, pair.ServiceAccount, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d, err := client.AppsV1().Deployments(p.Namespace).Get(ctx, pair.Workload.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		state["sa/"+sa.Name] = metav1.ObjectMeta{Labels: sa.Labels, Annotations: sa.Annotations}
		state["deploy/"+d.Name] = map[string]any{"metadata": metav1.ObjectMeta{Labels: d.Labels, Annotations: d.Annotations}, "spec": d.Spec}
	}
	data, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// replacePods stands in for the deployment controller and the webhook, which the fake clientset
// lacks: each deployment's pods are replaced by one made from its current template, injected when
// labelled, with the service account's client ID.
func replacePods(t *testing.T, client kubernetes.Interface, p profile.Profile) {
	t.Helper()
	ctx := context.Background()
	for _, pair := range p.Pairs {
		d, _ := client.AppsV1().Deployments(p.Namespace).Get(ctx, pair.Workload.Name, metav1.GetOptions{})
		sa, _ := client.CoreV1().ServiceAccounts(p.Namespace).Get(ctx, pair.ServiceAccount, metav1.GetOptions{})
		_ = client.CoreV1().Pods(p.Namespace).Delete(ctx, pair.Workload.Name+"-abc", metav1.DeleteOptions{})
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pair.Workload.Name + "-abc", Namespace: p.Namespace, Labels: copyMap(d.Spec.Template.Labels)},
			Spec: *d.Spec.Template.Spec.DeepCopy(), Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		if pod.Labels[LabelUse] == "true" {
			inject(pod, sa.Annotations[AnnotationClientID], TokenPaths[1])
		}
		if _, err := client.CoreV1().Pods(p.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func actions(cp *UnconfigurePlan) map[string]int {
	out := map[string]int{}
	for _, c := range cp.Changes {
		out[c.Phase+" "+c.Action]++
	}
	return out
}

// configureAndRoll runs configure's plan, replaces the pods as the rollout would, calls between
// (nil to skip), and returns the snapshot unconfigure plans from.
func configureAndRoll(t *testing.T, client kubernetes.Interface, p profile.Profile, between func()) *Snapshot {
	t.Helper()
	ctx := context.Background()
	snap, err := Read(ctx, client, p)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := PlanConfigure(client, snap, ConfigureRequest{Profile: p, ClientID: testClientID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.Execute(ctx, false); err != nil {
		t.Fatal(err)
	}
	replacePods(t, client, p)
	if between != nil {
		between()
	}
	if snap, err = Read(ctx, client, p); err != nil {
		t.Fatal(err)
	}
	return snap
}

func configureThenPlanUnconfigure(t *testing.T, client kubernetes.Interface, p profile.Profile, between func()) *UnconfigurePlan {
	t.Helper()
	snap := configureAndRoll(t, client, p, between)
	return PlanUnconfigure(client, snap, UnconfigureRequest{Profile: p, ClientID: testClientID, Now: now.Add(time.Hour)})
}

// labelledBy gives each deployment's pod-template label to another field manager, as when Helm
// installed the chart with the label already in its values.
func labelledBy(manager string) option {
	return func(w *world) {
		for _, d := range w.deps {
			d.Spec.Template.Labels[LabelUse] = "true"
			d.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "apps/v1", FieldsType: "FieldsV1",
				FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:template":{"f:metadata":{"f:labels":{"f:` + LabelUse + `":{}}}}}}`)}}}
		}
	}
}

func TestUnconfigureRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		opts []option
		want map[string]int
	}{
		{
			name: "unwired: the annotation and label go, the template change rolls the pods",
			want: map[string]int{"service-account remove": 3, "pod-label remove": 3, "restart rollout": 3},
		},
		{
			name: "label set by Helm: it stays; the annotation goes and the restartedAt configure stamped goes as the restart",
			opts: []option{labelledBy("helm")},
			want: map[string]int{"service-account remove": 3, "pod-label keep": 3, "restart remove": 3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(aksProfile(), append(tc.opts, withPods(TokenPaths[1]))...)
			client := fake.NewClientset(w.objects()...)
			before := clusterState(t, client, w.prof)
			up := configureThenPlanUnconfigure(t, client, w.prof, nil)
			if clusterState(t, client, w.prof) == before {
				t.Fatal("configure changed nothing: the round trip would prove nothing")
			}
			if got := actions(up); len(got) != len(tc.want) {
				t.Fatalf("plan %v, want %v", got, tc.want)
			} else {
				for k, n := range tc.want {
					if got[k] != n {
						t.Fatalf("plan %v, want %v", got, tc.want)
					}
				}
			}
			if len(up.Rollouts) != 3 {
				t.Errorf("rollouts %v", up.Rollouts)
			}
			if err := up.Execute(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			if after := clusterState(t, client, w.prof); after != before {
				t.Fatalf("round trip differs:\nbefore %s\nafter  %s", before, after)
			}
			replacePods(t, client, w.prof)
			snap, _ := Read(context.Background(), client, w.prof)
			if again := PlanUnconfigure(client, snap, UnconfigureRequest{Profile: w.prof, ClientID: testClientID, Now: now}); !again.Empty() {
				t.Fatalf("rerun plans %v", actions(again))
			}
		})
	}
}

// TestUnconfigureKeepsChangedValues: a client ID changed by hand after configure stays, with the
// reason; the other pairs are undone.
func TestUnconfigureKeepsChangedValues(t *testing.T) {
	w := newWorld(aksProfile(), withPods(TokenPaths[1]))
	client := fake.NewClientset(w.objects()...)
	ctx := context.Background()
	changed := w.prof.Pairs[0].ServiceAccount
	up := configureThenPlanUnconfigure(t, client, w.prof, func() {
		sa, _ := client.CoreV1().ServiceAccounts(testNS).Get(ctx, changed, metav1.GetOptions{})
		sa.Annotations[AnnotationClientID] = otherClient
		if _, err := client.CoreV1().ServiceAccounts(testNS).Update(ctx, sa, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
	})
	if got := actions(up); got["service-account remove"] != 2 || got["service-account keep"] != 1 {
		t.Fatalf("plan %v", got)
	}
	for _, c := range up.Changes {
		if c.Action == plan.ActionKeep && (c.Object != "serviceaccount/"+changed || !strings.Contains(c.Reason, "holds "+otherClient) || c.Apply != nil) {
			t.Errorf("keep row %+v", c)
		}
	}
	if err := up.Execute(ctx, false); err != nil {
		t.Fatal(err)
	}
	sa, _ := client.CoreV1().ServiceAccounts(testNS).Get(ctx, changed, metav1.GetOptions{})
	if sa.Annotations[AnnotationClientID] != otherClient {
		t.Errorf("the hand-set client ID was removed: %v", sa.Annotations)
	}
}

// TestUnconfigureSameValueOtherManager: an annotation holding configure's value, but set by
// someone else (kubectl annotate), is not configure's to remove; without managedFields the value
// alone decides.
func TestUnconfigureSameValueOtherManager(t *testing.T) {
	w := newWorld(aksProfile(), wired(testClientID), withPods(TokenPaths[1]))
	for _, sa := range w.sas {
		sa.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl-annotate", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", FieldsType: "FieldsV1",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:annotations":{"f:` + AnnotationClientID + `":{}}}}`)}}}
	}
	// The deployments carry no managedFields (an API server that does not track them): the value decides.
	up := PlanUnconfigure(nil, w.snapshot(), UnconfigureRequest{Profile: w.prof, ClientID: testClientID, Now: now})
	if got := actions(up); got["service-account keep"] != 3 || got["service-account remove"] != 0 || got["pod-label remove"] != 3 {
		t.Fatalf("plan %v", got)
	}
	if !strings.Contains(up.Changes[0].Reason, "set by kubectl-annotate, not by configure") {
		t.Errorf("reason %q", up.Changes[0].Reason)
	}
}

func TestUnconfigureSkipRestartWarns(t *testing.T) {
	w := newWorld(aksProfile(), labelledBy("helm"), withPods(TokenPaths[1]))
	client := fake.NewClientset(w.objects()...)
	ctx := context.Background()
	snap := configureAndRoll(t, client, w.prof, nil)
	up := PlanUnconfigure(client, snap, UnconfigureRequest{Profile: w.prof, ClientID: testClientID, Skip: map[string]bool{PhaseRestart: true}, Now: now})
	if got := actions(up); got["restart remove"]+got["restart restart"] != 0 || len(up.Rollouts) != 0 {
		t.Fatalf("skipped restart still planned: %v", got)
	}
	if !strings.Contains(strings.Join(up.Warnings, "\n"), "phase restart is skipped") {
		t.Errorf("warnings %q", up.Warnings)
	}
	d, _ := client.AppsV1().Deployments(testNS).Get(ctx, w.prof.Pairs[0].Workload.Name, metav1.GetOptions{})
	if d.Spec.Template.Annotations[rollout.RestartedAtAnnotation] == "" {
		t.Fatal("configure did not stamp restartedAt: the case tests nothing")
	}
}

func TestFieldManagers(t *testing.T) {
	entries := []metav1.ManagedFieldsEntry{
		{Manager: "b", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:annotations":{"f:x":{}}}}`)}},
		{Manager: "a", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:annotations":{"f:x":{},"f:y":{}}}}`)}},
		{Manager: "c", Subresource: "status", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:annotations":{"f:x":{}}}}`)}},
		{Manager: "d", FieldsV1: &metav1.FieldsV1{Raw: []byte(`not json`)}},
	}
	if got := strings.Join(FieldManagers(entries, "metadata", "annotations", "x"), ","); got != "a,b" {
		t.Errorf("x: %s", got)
	}
	if got := FieldManagers(entries, "metadata", "annotations", "z"); len(got) != 0 {
		t.Errorf("z: %v", got)
	}
}

// TestUnconfigureSharedServiceAccount: two workloads running as one service account (Velero's
// server and node-agent) give one annotation removal and a label removal per workload.
func TestUnconfigureSharedServiceAccount(t *testing.T) {
	p, err := profile.Resolve(profile.Selection{ServiceAccounts: []string{"velero", "velero"}, Workloads: []string{"deployment/velero", "deployment/velero-worker"}, Namespace: "velero"})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(p, wired(testClientID), withPods(TokenPaths[1]))
	up := PlanUnconfigure(nil, w.snapshot(), UnconfigureRequest{Profile: p, ClientID: testClientID, Now: now})
	if got := actions(up); got["service-account remove"] != 1 || got["pod-label remove"] != 2 || got["restart rollout"] != 2 || len(up.Changes) != 5 {
		t.Fatalf("plan %v", got)
	}
}
