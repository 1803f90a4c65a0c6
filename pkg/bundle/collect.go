package bundle

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
)

// PageSize is how many objects one list request asks for: a namespace with thousands of pods is read
// page by page.
const PageSize = 500

// LogReader opens the recent log of one container.
type LogReader func(ctx context.Context, namespace, pod, container string, since time.Duration) (io.ReadCloser, error)

// Source says what to collect from the cluster.
type Source struct {
	Client    kubernetes.Interface
	Dynamic   dynamic.Interface
	Namespace string
	// Workloads are the names of the component's workloads; their pods' logs are collected.
	Workloads []string
	Logs      LogReader
	// LogSince and LogBytes bound each container's log: the most recent LogBytes within LogSince.
	LogSince time.Duration
	LogBytes int
}

var bslResource = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backupstoragelocations"}

// Collect adds the namespace's objects, events and the component's logs to the archive. A read that
// fails (forbidden, not installed) is recorded in the manifest and the rest goes on; only a failing
// archive write stops it.
func Collect(ctx context.Context, a *Archive, src Source) error {
	var logPods []corev1.Pod
	steps := []struct {
		name, about, apiVersion, kind string
		list                          func(ctx context.Context, opts metav1.ListOptions) ([]any, string, error)
	}{
		{"objects/backupstoragelocations.yaml", "the namespace's BackupStorageLocations", "velero.io/v1", "BackupStorageLocation", func(ctx context.Context, opts metav1.ListOptions) ([]any, string, error) {
			l, err := src.Dynamic.Resource(bslResource).Namespace(src.Namespace).List(ctx, opts)
			if err != nil {
				return nil, "", err
			}
			out := make([]any, 0, len(l.Items))
			for i := range l.Items {
				out = append(out, l.Items[i].Object)
			}
			return out, l.GetContinue(), nil
		}},
		{"objects/serviceaccounts.yaml", "the namespace's ServiceAccounts", "v1", "ServiceAccount", listTyped(func(ctx context.Context, o metav1.ListOptions) ([]corev1.ServiceAccount, string, error) {
			l, err := src.Client.CoreV1().ServiceAccounts(src.Namespace).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		})},
		{"objects/deployments.yaml", "the namespace's Deployments", "apps/v1", "Deployment", listTyped(func(ctx context.Context, o metav1.ListOptions) ([]appsv1.Deployment, string, error) {
			l, err := src.Client.AppsV1().Deployments(src.Namespace).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		})},
		{"objects/daemonsets.yaml", "the namespace's DaemonSets", "apps/v1", "DaemonSet", listTyped(func(ctx context.Context, o metav1.ListOptions) ([]appsv1.DaemonSet, string, error) {
			l, err := src.Client.AppsV1().DaemonSets(src.Namespace).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		})},
		{"objects/statefulsets.yaml", "the namespace's StatefulSets", "apps/v1", "StatefulSet", listTyped(func(ctx context.Context, o metav1.ListOptions) ([]appsv1.StatefulSet, string, error) {
			l, err := src.Client.AppsV1().StatefulSets(src.Namespace).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		})},
		{"objects/pods.yaml", "the namespace's Pods", "v1", "Pod", listTyped(func(ctx context.Context, o metav1.ListOptions) ([]corev1.Pod, string, error) {
			l, err := src.Client.CoreV1().Pods(src.Namespace).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			for _, p := range l.Items {
				if ownedBy(p, src.Workloads) {
					logPods = append(logPods, p)
				}
			}
			return l.Items, l.Continue, nil
		})},
		{"events.yaml", "the namespace's events", "v1", "Event", listTyped(func(ctx context.Context, o metav1.ListOptions) ([]corev1.Event, string, error) {
			l, err := src.Client.CoreV1().Events(src.Namespace).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		})},
	}
	for _, step := range steps {
		items, err := listAll(ctx, step.list, step.apiVersion, step.kind)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			a.Skip(step.name, describeReadError(err))
			continue
		}
		if err := a.AddYAML(step.name, step.about, map[string]any{"apiVersion": "v1", "kind": "List", "items": items}); err != nil {
			return err
		}
	}
	return collectLogs(ctx, a, src, logPods)
}

