// Package rollout restarts deployments and waits for their rollouts, with kubectl's semantics.
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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/polymorphichelpers"
)

// RestartedAtAnnotation is the pod-template annotation `kubectl rollout restart` sets.
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// State reports whether a deployment's rollout is complete, with kubectl rollout status's message.
func State(d *appsv1.Deployment) (bool, string, error) {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
	if err != nil {
		return false, "", fmt.Errorf("converting deployment %s: %w", d.Name, err)
	}
	msg, done, err := (&polymorphichelpers.DeploymentStatusViewer{}).Status(&unstructured.Unstructured{Object: obj}, 0)
	return done, strings.TrimSpace(msg), err
}

// Restart triggers a new rollout the way `kubectl rollout restart` does: by stamping the pod template.
func Restart(ctx context.Context, client kubernetes.Interface, namespace, name string, now time.Time, dryRun bool) error {
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, RestartedAtAnnotation, now.Format(time.RFC3339))
	opts := metav1.PatchOptions{FieldManager: "kubectl-aksbackup"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if _, err := client.AppsV1().Deployments(namespace).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), opts); err != nil {
		return fmt.Errorf("restarting deployment %s/%s: %w", namespace, name, err)
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
	// Done receives one line per finished deployment when non-nil.
	Done io.Writer
}

// Wait blocks until every named deployment has rolled out, like `kubectl rollout status`, or the
// timeout passes. It prints progress only when the message changes.
func Wait(ctx context.Context, client kubernetes.Interface, namespace string, names []string, opts WaitOptions) error {
	if opts.Interval == 0 {
		opts.Interval = 500 * time.Millisecond
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	pending := map[string]string{}
	for _, n := range names {
		pending[n] = "waiting for the first status"
	}
	ticker := time.NewTicker(opts.Interval)
	defer ticker.Stop()
	for {
		for _, name := range sortedKeys(pending) {
			d, err := client.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return fmt.Errorf("reading deployment %s/%s while waiting: %w", namespace, name, err)
			}
			done, msg, err := State(d)
			if err != nil {
				return fmt.Errorf("deployment %s/%s: %w", namespace, name, err)
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
				return fmt.Errorf("%w after %s: %s; check `kubectl rollout status deployment -n %s <name>` and the pods' events", ErrTimeout, opts.Timeout, strings.Join(lines, "; "), namespace)
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
