// Package kube builds Kubernetes clients from kubectl's flags and turns client errors into messages
// that say what to do.
package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
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
	// CheckAPIServer makes sure the server answers as a Kubernetes API server (see CheckAPIServer).
	CheckAPIServer(ctx context.Context) error
}

// ErrCredentialPlugin marks a kubeconfig whose exec credential plugin (kubelogin) is not installed.
var ErrCredentialPlugin = errors.New("the kubeconfig's credential plugin is not installed")

// NewFactory builds clients lazily from kubectl's standard flags.
func NewFactory(flags *genericclioptions.ConfigFlags) Factory {
	return &flagsFactory{flags: flags, requestTimeout: DefaultRequestTimeout}
}

type flagsFactory struct {
	flags *genericclioptions.ConfigFlags

	// requestTimeout bounds each request's wait for an answer when --request-timeout is not given.
	requestTimeout time.Duration
	// headerTimeout records that requestTimeout was applied (it is not with --request-timeout).
	headerTimeout bool

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
		if err := f.checkExecPlugin(cfg); err != nil {
			f.configErr = err
			return
		}
		// The tool issues a handful of parallel reads; client-go's default 5 QPS would throttle them.
		cfg.QPS, cfg.Burst = 50, 100
		cfg.UserAgent = "kubectl-aksbackup"
		cfg.Wrap(countRequests)
		if cfg.Timeout == 0 { // no --request-timeout: still never wait forever for an answer
			cfg.Wrap(withHeaderTimeout(f.requestTimeout))
			f.headerTimeout = true
		}
		f.config = cfg
	})
	return f.config, f.configErr
}

// checkContext names a missing or empty kubeconfig, and a missing --context, current-context or
// --cluster, plainly instead of client-go's generic "no configuration has been provided".
func (f *flagsFactory) checkContext() error {
	loader := f.flags.ToRawKubeConfigLoader()
	access := loader.ConfigAccess()
	explicit := access.GetExplicitFile()
	source := kubeconfigSource(explicit, access.GetLoadingPrecedence())
	if explicit != "" {
		if _, err := os.Stat(explicit); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--kubeconfig %s does not exist; give the path of a kubeconfig file (az aks get-credentials writes one)", explicit)
		}
	}
	raw, err := loader.RawConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig %s: %w; check --kubeconfig and KUBECONFIG", source, err)
	}
	if deref(f.flags.APIServer) != "" {
		return nil // --server needs no context
	}
	name := deref(f.flags.Context)
	switch {
	case name != "":
		if _, ok := raw.Contexts[name]; !ok {
			return fmt.Errorf("context %q does not exist in %s (%s); list them with `kubectl config get-contexts`", name, source, knownContexts(raw))
		}
	case explicit == "" && !anyExists(access.GetLoadingPrecedence()):
		return fmt.Errorf("no kubeconfig found (looked for %s): set KUBECONFIG or --kubeconfig, or run `az aks get-credentials`", strings.Join(access.GetLoadingPrecedence(), ", "))
	case len(raw.Contexts) == 0:
		return fmt.Errorf("%s has no contexts; add one with `az aks get-credentials` (--file to write that file) or `kubectl config set-context`, or pass --server", source)
	case raw.CurrentContext == "":
		return fmt.Errorf("%s sets no current-context (%s); pass --context NAME or run `kubectl config use-context NAME`", source, knownContexts(raw))
	default:
		if _, ok := raw.Contexts[raw.CurrentContext]; !ok {
			return fmt.Errorf("the current-context %q of %s is not defined there (%s); pass --context NAME or run `kubectl config use-context NAME`", raw.CurrentContext, source, knownContexts(raw))
		}
	}
	if c := deref(f.flags.ClusterName); c != "" {
		if _, ok := raw.Clusters[c]; !ok {
			return fmt.Errorf("cluster %q does not exist in %s (known: %s)", c, source, strings.Join(sortedKeys(raw.Clusters), ", "))
		}
	}
	return nil
}

// checkExecPlugin names an exec credential plugin (kubelogin on AKS) that is not installed, before
// the first request would fail with client-go's generic text.
func (f *flagsFactory) checkExecPlugin(cfg *rest.Config) error {
	if cfg.ExecProvider == nil || cfg.ExecProvider.Command == "" {
		return nil
	}
	if _, err := exec.LookPath(cfg.ExecProvider.Command); err == nil {
		return nil
	}
	return fmt.Errorf("%w: kubeconfig user %q runs %s, which is not on PATH; install it: %s", ErrCredentialPlugin, f.userName(), cfg.ExecProvider.Command, installHint(cfg.ExecProvider))
}

func installHint(p *clientcmdapi.ExecConfig) string {
	if filepath.Base(p.Command) == "kubelogin" {
		return "`az aks install-cli`, or see https://azure.github.io/kubelogin/install.html"
	}
	if hint := strings.TrimSpace(p.InstallHint); hint != "" {
		return hint
	}
	return "put it on PATH, or fix users[].user.exec.command in the kubeconfig"
}

// userName is the kubeconfig user in effect: --user, else the context's.
func (f *flagsFactory) userName() string {
	if u := deref(f.flags.AuthInfoName); u != "" {
		return u
	}
	raw, err := f.flags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return ""
	}
	name := deref(f.flags.Context)
	if name == "" {
		name = raw.CurrentContext
	}
	if c, ok := raw.Contexts[name]; ok {
		return c.AuthInfo
	}
	return ""
}

func kubeconfigSource(explicit string, precedence []string) string {
	switch {
	case explicit != "":
		return "--kubeconfig " + explicit
	case os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
		return "the kubeconfig in KUBECONFIG (" + strings.Join(precedence, string(filepath.ListSeparator)) + ")"
	}
	return "the kubeconfig " + strings.Join(precedence, ", ")
}

func anyExists(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

func knownContexts(raw clientcmdapi.Config) string {
	if len(raw.Contexts) == 0 {
		return "it has no contexts"
	}
	return "known: " + strings.Join(sortedKeys(raw.Contexts), ", ")
}

func (f *flagsFactory) Clientset() (kubernetes.Interface, error) {
	cfg, err := f.restConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// RESTConfig is the config the clients are built from, for commands that wrap its transport
// (preflight counts its requests) or pick a content type. Callers copy it before changing it.
func (f *flagsFactory) RESTConfig() (*rest.Config, error) { return f.restConfig() }

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

func (f *flagsFactory) CheckAPIServer(ctx context.Context) error {
	cfg, err := f.restConfig()
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	return CheckAPIServer(ctx, client.Discovery().RESTClient(), cfg.Host)
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
