// Package kube builds Kubernetes clients from kubectl's flags and turns client errors into messages
// that say what to do.
package kube

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Factory hands commands their clients; tests replace it with fakes.
type Factory interface {
	Clientset() (kubernetes.Interface, error)
	Dynamic() (dynamic.Interface, error)
	// Namespaces returns the -n value ("" when not given) and the kubeconfig context's namespace.
	Namespaces() (explicit, contextDefault string, err error)
	// Host is the API server URL, for error messages.
	Host() string
	// AKSCluster infers the AKS cluster's resource group and name from the kubeconfig, if it was
	// written by `az aks get-credentials`.
	AKSCluster() (resourceGroup, name string, ok bool)
}

// NewFactory builds clients lazily from kubectl's standard flags.
func NewFactory(flags *genericclioptions.ConfigFlags) Factory {
	return &flagsFactory{flags: flags}
}

type flagsFactory struct {
	flags *genericclioptions.ConfigFlags

	once      sync.Once
	config    *rest.Config
	configErr error
}

func (f *flagsFactory) restConfig() (*rest.Config, error) {
	f.once.Do(func() {
		if err := f.checkContext(); err != nil {
			f.configErr = err
			return
		}
		cfg, err := f.flags.ToRESTConfig()
		if err != nil {
			f.configErr = fmt.Errorf("loading kubeconfig: %w; check --kubeconfig, --context and KUBECONFIG", err)
			return
		}
		// The tool issues a handful of parallel reads; client-go's default 5 QPS would throttle them.
		cfg.QPS, cfg.Burst = 50, 100
		cfg.UserAgent = "kubectl-aksbackup"
		f.config = cfg
	})
	return f.config, f.configErr
}

// checkContext names a missing --context or --cluster plainly instead of client-go's generic message.
func (f *flagsFactory) checkContext() error {
	raw, err := f.flags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w; check --kubeconfig and KUBECONFIG", err)
	}
	if ctx := deref(f.flags.Context); ctx != "" {
		if _, ok := raw.Contexts[ctx]; !ok {
			return fmt.Errorf("context %q does not exist in the kubeconfig (known: %s); list them with `kubectl config get-contexts`", ctx, strings.Join(sortedKeys(raw.Contexts), ", "))
		}
	}
	if deref(f.flags.Context) == "" && raw.CurrentContext == "" && deref(f.flags.APIServer) == "" && len(raw.Clusters) == 0 {
		return fmt.Errorf("no kubeconfig found: set KUBECONFIG or --kubeconfig, or run `az aks get-credentials`")
	}
	return nil
}

func (f *flagsFactory) Clientset() (kubernetes.Interface, error) {
	cfg, err := f.restConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

func (f *flagsFactory) Dynamic() (dynamic.Interface, error) {
	cfg, err := f.restConfig()
	if err != nil {
		return nil, err
	}
	return dynamic.NewForConfig(cfg)
}

func (f *flagsFactory) Namespaces() (string, string, error) {
	if err := f.checkContext(); err != nil {
		return "", "", err
	}
	contextNS, _, err := f.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", "", fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	return deref(f.flags.Namespace), contextNS, nil
}

func (f *flagsFactory) Host() string {
	if cfg, err := f.restConfig(); err == nil {
		return cfg.Host
	}
	return "the API server"
}

func (f *flagsFactory) AKSCluster() (string, string, bool) {
	raw, err := f.flags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return "", "", false
	}
	return AKSClusterFromKubeconfig(raw, deref(f.flags.Context))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
