package plugin

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// podController builds the pair's workload in the kind the profile names, rolled out, with one
// desired pod (a DaemonSet on one node).
func podController(w profile.Workload, meta metav1.ObjectMeta, template corev1.PodTemplateSpec) runtime.Object {
	selector := &metav1.LabelSelector{MatchLabels: template.Labels}
	meta.Name = w.Name
	if meta.Generation == 0 {
		meta.Generation = 1
	}
	switch w.Kind {
	case profile.KindDaemonSet:
		return &appsv1.DaemonSet{ObjectMeta: meta,
			Spec: appsv1.DaemonSetSpec{Selector: selector, Template: template,
				UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}},
			Status: appsv1.DaemonSetStatus{ObservedGeneration: meta.Generation, DesiredNumberScheduled: 1, CurrentNumberScheduled: 1,
				UpdatedNumberScheduled: 1, NumberAvailable: 1, NumberReady: 1}}
	case profile.KindStatefulSet:
		return &appsv1.StatefulSet{ObjectMeta: meta,
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](1), Selector: selector, Template: template,
				UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType}},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: meta.Generation, Replicas: 1, ReadyReplicas: 1, UpdatedReplicas: 1,
				CurrentReplicas: 1, CurrentRevision: "r1", UpdateRevision: "r1"}}
	}
	return &appsv1.Deployment{ObjectMeta: meta,
		Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: selector, Template: template},
		Status: appsv1.DeploymentStatus{ObservedGeneration: meta.Generation, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}}
}

// veleroProfileObjects are the velero profile's objects, un-wired: Deployment velero and DaemonSet
// node-agent, both running as service account velero, one pod each.
func veleroProfileObjects() []runtime.Object {
	p, _ := profile.Resolve(profile.Selection{Profile: "velero"})
	objs := []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: p.Namespace}}}
	for _, pair := range p.Pairs {
		labels := map[string]string{"app": pair.Workload.Name}
		spec := corev1.PodSpec{ServiceAccountName: pair.ServiceAccount, Containers: []corev1.Container{{Name: pair.Workload.Name}}}
		objs = append(objs,
			podController(pair.Workload, metav1.ObjectMeta{Namespace: p.Namespace}, corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}),
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pair.Workload.Name + "-1", Namespace: p.Namespace, Labels: labels}, Spec: spec,
				Status: corev1.PodStatus{Phase: corev1.PodRunning}})
	}
	return objs
}

// hasServiceAccount says whether objs already hold the service account (pairs may share one).
func hasServiceAccount(objs []runtime.Object, name string) bool {
	for _, o := range objs {
		if sa, ok := o.(*corev1.ServiceAccount); ok && sa.Name == name {
			return true
		}
	}
	return false
}

// allowAll is a fake cluster holding objs where every access review is allowed.
func allowAll(objs ...runtime.Object) *fake.Clientset {
	client := fake.NewClientset(objs...)
	client.PrependReactor("create", "selfsubjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		review := action.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview)
		review.Status.Allowed = true
		return true, review, nil
	})
	return client
}

func TestRestartDaemonSet(t *testing.T) {
	f := &fakeFactory{client: allowAll(veleroProfileObjects()...)}
	out, _, err := run(t, f, "", "restart", "--profile", "velero", "--wait=false")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"deployment.apps/velero restarted", "daemonset.apps/node-agent restarted"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	ds, _ := f.client.AppsV1().DaemonSets("velero").Get(t.Context(), "node-agent", metav1.GetOptions{})
	if ds.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Errorf("daemonset template not stamped: %v", ds.Spec.Template.Annotations)
	}
	out, _, err = run(t, f, "", "restart", "--profile", "velero", "--timeout", "5s")
	if err != nil || !strings.Contains(out, `daemon set "node-agent" successfully rolled out`) {
		t.Fatalf("wait: %v\n%s", err, out)
	}
}

func TestStatusAndConfigureVeleroWorkloads(t *testing.T) {
	f := &fakeFactory{client: allowAll(veleroProfileObjects()...)}
	out, _, err := run(t, f, "", "identity", "status", "--profile", "velero", "--no-azure")
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("status: %v\n%s", err, out)
	}
	for _, want := range []string{"daemonset/node-agent", "deployment/velero", "wi-label-missing"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	out, _, err = run(t, f, "", "identity", "configure", "--profile", "velero", "--no-azure", "--client-id", "0a1b2c3d-0000-4000-8000-000000000003", "--yes", "--wait=false")
	if err != nil {
		t.Fatalf("configure: %v\n%s", err, out)
	}
	ds, _ := f.client.AppsV1().DaemonSets("velero").Get(t.Context(), "node-agent", metav1.GetOptions{})
	if ds.Spec.Template.Labels["azure.workload.identity/use"] != "true" {
		t.Errorf("daemonset template not labelled: %v\n%s", ds.Spec.Template.Labels, out)
	}
}
