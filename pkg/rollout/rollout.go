// Package rollout restarts workloads (Deployments, DaemonSets, StatefulSets) and waits for their
// rollouts, with kubectl's semantics.
package rollout

import (
	"context"
	"errors"
	"fmt"
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

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
