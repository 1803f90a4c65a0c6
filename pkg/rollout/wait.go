package rollout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/workload"
)

// WaitOptions tunes Wait.
type WaitOptions struct {
	Timeout time.Duration
	// Resync re-judges a workload this often without an event; 0 means 30s. Changes arrive by watch.
	Resync time.Duration
	// Progress receives kubectl-style progress lines when non-nil (callers pass it only on a terminal).
	Progress io.Writer
	// Done receives one line per finished workload when non-nil.
	Done io.Writer
	// Notice receives a line when the watch is refused and the wait polls instead.
	Notice io.Writer
}

// Wait blocks until every named workload has rolled out, like `kubectl rollout status`, or the
// timeout passes. refs are kubectl references (daemonset/node-agent); a bare name is a Deployment.
// It watches each workload (an informer with a resync, kube.WaitForObjects) and judges it with
// State on every change; it prints progress only when the message changes.
func Wait(ctx context.Context, client kubernetes.Interface, namespace string, refs []string, opts WaitOptions) error {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	var mu sync.Mutex
	pending := map[string]string{}
	workloads := map[string]profile.Workload{}
	for _, ref := range refs {
		w, err := profile.ParseWorkload(ref)
		if err != nil {
			return err
		}
		if _, _, err := listWatch(client, namespace, w); err != nil {
			return err
		}
		pending[ref], workloads[ref] = "waiting for the first status", w
	}
	printLine := func(w io.Writer, line string) {
		if w != nil {
			fmt.Fprintln(w, line)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(refs))
	for i, ref := range sortedKeys(pending) {
		w := workloads[ref]
		lw, objType, _ := listWatch(client, namespace, w)
		notice := func(reason error) {
			mu.Lock()
			defer mu.Unlock()
			printLine(opts.Notice, fmt.Sprintf("Cannot watch %s (%v); reading it every %s instead.", w, reason, resyncOr(opts.Resync)))
		}
		wg.Go(func() {
			errs[i] = kube.WaitForObjects(ctx, lw, objType, resyncOr(opts.Resync), notice, func(objs []runtime.Object) (bool, error) {
				o := find(objs, w.Name)
				if o == nil {
					return false, nil // not created yet, or recreated: wait for it
				}
				done, msg, err := State(o)
				if err != nil {
					return false, fmt.Errorf("%s in namespace %s: %w", w, namespace, err)
				}
				mu.Lock()
				defer mu.Unlock()
				if done {
					delete(pending, ref)
					printLine(opts.Done, msg)
					return true, nil
				}
				if msg != pending[ref] {
					printLine(opts.Progress, msg)
				}
				pending[ref] = msg
				return false, nil
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
	if len(pending) == 0 {
		return nil
	}
	var lines []string
	for _, name := range sortedKeys(pending) {
		lines = append(lines, fmt.Sprintf("%s: %s", name, pending[name]))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w after %s: %s; check `kubectl rollout status -n %s %s` and the pods' events", ErrTimeout, opts.Timeout, strings.Join(lines, "; "), namespace, workloads[sortedKeys(pending)[0]])
	}
	return ctx.Err()
}

func resyncOr(d time.Duration) time.Duration {
	if d <= 0 {
		return 30 * time.Second
	}
	return d
}

// find picks the named workload among the watched objects (a field selector narrows the watch on
// a real server; fakes may ignore it).
func find(objs []runtime.Object, name string) *workload.Object {
	for _, obj := range objs {
		switch o := obj.(type) {
		case *appsv1.Deployment:
			if o.Name == name {
				return workload.FromDeployment(o)
			}
		case *appsv1.DaemonSet:
			if o.Name == name {
				return workload.FromDaemonSet(o)
			}
		case *appsv1.StatefulSet:
			if o.Name == name {
				return workload.FromStatefulSet(o)
			}
		}
	}
	return nil
}

// listWatch lists and watches one workload by name.
func listWatch(client kubernetes.Interface, namespace string, w profile.Workload) (cache.ListerWatcher, runtime.Object, error) {
	byName := func(o metav1.ListOptions) metav1.ListOptions {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", w.Name).String()
		return o
	}
	var list func(context.Context, metav1.ListOptions) (runtime.Object, error)
	var watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error)
	var objType runtime.Object
	switch w.Kind {
	case profile.KindDeployment:
		c := client.AppsV1().Deployments(namespace)
		list = func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }
		watchFn, objType = c.Watch, &appsv1.Deployment{}
	case profile.KindDaemonSet:
		c := client.AppsV1().DaemonSets(namespace)
		list = func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }
		watchFn, objType = c.Watch, &appsv1.DaemonSet{}
	case profile.KindStatefulSet:
		c := client.AppsV1().StatefulSets(namespace)
		list = func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }
		watchFn, objType = c.Watch, &appsv1.StatefulSet{}
	default:
		return nil, nil, fmt.Errorf("waiting for %s: unsupported kind %s (deployment, daemonset or statefulset)", w, w.Kind)
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return list(ctx, byName(o)) },
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return watchFn(ctx, byName(o))
		},
	}, objType, nil
}