// listTyped adapts a typed list call: each item becomes a sanitized unstructured map.
func listTyped[T any](list func(context.Context, metav1.ListOptions) ([]T, string, error)) func(context.Context, metav1.ListOptions) ([]any, string, error) {
	return func(ctx context.Context, opts metav1.ListOptions) ([]any, string, error) {
		items, next, err := list(ctx, opts)
		if err != nil {
			return nil, "", err
		}
		out := make([]any, 0, len(items))
		for i := range items {
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&items[i])
			if err != nil {
				return nil, "", fmt.Errorf("converting an object: %w", err)
			}
			out = append(out, m)
		}
		return out, next, nil
	}
}

// listAll follows continue tokens; each item is sanitized as it arrives.
func listAll(ctx context.Context, list func(context.Context, metav1.ListOptions) ([]any, string, error), apiVersion, kind string) ([]any, error) {
	var all []any
	opts := metav1.ListOptions{Limit: PageSize}
	for {
		items, next, err := list(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				sanitize(m)
				// Typed lists leave each item's type empty; kubectl prints it.
				if m["kind"] == nil {
					m["apiVersion"], m["kind"] = apiVersion, kind
				}
			}
			all = append(all, it)
		}
		if next == "" {
			return all, nil
		}
		opts.Continue = next
	}
}

// sanitize drops what repeats the object in full (last-applied-configuration can carry every env
// value) or only adds noise (managedFields), and masks each name/value pair whose name says it holds
// a secret (env entries), since the value alone does not look like one.
func sanitize(obj map[string]any) {
	if md, ok := obj["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
		}
	}
	maskNamedValues(obj, 0)
}

func maskNamedValues(v any, depth int) {
	if depth > 64 {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		if name, ok := t["name"].(string); ok {
			if value, ok := t["value"].(string); ok {
				t["value"] = redact.Value(name, value)
			}
		}
		for _, child := range t {
			maskNamedValues(child, depth+1)
		}
	case []any:
		for _, child := range t {
			maskNamedValues(child, depth+1)
		}
	}
}

// ownedBy reports whether the pod belongs to one of the workloads: directly (DaemonSet, StatefulSet)
// or through a Deployment's ReplicaSet, named <deployment>-<hash>.
func ownedBy(p corev1.Pod, workloads []string) bool {
	for _, ref := range p.OwnerReferences {
		for _, w := range workloads {
			if ref.Name == w || (ref.Kind == "ReplicaSet" && strings.HasPrefix(ref.Name, w+"-")) {
				return true
			}
		}
	}
	return false
}

func collectLogs(ctx context.Context, a *Archive, src Source, pods []corev1.Pod) error {
	if src.Logs == nil {
		return nil
	}
	if len(pods) == 0 {
		a.Skip("logs/", fmt.Sprintf("no pods of %s in namespace %s", strings.Join(src.Workloads, ", "), src.Namespace))
	}
	for _, p := range pods {
		for _, c := range p.Spec.Containers {
			name := fmt.Sprintf("logs/%s/%s.log", p.Name, c.Name)
			text, err := readLog(ctx, src, p.Name, c.Name)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				a.Skip(name, describeReadError(err))
				continue
			}
			if err := a.AddText(name, fmt.Sprintf("the last %s of container %s (at most %d bytes)", src.LogSince, c.Name, src.LogBytes), text); err != nil {
				return err
			}
		}
	}
	return nil
}

// readLog keeps the most recent LogBytes of whole lines, so that no line (and no secret in it) is cut.
func readLog(ctx context.Context, src Source, pod, container string) ([]byte, error) {
	rc, err := src.Logs(ctx, src.Namespace, pod, container, src.LogSince)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var lines []string
	size := 0
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text() + "\n"
		lines = append(lines, line)
		size += len(line)
		for size > src.LogBytes && len(lines) > 0 {
			size -= len(lines[0])
			lines = lines[1:]
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		// Say where the log stops instead of ending it silently at an endless line.
		lines = append(lines, "[aksbackup bundle: a line longer than 1 MiB stopped the reading of this log here]\n")
	} else if err != nil {
		return nil, err
	}
	return []byte(strings.Join(lines, "")), nil
}

func describeReadError(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return "forbidden: " + err.Error()
	case apierrors.IsNotFound(err):
		return "not found (is the API installed?): " + err.Error()
	default:
		return err.Error()
	}
}
