package bsl

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
)

// WaitOptions tunes Wait.
type WaitOptions struct {
	// Resync re-judges the locations this often without a change: staleness grows with time alone.
	Resync time.Duration
	// Now is the clock the reports are judged at.
	Now func() time.Time
	// Progress sees every report, the first one included.
	Progress func(*Report)
	// Notice hears why the watch was refused, when Wait polls instead.
	Notice func(reason error)
}

// Wait watches the namespace's locations (or the one named) until every one is Available, and
// returns the last report. When ctx ends first, it returns that report with ctx's error.
func Wait(ctx context.Context, client dynamic.Interface, namespace, name string, opts WaitOptions) (*Report, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	resource := client.Resource(Resource).Namespace(namespace)
	selector := func(o *metav1.ListOptions) {
		if name != "" {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			selector(&o)
			return resource.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			selector(&o)
			return resource.Watch(ctx, o)
		},
	}
	var last *Report
	err := kube.WaitForObjects(ctx, lw, &unstructured.Unstructured{}, opts.Resync, opts.Notice, func(objs []runtime.Object) (bool, error) {
		var items []unstructured.Unstructured
		for _, o := range objs {
			if u, ok := o.(*unstructured.Unstructured); ok && (name == "" || u.GetName() == name) {
				items = append(items, *u)
			}
		}
		rep, err := fromItems(namespace, items, opts.Now())
		if err != nil {
			return false, err
		}
		last = rep
		if opts.Progress != nil {
			opts.Progress(rep)
		}
		return rep.AllAvailable(), nil
	})
	if err != nil && last == nil {
		return nil, fmt.Errorf("waiting for the BackupStorageLocations in namespace %s: %w", namespace, err)
	}
	return last, err
}
