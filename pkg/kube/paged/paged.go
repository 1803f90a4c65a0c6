// Package paged reads long lists from the API server a page at a time: a namespace with thousands of
// pods costs several bounded responses instead of one response of its whole size.
package paged

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// PageSize is how many objects one list request asks for.
const PageSize = 500

// Pods lists the pods of namespace ns that opts selects, PageSize at a time, following the continue
// tokens. The managedFields, which no check reads, are dropped as each page arrives.
func Pods(ctx context.Context, client kubernetes.Interface, ns string, opts metav1.ListOptions) ([]corev1.Pod, error) {
	opts.Limit = PageSize
	var pods []corev1.Pod
	for {
		page, err := client.CoreV1().Pods(ns).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for i := range page.Items {
			page.Items[i].ManagedFields = nil
		}
		pods = append(pods, page.Items...)
		if page.Continue == "" {
			return pods, nil
		}
		opts.Continue = page.Continue
	}
}
