package probekube

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe"
)

// CleanupPods deletes the verifier pods (found by label) created before cutoff.
func CleanupPods(ctx context.Context, client kubernetes.Interface, namespace string, cutoff time.Time, dryRun bool) ([]probe.Leftover, error) {
	pods, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelSelector("")})
	if err != nil {
		return nil, fmt.Errorf("listing verifier pods: %w", err)
	}
	var out []probe.Leftover
	for _, p := range pods.Items {
		if !p.CreationTimestamp.Time.Before(cutoff) {
			continue
		}
		l := probe.Leftover{Kind: "pod", Name: p.Namespace + "/" + p.Name, Where: "namespace " + p.Namespace, Created: p.CreationTimestamp.UTC()}
		if !dryRun {
			err := client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))})
			if err != nil && !apierrors.IsNotFound(err) {
				l.Error = probe.OneLine(err)
			} else {
				l.Deleted = true
			}
		}
		out = append(out, l)
	}
	return out, nil
}
