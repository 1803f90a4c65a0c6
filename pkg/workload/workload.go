// Package workload reads and patches the pod controllers a profile names (Deployments, DaemonSets,
// StatefulSets) through one view: their own metadata, pod template, selector and desired pod count.
package workload

import (
	"context"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// Object is one workload as the identity checks see it. Meta and Template point into Object, the typed
// API object, so they stay consistent with it.
type Object struct {
	Ref      profile.Workload
	Meta     *metav1.ObjectMeta
	Template *corev1.PodTemplateSpec
	Selector *metav1.LabelSelector
	// Desired is how many pods the workload wants: spec.replicas (1 when unset) for Deployments and
	// StatefulSets, status.desiredNumberScheduled (the nodes it fits) for DaemonSets.
	Desired int32
	// ScalesToZero is true for kinds whose pod count is a spec field (not DaemonSets), so that 0 pods
	// means "scaled down" rather than "no node fits".
	ScalesToZero bool
	Object       runtime.Object
}

// FromDeployment views a Deployment.
func FromDeployment(d *appsv1.Deployment) *Object {
	return &Object{Ref: profile.Workload{Kind: profile.KindDeployment, Name: d.Name}, Meta: &d.ObjectMeta, Template: &d.Spec.Template,
		Selector: d.Spec.Selector, Desired: replicasOrOne(d.Spec.Replicas), ScalesToZero: true, Object: d}
}

// FromDaemonSet views a DaemonSet.
func FromDaemonSet(ds *appsv1.DaemonSet) *Object {
	return &Object{Ref: profile.Workload{Kind: profile.KindDaemonSet, Name: ds.Name}, Meta: &ds.ObjectMeta, Template: &ds.Spec.Template,
		Selector: ds.Spec.Selector, Desired: ds.Status.DesiredNumberScheduled, Object: ds}
}

// FromStatefulSet views a StatefulSet.
func FromStatefulSet(s *appsv1.StatefulSet) *Object {
	return &Object{Ref: profile.Workload{Kind: profile.KindStatefulSet, Name: s.Name}, Meta: &s.ObjectMeta, Template: &s.Spec.Template,
		Selector: s.Spec.Selector, Desired: replicasOrOne(s.Spec.Replicas), ScalesToZero: true, Object: s}
}

func replicasOrOne(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// Get reads one workload by kind; the error is the API error (check it with apierrors.IsNotFound).
func Get(ctx context.Context, client kubernetes.Interface, namespace string, w profile.Workload) (*Object, error) {
	apps := client.AppsV1()
	switch w.Kind {
	case profile.KindDeployment:
		d, err := apps.Deployments(namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return FromDeployment(d), nil
	case profile.KindDaemonSet:
		ds, err := apps.DaemonSets(namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return FromDaemonSet(ds), nil
	case profile.KindStatefulSet:
		s, err := apps.StatefulSets(namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return FromStatefulSet(s), nil
	}
	return nil, unsupported(w)
}

// Patch sends a patch to the workload's own resource.
func Patch(ctx context.Context, client kubernetes.Interface, namespace string, w profile.Workload, pt types.PatchType, data []byte, opts metav1.PatchOptions) error {
	apps := client.AppsV1()
	var err error
	switch w.Kind {
	case profile.KindDeployment:
		_, err = apps.Deployments(namespace).Patch(ctx, w.Name, pt, data, opts)
	case profile.KindDaemonSet:
		_, err = apps.DaemonSets(namespace).Patch(ctx, w.Name, pt, data, opts)
	case profile.KindStatefulSet:
		_, err = apps.StatefulSets(namespace).Patch(ctx, w.Name, pt, data, opts)
	default:
		err = unsupported(w)
	}
	return err
}

// Resource is the API resource (plural, group apps) of a kind, for access checks.
func Resource(kind string) string {
	switch kind {
	case profile.KindDaemonSet:
		return "daemonsets"
	case profile.KindStatefulSet:
		return "statefulsets"
	}
	return "deployments"
}

// QualifiedRef is kubectl's resource.group/name form, as `kubectl rollout restart` prints it.
func QualifiedRef(w profile.Workload) string {
	return w.Resource() + ".apps/" + w.Name
}

func unsupported(w profile.Workload) error {
	return fmt.Errorf("workload %s: unsupported kind %q; use Deployment, DaemonSet or StatefulSet", w.Name, w.Kind)
}

// PodsOf returns the live pods the workload's selector matches, by name. Finished and terminating pods
// are left out: they will not run with the current wiring anyway.
func (o *Object) PodsOf(pods []corev1.Pod) []corev1.Pod {
	selector, err := metav1.LabelSelectorAsSelector(o.Selector)
	if err != nil || selector.Empty() {
		return nil
	}
	var out []corev1.Pod
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		if selector.Matches(labels.Set(pod.Labels)) {
			out = append(out, pod)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
