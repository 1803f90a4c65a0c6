package identity

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

const (
	testNS       = "dataprotection-microsoft"
	testClientID = "11111111-2222-3333-4444-555555555555"
	otherClient  = "99999999-8888-7777-6666-555555555555"
	testTenantID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
)

func aksProfile() profile.Profile {
	p, err := profile.Resolve(profile.Selection{})
	if err != nil {
		panic(err)
	}
	return p
}

// world builds the cluster objects of a profile; options tweak it per test case.
type world struct {
	sas    map[string]*corev1.ServiceAccount
	deps   map[string]*appsv1.Deployment
	pods   []corev1.Pod
	objs   []runtime.Object
	prof   profile.Profile
	nsObj  *corev1.Namespace
	podsOf map[string][]*corev1.Pod
}

type option func(*world)

func newWorld(p profile.Profile, opts ...option) *world {
	w := &world{sas: map[string]*corev1.ServiceAccount{}, deps: map[string]*appsv1.Deployment{}, prof: p, podsOf: map[string][]*corev1.Pod{}}
	w.nsObj = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace}}
	for _, pair := range p.Pairs {
		w.sas[pair.ServiceAccount] = &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
			Name: pair.ServiceAccount, Namespace: p.Namespace,
			Labels:      map[string]string{"app.kubernetes.io/managed-by": "Helm", "team": "backup"},
			Annotations: map[string]string{"meta.helm.sh/release-name": "azure-aks-backup", "keep": "me"},
		}}
		containers := []corev1.Container{{Name: "main", Image: "example/main"}}
		if pair.StorageContainer != "" {
			containers = []corev1.Container{{Name: pair.StorageContainer, Image: "example/velero"}}
		}
		w.deps[pair.Workload.Name] = &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: pair.Workload.Name, Namespace: p.Namespace, Generation: 1,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "Helm"}},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": pair.Workload.Name}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": pair.Workload.Name, "tier": "backup"}},
					Spec:       corev1.PodSpec{ServiceAccountName: pair.ServiceAccount, Containers: containers},
				},
			},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1},
		}
	}
	for _, o := range opts {
		o(w)
	}
	return w
}

// withPods gives every deployment one running pod built from its current template, injected the way
// the webhook would if the template is labelled.
func withPods(tokenPath string) option {
	return func(w *world) {
		for _, pair := range w.prof.Pairs {
			d := w.deps[pair.Workload.Name]
			if d == nil {
				continue
			}
			sa := w.sas[pair.ServiceAccount]
			pod := corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: pair.Workload.Name + "-abc", Namespace: w.prof.Namespace,
					Labels: copyMap(d.Spec.Template.Labels), Annotations: copyMap(d.Spec.Template.Annotations),
					CreationTimestamp: metav1.NewTime(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC))},
				Spec:   *d.Spec.Template.Spec.DeepCopy(),
				Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
			}
			if pod.Labels[LabelUse] == "true" && sa != nil {
				inject(&pod, sa.Annotations[AnnotationClientID], tokenPath)
			}
			w.pods = append(w.pods, pod)
		}
	}
}

// inject mimics the webhook.
func inject(pod *corev1.Pod, clientID, tokenPath string) {
	dir, file := splitPath(tokenPath)
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if clientID != "" {
			c.Env = append(c.Env, corev1.EnvVar{Name: EnvClientID, Value: clientID})
		}
		c.Env = append(c.Env,
			corev1.EnvVar{Name: EnvTenantID, Value: testTenantID},
			corev1.EnvVar{Name: EnvTokenFile, Value: tokenPath},
			corev1.EnvVar{Name: EnvAuthorityHost, Value: "https://login.microsoftonline.com/"})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "azure-identity-token", MountPath: dir, ReadOnly: true})
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "azure-identity-token", VolumeSource: corev1.VolumeSource{
		Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
			Audience: TokenAudience, ExpirationSeconds: ptr.To[int64](3600), Path: file}}}}}})
}

func splitPath(p string) (string, string) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i], p[i+1:]
		}
	}
	return "", p
}

func wired(clientID string) option {
	return func(w *world) {
		for _, sa := range w.sas {
			sa.Annotations[AnnotationClientID] = clientID
		}
		for _, d := range w.deps {
			d.Spec.Template.Labels[LabelUse] = "true"
		}
	}
}

func (w *world) snapshot() *Snapshot {
	s := &Snapshot{Namespace: w.prof.Namespace, ServiceAccounts: w.sas, Deployments: w.deps, Pods: w.pods}
	return s
}

func (w *world) objects() []runtime.Object {
	out := []runtime.Object{w.nsObj}
	for _, sa := range w.sas {
		out = append(out, sa)
	}
	for _, d := range w.deps {
		out = append(out, d)
	}
	for i := range w.pods {
		out = append(out, &w.pods[i])
	}
	return out
}

func copyMap(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}
