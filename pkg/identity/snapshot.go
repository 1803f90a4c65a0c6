package identity

import (
	"context"
	"errors"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube/paged"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/workload"
)

// Snapshot is everything the identity checks read from the cluster, taken once so that analysis and
// planning are pure functions that tests can feed directly.
type Snapshot struct {
	Namespace       string
	ServiceAccounts map[string]*corev1.ServiceAccount
	// Workloads holds the profile's workloads of every kind that exist.
	Workloads map[profile.Workload]*workload.Object
	// Deployments repeats the Deployment-kind workloads by name, for code that handles only Deployments.
	Deployments map[string]*appsv1.Deployment
	Pods        []corev1.Pod
}

// Workload returns the workload a pair names, or nil when it does not exist. A snapshot built by hand
// with only Deployments still answers for Deployment-kind pairs.
func (s *Snapshot) Workload(w profile.Workload) *workload.Object {
	if o := s.Workloads[w]; o != nil {
		return o
	}
	if d := s.Deployments[w.Name]; d != nil && w.Kind == profile.KindDeployment {
		return workload.FromDeployment(d)
	}
	return nil
}

// ErrNamespaceNotFound means the profile's namespace does not exist.
var ErrNamespaceNotFound = errors.New("namespace not found")

// Read fetches the profile's objects in parallel: the namespace, each service account and workload,
// and the namespace's pods. Missing service accounts and workloads are left out of the maps; any
// other error is returned.
func Read(ctx context.Context, client kubernetes.Interface, p profile.Profile) (*Snapshot, error) {
	snap := &Snapshot{
		Namespace:       p.Namespace,
		ServiceAccounts: map[string]*corev1.ServiceAccount{},
		Workloads:       map[profile.Workload]*workload.Object{},
		Deployments:     map[string]*appsv1.Deployment{},
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	run := func(fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	run(func() error {
		_, err := client.CoreV1().Namespaces().Get(ctx, p.Namespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: %q does not exist; check -n, --profile and --context (profile %s expects namespace %q)", ErrNamespaceNotFound, p.Namespace, p.Name, p.Namespace)
		}
		if apierrors.IsForbidden(err) {
			return nil // Reading namespaces needs cluster scope; the namespaced reads below still tell.
		}
		return err
	})
	for _, pair := range p.Pairs {
		run(func() error {
			sa, err := client.CoreV1().ServiceAccounts(p.Namespace).Get(ctx, pair.ServiceAccount, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading serviceaccount %s/%s: %w", p.Namespace, pair.ServiceAccount, err)
			}
			mu.Lock()
			snap.ServiceAccounts[sa.Name] = sa
			mu.Unlock()
			return nil
		})
		run(func() error {
			o, err := workload.Get(ctx, client, p.Namespace, pair.Workload)
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading %s in namespace %s: %w", pair.Workload, p.Namespace, err)
			}
			mu.Lock()
			snap.Workloads[pair.Workload] = o
			if d, ok := o.Object.(*appsv1.Deployment); ok {
				snap.Deployments[d.Name] = d
			}
			mu.Unlock()
			return nil
		})
	}
	run(func() error {
		pods, err := paged.Pods(ctx, client, p.Namespace, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("listing pods in %s: %w", p.Namespace, err)
		}
		mu.Lock()
		snap.Pods = pods
		mu.Unlock()
		return nil
	})
	wg.Wait()
	for _, err := range errs {
		if errors.Is(err, ErrNamespaceNotFound) {
			return nil, err
		}
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return snap, nil
}
