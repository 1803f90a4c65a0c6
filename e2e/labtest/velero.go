package labtest

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/velerolab"
)

// BSLStatus is what the lab's Velero sets on a BackupStorageLocation.
type BSLStatus struct {
	Phase, Message     string
	LastValidationTime time.Time
	LastSyncedTime     time.Time
}

// BSL reads a BackupStorageLocation's status.
func (l *Lab) BSL(t testing.TB, ns, name string) BSLStatus {
	t.Helper()
	st, err := l.bsl(context.Background(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (l *Lab) bsl(ctx context.Context, ns, name string) (BSLStatus, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", l.Kubeconfig)
	if err != nil {
		return BSLStatus{}, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return BSLStatus{}, err
	}
	u, err := dyn.Resource(velerolab.BSLResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return BSLStatus{}, err
	}
	status, _ := u.Object["status"].(map[string]any)
	var st BSLStatus
	st.Phase, _ = status["phase"].(string)
	st.Message, _ = status["message"].(string)
	for key, dst := range map[string]*time.Time{"lastValidationTime": &st.LastValidationTime, "lastSyncedTime": &st.LastSyncedTime} {
		if s, ok := status[key].(string); ok {
			*dst, _ = time.Parse(time.RFC3339, s)
		}
	}
	return st, nil
}

// WaitBSL waits until a validation that began after the call leaves a status that satisfies cond,
// and returns it. Velero stamps lastValidationTime in whole seconds when a validation ends, so a
// validation counts when its stamp is at least two seconds past the call's whole second.
func (l *Lab) WaitBSL(t testing.TB, ns, name string, timeout time.Duration, cond func(BSLStatus) bool) BSLStatus {
	t.Helper()
	after := time.Now().Truncate(time.Second).Add(2 * time.Second)
	var last BSLStatus
	var lastErr error
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		st, err := l.bsl(ctx, ns, name)
		if err != nil {
			lastErr = err
			return false, nil
		}
		last = st
		return !st.LastValidationTime.Before(after) && cond(st), nil
	})
	if err != nil {
		t.Fatalf("BackupStorageLocation %s/%s: no validation after %s gave the expected status in %s; last %+v (%v)", ns, name, after.Format(time.RFC3339), timeout, last, lastErr)
	}
	return last
}

// WaitBSLPhase waits until a validation that began after the call sets phase (Available or
// Unavailable), and returns the status message.
func (l *Lab) WaitBSLPhase(t testing.TB, ns, name, phase string, timeout time.Duration) string {
	t.Helper()
	return l.WaitBSL(t, ns, name, timeout, func(st BSLStatus) bool { return st.Phase == phase }).Message
}

// VeleroPod is the pod whose Velero validates the namespace's BSLs: the newest running pod with a
// velero container, one a ReplicaSet owns first.
func (l *Lab) VeleroPod(t testing.TB, ns string) string {
	t.Helper()
	pods, err := l.Clientset(t).CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var best *corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || !hasContainer(p, velerolab.VeleroContainer) {
			continue
		}
		if best == nil || preferred(p, best) {
			best = p
		}
	}
	if best == nil {
		t.Fatalf("no running pod with a %s container in namespace %s", velerolab.VeleroContainer, ns)
	}
	return best.Name
}

func hasContainer(p *corev1.Pod, name string) bool {
	for _, c := range p.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	return false
}

func preferred(a, b *corev1.Pod) bool {
	owned := func(p *corev1.Pod) bool {
		for _, o := range p.OwnerReferences {
			if o.Controller != nil && *o.Controller && o.Kind == "ReplicaSet" {
				return true
			}
		}
		return false
	}
	if oa, ob := owned(a), owned(b); oa != ob {
		return oa
	}
	return b.CreationTimestamp.Before(&a.CreationTimestamp)
}

// VeleroLogs is `kubectl logs <pod> -c velero` of the namespace's Velero pod, through the lab's
// kubectl, kwok's kubelet server and the log file the velero double writes.
func (l *Lab) VeleroLogs(t testing.TB, ns string) string {
	t.Helper()
	return l.PodLogs(t, ns, l.VeleroPod(t, ns), velerolab.VeleroContainer)
}

// PodLogs is `kubectl logs -n ns pod -c container`, failing the test when kubectl fails.
func (l *Lab) PodLogs(t testing.TB, ns, pod, container string, extraArgs ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"logs", "-n", ns, pod, "-c", container}, extraArgs...)
	cmd := exec.CommandContext(ctx, filepath.Join(l.BinDir, "kubectl"), args...)
	cmd.Env = []string{"KUBECONFIG=" + l.Kubeconfig, "HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}
