package paged

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// pagingClient answers pod lists as an API server does: at most Limit items and a continue token
// (the next offset), and records each request.
func pagingClient(total int, fail error) (*fake.Clientset, *[]metav1.ListOptions) {
	client := fake.NewSimpleClientset()
	var seen []metav1.ListOptions
	client.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		opts := a.(k8stesting.ListActionImpl).ListOptions
		seen = append(seen, opts)
		if fail != nil && len(seen) == 2 {
			return true, nil, fail
		}
		start, _ := strconv.Atoi(opts.Continue)
		end := total
		if opts.Limit > 0 && start+int(opts.Limit) < total {
			end = start + int(opts.Limit)
		}
		list := &corev1.PodList{}
		for i := start; i < end; i++ {
			list.Items = append(list.Items, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%05d", i), Namespace: "ns", Labels: map[string]string{"app": "velero"},
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}}})
		}
		if end < total {
			list.Continue = strconv.Itoa(end)
		}
		return true, list, nil
	})
	return client, &seen
}

func TestPods(t *testing.T) {
	for _, tc := range []struct {
		total, wantRequests int
	}{{0, 1}, {1, 1}, {PageSize, 1}, {PageSize + 1, 2}, {2000, 4}} {
		t.Run(strconv.Itoa(tc.total), func(t *testing.T) {
			client, seen := pagingClient(tc.total, nil)
			pods, err := Pods(context.Background(), client, "ns", metav1.ListOptions{LabelSelector: "app=velero"})
			if err != nil {
				t.Fatal(err)
			}
			if len(pods) != tc.total || len(*seen) != tc.wantRequests {
				t.Fatalf("%d pods in %d requests, want %d in %d", len(pods), len(*seen), tc.total, tc.wantRequests)
			}
			for i, p := range pods {
				if p.Name != fmt.Sprintf("p%05d", i) || p.ManagedFields != nil {
					t.Fatalf("pod %d: %s, managedFields %v", i, p.Name, p.ManagedFields)
				}
			}
			for _, o := range *seen {
				if o.Limit != PageSize || o.LabelSelector != "app=velero" {
					t.Fatalf("request %+v: want limit %d and the caller's selector", o, PageSize)
				}
			}
		})
	}
}

func TestPodsPageError(t *testing.T) {
	boom := errors.New("the API server went away")
	client, _ := pagingClient(2000, boom)
	if pods, err := Pods(context.Background(), client, "ns", metav1.ListOptions{}); !errors.Is(err, boom) || pods != nil {
		t.Fatalf("got %d pods, %v; want the second page's error", len(pods), err)
	}
}
