// Package rollout restarts workloads (Deployments, DaemonSets, StatefulSets) and waits for their
// rollouts, with kubectl's semantics.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/polymorphichelpers"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/workload"
)

// RestartedAtAnnotation is the pod-template annotation `kubectl rollout restart` sets.
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// State reports whether a workload's rollout is complete, as `kubectl rollout status` judges it:
// a Deployment by its updated and available replicas, a DaemonSet by updatedNumberScheduled and
// numberAvailable against desiredNumberScheduled, a StatefulSet by its ready and updated replicas and
// currentRevision == updateRevision. A DaemonSet or StatefulSet with the OnDelete strategy counts as
// rolled out: its pods change only when deleted, so there is nothing to wait for.
func State(o *workload.Object) (bool, string, error) {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.Object)
	if err != nil {
		return false, "", fmt.Errorf("converting %s: %w", o.Ref, err)
	}
	viewer, err := polymorphichelpers.StatusViewerFor(schema.GroupKind{Group: appsv1.GroupName, Kind: o.Ref.Kind})
	if err != nil {
		return false, "", err
	}
	msg, done, err := viewer.Status(&unstructured.Unstructured{Object: obj}, 0)
	if err != nil && done {
		return true, fmt.Sprintf("%s uses the OnDelete update strategy: its pods change only when deleted", o.Ref), nil
	}
	return done, strings.TrimSpace(msg), err
}

// Restart triggers a new rollout the way `kubectl rollout restart` does, for any workload kind: by
// stamping the pod template's restartedAt annotation.
func Restart(ctx context.Context, client kubernetes.Interface, namespace string, w profile.Workload, now time.Time, dryRun bool) error {
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, RestartedAtAnnotation, now.Format(time.RFC3339))
	opts := metav1.PatchOptions{FieldManager: "kubectl-aksbackup"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if err := workload.Patch(ctx, client, namespace, w, types.StrategicMergePatchType, []byte(patch), opts); err != nil {
		return fmt.Errorf("restarting %s in namespace %s: %w", w, namespace, err)
	}
	return nil
}

// ErrTimeout is returned when rollouts do not finish in time.
var ErrTimeout = errors.New("timed out waiting for rollout")

// WaitOptions tunes Wait.
type WaitOptions struct {
	Timeout time.Duration
	// Interval between polls; 0 means 500ms.
	Interval time.Duration
	// Progress receives kubectl-style progress lines when non-nil (callers pass it only on a terminal).
	Progress io.Writer
	// Done receives one line per finished workload when non-nil.
	Done io.Writer
}

// Wait blocks until every named workload has rolled out, like `kubectl rollout status`, or the
// timeout passes. refs are kubectl references (daemonset/node-agent); a bare name is a Deployment.
// It prints progress only when the message changes.
func Wait(ctx context.Context, client kubernetes.Interface, namespace string, refs []string, opts WaitOptions) error {
	if opts.Interval == 0 {
		opts.Interval = 500 * time.Millisecond
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	pending := map[string]string{}
	workloads := map[string]profile.Workload{}
	for _, ref := range refs {
		w, err := profile.ParseWorkload(ref)
		if err != nil {
			return err
		}
		pending[ref], workloads[ref] = "waiting for the first status", w
	}
	ticker := time.NewTicker(opts.Interval)
	defer ticker.Stop()
	for {
		for _, name := range sortedKeys(pending) {
			o, err := workload.Get(ctx, client, namespace, workloads[name])
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return fmt.Errorf("reading %s in namespace %s while waiting: %w", workloads[name], namespace, err)
			}
			done, msg, err := State(o)
			if err != nil {
				return fmt.Errorf("%s in namespace %s: %w", workloads[name], namespace, err)
			}
			if done {
				delete(pending, name)
				if opts.Done != nil {
					fmt.Fprintln(opts.Done, msg)
				}
				continue
			}
			if msg != pending[name] && opts.Progress != nil {
				fmt.Fprintln(opts.Progress, msg)
			}
			pending[name] = msg
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			var lines []string
			for _, name := range sortedKeys(pending) {
				lines = append(lines, fmt.Sprintf("%s: %s", name, pending[name]))
			}
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%w after %s: %s; check `kubectl rollout status -n %s %s` and the pods' events", ErrTimeout, opts.Timeout, strings.Join(lines, "; "), namespace, workloads[sortedKeys(pending)[0]])
			}
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
