package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/fixture"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/pki"
)

// The fleet's other clusters: two more API servers on the lab's etcd, under their own key prefix,
// with their own service-account issuer and keys. They run no controller, scheduler or node; their
// extension namespace is written in its finished state (fixture.InstallSimulated).
const (
	EastCluster = "aks-lab-east"
	WestCluster = "aks-lab-west"
	// ExtraNamespace is the extension's namespace on the extra clusters.
	ExtraNamespace = "dataprotection-microsoft"
	// ExtraClientID is the client ID the extra clusters' service accounts carry.
	ExtraClientID = "c0ffee00-aaaa-4bbb-8ccc-0000000000e1"
)

// ExtraCluster is one of the fleet's other API servers: a kubeconfig context of the same name.
type ExtraCluster struct {
	Name         string `json:"name"`
	APIServerURL string `json:"apiServerURL"`
	IssuerURL    string `json:"issuerURL"`
	EtcdPrefix   string `json:"etcdPrefix"`
	// Fault is what is broken in its extension namespace ("" for none), as doctor should name it.
	Fault string `json:"fault,omitempty"`
}

// extraClusterFaults: east is healthy, west's agent service account lacks its client-id annotation.
var extraClusterFaults = map[string]string{EastCluster: "", WestCluster: "wi-client-id-missing"}

// extraBrokenServiceAccount is the service account west leaves without a client ID.
const extraBrokenServiceAccount = "dataprotection-microsoft-kubernetes-agent-server"

// startExtraAPIServers starts the extra API servers beside the main one; they become ready while
// the rest of the lab boots (waitExtraClusters).
func startExtraAPIServers(s *State, bin func(string) string, etcdURL string) error {
	at := func(name string) string { return filepath.Join(s.Dir, "pki", name) }
	for _, name := range []string{EastCluster, WestCluster} {
		port, err := FreePort()
		if err != nil {
			return err
		}
		priv, pub, err := pki.ServiceAccountKey()
		if err != nil {
			return err
		}
		if err := pki.WriteFiles(filepath.Join(s.Dir, "pki"), map[string][]byte{name + "-sa.key": priv, name + "-sa.pub": pub}); err != nil {
			return err
		}
		c := ExtraCluster{Name: name, APIServerURL: fmt.Sprintf("https://127.0.0.1:%d", port), EtcdPrefix: "/registry-" + name, Fault: extraClusterFaults[name]}
		c.IssuerURL = c.APIServerURL
		s.Ports["apiserver-"+name] = port
		pid, err := start(s.Dir, "kube-apiserver-"+name, bin("kube-apiserver"),
			"--etcd-servers="+etcdURL, "--etcd-prefix="+c.EtcdPrefix, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
			"--secure-port="+strconv.Itoa(port), "--tls-cert-file="+at("apiserver.crt"), "--tls-private-key-file="+at("apiserver.key"),
			"--client-ca-file="+at("ca.crt"), "--token-auth-file="+at("tokens.csv"),
			"--service-account-key-file="+at(name+"-sa.pub"), "--service-account-signing-key-file="+at(name+"-sa.key"),
			"--service-account-issuer="+c.IssuerURL, "--api-audiences="+c.IssuerURL,
			"--authorization-mode=RBAC", "--service-cluster-ip-range=10.96.0.0/16",
			"--endpoint-reconciler-type=none", "--anonymous-auth=true",
			"--enable-priority-and-fairness=false", "--profiling=false", "--v=1")
		if err != nil {
			return err
		}
		s.PIDs["kube-apiserver-"+name] = pid
		s.ExtraClusters = append(s.ExtraClusters, c)
	}
	return nil
}

// ExtraRESTConfig is an admin client config for one extra cluster, through its kubeconfig context.
func (s *State) ExtraRESTConfig(name string) (*rest.Config, error) {
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: s.Kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: name}).ClientConfig()
}

// configureExtraClusters waits for each extra API server, publishes its OIDC discovery document as
// the main one does, and installs its extension namespace: east wired and healthy, west with its
// fault.
func configureExtraClusters(ctx context.Context, s *State) error {
	token, _ := os.ReadFile(s.TokenFile)
	for _, c := range s.ExtraClusters {
		if err := waitHTTP(ctx, s.caPool(), c.APIServerURL+"/readyz", strings.TrimSpace(string(token)), 90*time.Second); err != nil {
			return fmt.Errorf("kube-apiserver of %s did not become ready (logs/kube-apiserver-%s.log): %w", c.Name, c.Name, err)
		}
		cfg, err := s.ExtraRESTConfig(c.Name)
		if err != nil {
			return err
		}
		client, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return err
		}
		if err := publishOIDCDiscovery(ctx, client); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		if err := InstallExtraNamespace(ctx, s, c, ExtraNamespace, 0); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
	}
	return nil
}

// InstallExtraNamespace writes the extension namespace ns on an extra cluster, with its cluster's
// fault, plus extraPods more Velero pods (the scale benchmark).
func InstallExtraNamespace(ctx context.Context, s *State, c ExtraCluster, ns string, extraPods int) error {
	cfg, err := s.ExtraRESTConfig(c.Name)
	if err != nil {
		return err
	}
	o := fixture.SimulatedOptions{Namespace: ns, CRDFile: s.CRDFile, ClientID: ExtraClientID, TenantID: TenantID,
		AuthorityHost: AuthorityHost, ExtraPods: extraPods}
	if c.Fault == "wi-client-id-missing" {
		o.WithoutClientID = extraBrokenServiceAccount
	}
	return fixture.InstallSimulated(ctx, cfg, o)
}

// publishOIDCDiscovery lets anyone read the issuer's discovery document, as AKS does.
func publishOIDCDiscovery(ctx context.Context, client kubernetes.Interface) error {
	if _, err := client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "lab-anonymous-oidc-discovery"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:service-account-issuer-discovery"},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "Group", Name: "system:unauthenticated"}},
	}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("OIDC discovery binding: %w", err)
	}
	return nil
}
