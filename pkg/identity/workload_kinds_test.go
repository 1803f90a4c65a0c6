package identity

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/rollout"
)

// kindsWorld is a namespace with one service account shared by a Deployment, a DaemonSet and a
// StatefulSet, each with one running pod from its template; labelled says whether the templates
// (and so the pods) carry the workload identity label.
func kindsWorld(labelled bool) (profile.Profile, []runtime.Object) {
	const ns = "velero"
	p, err := profile.Resolve(profile.Selection{ServiceAccounts: []string{"velero", "velero", "velero"},
		Workloads: []string{"deployment/velero", "daemonset/node-agent", "statefulset/db"}, Namespace: ns})
	if err != nil {
		panic(err)
	}
	template := func(app string) corev1.PodTemplateSpec {
		l := map[string]string{"app": app}
		if labelled {
			l[LabelUse] = "true"
		}
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
			Spec: corev1.PodSpec{ServiceAccountName: "velero", Containers: []corev1.Container{{Name: app, Image: "example/" + app}}}}
	}
	selector := func(app string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	}
	sa := map[string]string{}
	if labelled {
		sa[AnnotationClientID] = testClientID
	}
	objs := []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: ns, Annotations: sa}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: ns, Generation: 1},
			Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: selector("velero"), Template: template("velero")},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}},
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "node-agent", Namespace: ns, Generation: 1},
			Spec: appsv1.DaemonSetSpec{Selector: selector("node-agent"), Template: template("node-agent"),
				UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}},
			Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 2, UpdatedNumberScheduled: 2, NumberAvailable: 2}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns, Generation: 1},
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](1), Selector: selector("db"), Template: template("db"),
				UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType}},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: 1, ReadyReplicas: 1, UpdatedReplicas: 1, CurrentRevision: "r1", UpdateRevision: "r1"}},
	}
	for _, app := range []string{"velero", "node-agent", "node-agent", "db"} {
		t := template(app)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: app + "-" + string(rune('a'+len(objs))), Namespace: ns, Labels: t.Labels},
			Spec: t.Spec, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		if labelled {
			inject(pod, testClientID, TokenPaths[0])
		}
		objs = append(objs, pod)
	}
	return p, objs
}

func TestWorkloadKindsAnalyze(t *testing.T) {
	tests := []struct {
		name     string
		labelled bool
		// wantObjects maps each finding ID expected to the objects it names.
		wantObjects map[string][]string
	}{
		{name: "unwired: every kind lacks the label", labelled: false, wantObjects: map[string][]string{
			catalog.WILabelMissing.ID: {"daemonset/node-agent", "deployment/velero", "statefulset/db"},
		}},
		{name: "wired: nothing to report", labelled: true, wantObjects: map[string][]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, objs := kindsWorld(tc.labelled)
			client := fake.NewClientset(objs...)
			snap, err := Read(context.Background(), client, p)
			if err != nil {
				t.Fatal(err)
			}
			st := Analyze(p, snap)
			got := map[string][]string{}
			for _, f := range st.Findings {
				if f.ID == catalog.WIClientIDMissing.ID || f.ID == catalog.WINotInjected.ID {
					continue // follow from the missing wiring; the test is about the kinds
				}
				got[f.ID] = append(got[f.ID], f.Object)
			}
			for id, objects := range tc.wantObjects {
				sort.Strings(got[id])
				if strings.Join(got[id], " ") != strings.Join(objects, " ") {
					t.Errorf("%s on %v, want %v", id, got[id], objects)
				}
			}
			for id := range got {
				if _, ok := tc.wantObjects[id]; !ok {
					t.Errorf("unexpected finding %s on %v", id, got[id])
				}
			}
			for _, c := range st.Components {
				if !c.WorkloadExists || !c.RolloutComplete {
					t.Errorf("%s: exists %v, rollout %v %q", c.Workload, c.WorkloadExists, c.RolloutComplete, c.RolloutMessage)
				}
				wantPods := map[string]int{"velero": 1, "node-agent": 2, "db": 1}[c.Workload.Name]
				if len(c.Pods) != wantPods {
					t.Errorf("%s: %d pods found by its selector, want %d", c.Workload, len(c.Pods), wantPods)
				}
			}
		})
	}
}

func TestWorkloadKindsConfigure(t *testing.T) {
	p, objs := kindsWorld(false)
	client := fake.NewClientset(objs...)
	ctx := context.Background()
	snap, err := Read(ctx, client, p)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := PlanConfigure(client, snap, ConfigureRequest{Profile: p, ClientID: testClientID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cp.Rollouts, " "); got != "deployment/velero daemonset/node-agent statefulset/db" {
		t.Errorf("rollouts %q", got)
	}
	var resources []string
	for _, a := range cp.Access {
		resources = append(resources, a.Resource)
	}
	if got := strings.Join(resources, " "); got != "serviceaccounts deployments daemonsets statefulsets" {
		t.Errorf("access checks %q", got)
	}
	if err := cp.Execute(ctx, false); err != nil {
		t.Fatal(err)
	}
	ds, _ := client.AppsV1().DaemonSets("velero").Get(ctx, "node-agent", metav1.GetOptions{})
	sts, _ := client.AppsV1().StatefulSets("velero").Get(ctx, "db", metav1.GetOptions{})
	for name, tmpl := range map[string]corev1.PodTemplateSpec{"daemonset": ds.Spec.Template, "statefulset": sts.Spec.Template} {
		if tmpl.Labels[LabelUse] != "true" || tmpl.Labels["app"] == "" {
			t.Errorf("%s template labels %v", name, tmpl.Labels)
		}
	}
}

// TestWorkloadKindsRestart: pods that predate the wiring get a restart through the pod template's
// restartedAt annotation, whatever the kind.
func TestWorkloadKindsRestart(t *testing.T) {
	p, objs := kindsWorld(false)
	client := fake.NewClientset(objs...)
	ctx := context.Background()
	// Label the templates only: the pods stay as they were, so a restart is due.
	for _, w := range []profile.Workload{profile.Deployment("velero"), {Kind: profile.KindDaemonSet, Name: "node-agent"}, {Kind: profile.KindStatefulSet, Name: "db"}} {
		if err := labelPodTemplate(client, "velero", w)(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.CoreV1().ServiceAccounts("velero").Patch(ctx, "velero", "application/merge-patch+json",
		[]byte(`{"metadata":{"annotations":{"`+AnnotationClientID+`":"`+testClientID+`"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	snap, err := Read(ctx, client, p)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := PlanConfigure(client, snap, ConfigureRequest{Profile: p, ClientID: testClientID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(cp); len(got) != 3 {
		t.Fatalf("changes %v, want one restart per workload", got)
	}
	if err := cp.Execute(ctx, false); err != nil {
		t.Fatal(err)
	}
	ds, _ := client.AppsV1().DaemonSets("velero").Get(ctx, "node-agent", metav1.GetOptions{})
	sts, _ := client.AppsV1().StatefulSets("velero").Get(ctx, "db", metav1.GetOptions{})
	for name, tmpl := range map[string]corev1.PodTemplateSpec{"daemonset": ds.Spec.Template, "statefulset": sts.Spec.Template} {
		if tmpl.Annotations[rollout.RestartedAtAnnotation] != now.Format(time.RFC3339) {
			t.Errorf("%s template annotations %v", name, tmpl.Annotations)
		}
	}
}
