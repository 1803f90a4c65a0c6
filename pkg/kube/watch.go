package kube

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// WatchCheck judges the objects a wait watches; done ends the wait, an error aborts it.
type WatchCheck func(objs []runtime.Object) (done bool, err error)

// WaitForObjects calls check with the objects lw lists each time the watch reports a change, and
// at the latest every resync (a check may depend on time alone), until check is done, fails, or ctx
// ends (then ctx's error is returned). It is kubectl's waiting: an informer, not a poll loop.
//
// When the API server refuses the watch (forbidden, or the resource does not support it), the wait
// still works: notice is told why, and check then runs on a fresh list every resync.
func WaitForObjects(ctx context.Context, lw cache.ListerWatcher, objType runtime.Object, resync time.Duration, notice func(reason error), check WatchCheck) error {
	if resync <= 0 {
		resync = 30 * time.Second
	}
	if refused := watchRefused(ctx, lw); refused != nil {
		if notice != nil {
			notice(refused)
		}
		return pollObjects(ctx, lw, resync, check)
	}
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default: // a check is already due; it reads the latest store
		}
	}
	store, controller := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    objType,
		ResyncPeriod:  resync,
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { notify() },
			UpdateFunc: func(any, any) { notify() },
			DeleteFunc: func(any) { notify() },
		},
	})
	informerCtx, stop := context.WithCancel(ctx)
	defer stop()
	go controller.RunWithContext(informerCtx)
	if !cache.WaitForCacheSync(ctx.Done(), controller.HasSynced) {
		return ctx.Err()
	}
	// An empty list sends no event; the first check runs regardless.
	notify()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
		var objs []runtime.Object
		for _, item := range store.List() {
			if o, ok := item.(runtime.Object); ok {
				objs = append(objs, o)
			}
		}
		if done, err := check(objs); done || err != nil {
			return err
		}
	}
}

// watchRefused opens and closes one watch, and returns why the server refused it, if it did.
func watchRefused(ctx context.Context, lw cache.ListerWatcher) error {
	opts := metav1.ListOptions{AllowWatchBookmarks: true, TimeoutSeconds: ptr.To[int64](1)}
	var w interface{ Stop() }
	var err error
	if lwc, ok := lw.(cache.ListerWatcherWithContext); ok {
		w, err = lwc.WatchWithContext(ctx, opts)
	} else {
		w, err = lw.Watch(opts)
	}
	if err == nil {
		w.Stop()
		return nil
	}
	if apierrors.IsForbidden(err) || apierrors.IsMethodNotSupported(err) {
		return err
	}
	return nil // anything else is the informer's to retry
}

func pollObjects(ctx context.Context, lw cache.ListerWatcher, interval time.Duration, check WatchCheck) error {
	return wait.PollUntilContextCancel(ctx, interval, true, func(ctx context.Context) (bool, error) {
		var list runtime.Object
		var err error
		if lwc, ok := lw.(cache.ListerWatcherWithContext); ok {
			list, err = lwc.ListWithContext(ctx, metav1.ListOptions{})
		} else {
			list, err = lw.List(metav1.ListOptions{})
		}
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, err
		}
		objs, err := meta.ExtractList(list)
		if err != nil {
			return false, fmt.Errorf("reading the list: %w", err)
		}
		return check(objs)
	})
}
