package lab

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/fixture"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/pki"
)

// Options for Up.
type Options struct {
	Dir    string
	BinDir string
	// Self is this binary, started again as the webhook double.
	Self string
	Log  io.Writer
	// RealNode says whether to boot a kubelet node beside the kwok node (default auto).
	RealNode RealNodeMode
	// VerifierBin is bin/aksbackup-verifier, imported as the verifier image on the real node.
	VerifierBin string
	// Cloud names what the Azure doubles answer to (zero: CloudDefault).
	Cloud Cloud
	// NoExtraClusters boots the main cluster only, without aks-lab-east and aks-lab-west.
	NoExtraClusters bool
}

// Up boots the lab and returns its state. A healthy running lab is reused; a dead one is cleaned up
// and booted again.
func Up(ctx context.Context, o Options) (*State, error) {
	begin := time.Now()
	if s, err := Load(o.Dir); err == nil {
		if Healthy(ctx, s) == nil {
			fmt.Fprintf(o.Log, "lab already running in %s\n", o.Dir)
			return s, nil
		}
		fmt.Fprintf(o.Log, "found a stale lab in %s; stopping it first\n", o.Dir)
		if err := Down(o.Dir, o.Log); err != nil {
			return nil, err
		}
	}
	s := &State{Dir: o.Dir, BinDir: o.BinDir, TenantID: TenantID, Ports: map[string]int{}, PIDs: map[string]int{},
		CRDFile: filepath.Join(o.BinDir, "crds", "velero.io_backupstoragelocations.yaml")}
	fail := func(err error) (*State, error) {
		_ = s.Save()
		if s.RealNode != nil {
			teardownRealNode(s, s.RealNode, o.Log)
		} else {
			stopAll(s.PIDs, 3*time.Second)
		}
		return nil, fmt.Errorf("%w (logs in %s)", err, filepath.Join(o.Dir, "logs"))
	}
	if o.RealNode == "" {
		o.RealNode = RealNodeAuto
	}
	if o.RealNode != RealNodeOff {
		// Claimed before anything is created, so a refusal leaves nothing behind.
		rn, why := claimIfPossible(o)
		if rn == nil {
			if o.RealNode == RealNodeOn {
				return nil, fmt.Errorf("cannot boot the real node: %s", why)
			}
			fmt.Fprintf(o.Log, "no real node (%s): the lab runs with the kwok node only, and pods that need a real container stay Pending\n", why)
		}
		s.RealNode = rn
	}
	for _, sub := range []string{"logs", "pki", "etcd"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, sub), 0o700); err != nil {
			return fail(err)
		}
	}
	if rn := s.RealNode; rn != nil {
		if err := s.Save(); err != nil {
			return fail(err)
		}
		if err := setupBridge(rn); err != nil {
			return fail(err)
		}
	}
	var err error
	for _, name := range []string{"etcd-client", "etcd-peer", "apiserver", "webhook", "kwok", "arm", "entra", "azurite", "blobfront", "imds", "velero"} {
		port, err := FreePort()
		if err != nil {
			return fail(err)
		}
		s.Ports[name] = port
	}
	if err := writePKI(s); err != nil {
		return fail(err)
	}
	var realNodeStart time.Time
	if rn := s.RealNode; rn != nil {
		if rn.KubeletPort, err = FreePort(); err != nil {
			return fail(err)
		}
		// containerd starts while the control plane boots.
		realNodeStart = time.Now()
		if err := startContainerd(s, rn); err != nil {
			return fail(err)
		}
	}
	bin := func(name string) string { return filepath.Join(o.BinDir, name) }
	p := s.Ports
	pkiDir := filepath.Join(o.Dir, "pki")
	at := func(name string) string { return filepath.Join(pkiDir, name) }

	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", p["etcd-client"])
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", p["etcd-peer"])
	pid, err := start(o.Dir, "etcd", bin("etcd"), "--name=lab", "--data-dir="+filepath.Join(o.Dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL, "--initial-cluster=lab="+peerURL,
		"--log-level=warn", "--quota-backend-bytes=2147483648")
	if err != nil {
		return fail(err)
	}
	s.PIDs["etcd"] = pid
	if err := waitHTTP(ctx, nil, etcdURL+"/health", "", 30*time.Second); err != nil {
		return fail(fmt.Errorf("etcd did not become healthy: %w", err))
	}
	fmt.Fprintf(o.Log, "etcd ready on %s\n", etcdURL)
	// The fleet's other clusters boot beside the main API server (extra.go).
	if !o.NoExtraClusters {
		if err := startExtraAPIServers(s, bin, etcdURL); err != nil {
			return fail(err)
		}
	}

	s.APIServerURL = fmt.Sprintf("https://127.0.0.1:%d", p["apiserver"])
	s.IssuerURL = s.APIServerURL
	pid, err = start(o.Dir, "kube-apiserver", bin("kube-apiserver"),
		"--etcd-servers="+etcdURL, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(p["apiserver"]), "--tls-cert-file="+at("apiserver.crt"), "--tls-private-key-file="+at("apiserver.key"),
		"--client-ca-file="+at("ca.crt"), "--token-auth-file="+at("tokens.csv"),
		"--service-account-key-file="+at("sa.pub"), "--service-account-signing-key-file="+at("sa.key"),
		"--service-account-issuer="+s.IssuerURL, "--api-audiences="+s.IssuerURL,
		"--authorization-mode=Node,RBAC", "--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none", "--allow-privileged=true", "--anonymous-auth=true",
		"--enable-priority-and-fairness=false", "--profiling=false",
		// The real node's kubelet: the API server's client certificate for logs and exec, and
		// InternalIP first, as the node's name does not resolve.
		"--kubelet-client-certificate="+at("apiserver-kubelet-client.crt"), "--kubelet-client-key="+at("apiserver-kubelet-client.key"),
		"--kubelet-preferred-address-types=InternalIP", "--enable-admission-plugins=NodeRestriction", "--v=1")
	if err != nil {
		return fail(err)
	}
	s.PIDs["kube-apiserver"] = pid
	if err := writeKubeconfig(s); err != nil {
		return fail(err)
	}
	token, _ := os.ReadFile(s.TokenFile)
	if err := waitHTTP(ctx, s.caPool(), s.APIServerURL+"/readyz", strings.TrimSpace(string(token)), 90*time.Second); err != nil {
		return fail(fmt.Errorf("kube-apiserver did not become ready: %w", err))
	}
	fmt.Fprintf(o.Log, "kube-apiserver ready on %s\n", s.APIServerURL)
	// The extra clusters are configured while the main one boots on.
	extraDone := make(chan error, 1)
	go func() { extraDone <- configureExtraClusters(ctx, s) }()
	if rn := s.RealNode; rn != nil {
		if err := importImages(ctx, s, rn, o.VerifierBin, o.Log); err != nil {
			return fail(err)
		}
		if err := startKubelet(s, rn); err != nil {
			return fail(err)
		}
		if err := startNetpol(s, rn, o); err != nil {
			return fail(err)
		}
	}

	if pid, err = start(o.Dir, "kube-controller-manager", bin("kube-controller-manager"),
		"--kubeconfig="+s.Kubeconfig, "--leader-elect=false", "--secure-port=0", "--bind-address=127.0.0.1",
		"--service-account-private-key-file="+at("sa.key"), "--root-ca-file="+at("ca.crt"),
		"--use-service-account-credentials=false", "--controllers=*", "--node-monitor-grace-period=40s", "--v=1"); err != nil {
		return fail(err)
	}
	s.PIDs["kube-controller-manager"] = pid
	if pid, err = start(o.Dir, "kube-scheduler", bin("kube-scheduler"),
		"--kubeconfig="+s.Kubeconfig, "--leader-elect=false", "--secure-port=0", "--bind-address=127.0.0.1", "--v=1"); err != nil {
		return fail(err)
	}
	s.PIDs["kube-scheduler"] = pid
	kwokConfig, err := writeKwokConfig(o.BinDir, o.Dir)
	if err != nil {
		return fail(err)
	}
	// kwok serves each Velero pod's log through a Logs object the velero double creates per pod;
	// kwok lists them from its start, so the CRD comes first.
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		return fail(err)
	}
	if err := fixture.InstallCRD(ctx, cfg, filepath.Join(o.BinDir, "crds", "kwok.x-k8s.io_logs.yaml"), 30*time.Second); err != nil {
		return fail(err)
	}
	if pid, err = start(o.Dir, "kwok", bin("kwok"), "--kubeconfig="+s.Kubeconfig, "--config="+kwokConfig, "--enable-crds=Logs",
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--server-address=127.0.0.1:"+strconv.Itoa(p["kwok"]), "--node-ip=127.0.0.1", "--node-port="+strconv.Itoa(p["kwok"]),
		"--tls-cert-file="+at("kwok.crt"), "--tls-private-key-file="+at("kwok.key")); err != nil {
		return fail(err)
	}
	s.PIDs["kwok"] = pid
	if o.Cloud.Name == "" {
		o.Cloud = CloudDefault
	}
	// The webhook injects the cloud's authority host, as AKS does in a sovereign cloud: a custom
	// cloud's is the Entra double itself.
	authorityHost := AuthorityHost
	if o.Cloud.Name == CloudCustom.Name {
		authorityHost = fmt.Sprintf("https://127.0.0.1:%d/", p["entra"])
	}
	if pid, err = start(o.Dir, "wi-webhook", o.Self, "webhook", "--kubeconfig="+s.Kubeconfig,
		"--cert="+at("webhook.crt"), "--key="+at("webhook.key"), "--port="+strconv.Itoa(p["webhook"]),
		"--tenant-id="+TenantID, "--authority-host="+authorityHost); err != nil {
		return fail(err)
	}
	s.PIDs["wi-webhook"] = pid
	s.Cloud, s.StorageSuffix, s.ARMAudience = o.Cloud.Name, o.Cloud.StorageSuffix, o.Cloud.ARMAudience
	if err := writeAzureFiles(s); err != nil {
		return fail(err)
	}
	azureArgs := []string{"azure", "--arm-port=" + strconv.Itoa(p["arm"]), "--entra-port=" + strconv.Itoa(p["entra"]),
		"--cert=" + at("webhook.crt"), "--key=" + at("webhook.key"), "--ca=" + s.CAFile, "--issuer=" + s.IssuerURL,
		"--tenant-id=" + TenantID, "--admin-secret-file=" + s.AdminSecretFile, "--imds-port=" + strconv.Itoa(p["imds"])}
	for _, c := range s.ExtraClusters {
		azureArgs = append(azureArgs, "--extra-cluster="+c.Name+"="+c.IssuerURL)
	}
	if o.Cloud.Name == CloudCustom.Name {
		azureArgs = append(azureArgs, "--arm-audience="+o.Cloud.ARMAudience, "--storage-suffix="+o.Cloud.StorageSuffix)
	}
	if rn := s.RealNode; rn != nil {
		azureArgs = append(azureArgs, "--also-listen="+rn.GatewayIP)
		gw := func(port int, scheme string) string { return fmt.Sprintf("%s://%s:%d/", scheme, rn.GatewayIP, port) }
		s.PodEntraURL, s.PodARMURL, s.PodIMDSURL = gw(p["entra"], "https"), gw(p["arm"], "https"), gw(p["imds"], "http")
	}
	// Azurite comes from npm (build-tools.sh installs it); without it the lab runs without blob storage.
	azurite := filepath.Join(o.BinDir, "..", "azurite", "node_modules", ".bin", "azurite-blob")
	if _, statErr := os.Stat(azurite); statErr == nil {
		if err := os.MkdirAll(filepath.Join(o.Dir, "azurite"), 0o700); err != nil {
			return fail(err)
		}
		if pid, err = start(o.Dir, "azurite", azurite, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(p["azurite"]),
			"--oauth", "basic", "--cert", at("webhook.crt"), "--key", at("webhook.key"), "--location", filepath.Join(o.Dir, "azurite"),
			"--skipApiVersionCheck", "--loose", "--disableProductStyleUrl", "--disableTelemetry"); err != nil {
			return fail(err)
		}
		s.PIDs["azurite"] = pid
		s.BlobURL = fmt.Sprintf("https://127.0.0.1:%d/", p["blobfront"])
		if rn := s.RealNode; rn != nil {
			s.PodBlobURL = fmt.Sprintf("https://%s:%d/", rn.GatewayIP, p["blobfront"])
		}
		azureArgs = append(azureArgs, "--front-port="+strconv.Itoa(p["blobfront"]), fmt.Sprintf("--azurite-url=https://127.0.0.1:%d", p["azurite"]), "--blob-endpoint="+s.BlobURL+"devstoreaccount1/")
	} else {
		fmt.Fprintf(o.Log, "azurite not installed (%s); starting without blob storage\n", azurite)
	}
	if pid, err = start(o.Dir, "azure", o.Self, azureArgs...); err != nil {
		return fail(err)
	}
	s.PIDs["azure"] = pid
	s.IMDSURL = fmt.Sprintf("http://127.0.0.1:%d/", p["imds"])
	if s.BlobURL != "" {
		if err := waitHTTP(ctx, s.caPool(), s.ARMURL+"_lab/storage-ready", "", 3*time.Minute); err != nil {
			return fail(fmt.Errorf("the lab's blob containers were not created in Azurite: %w", err))
		}
	}
	if s.BlobURL != "" {
		// The velero double validates every azure BSL as its namespace's Velero pod would.
		s.VeleroLogDir = filepath.Join(o.Dir, "velero")
		if pid, err = start(o.Dir, "velero", o.Self, "velero", "--kubeconfig="+s.Kubeconfig, "--ca="+s.CAFile,
			"--entra-url="+s.EntraURL, "--arm-url="+s.ARMURL, "--blob-url="+s.BlobURL, "--imds-url="+s.IMDSURL,
			"--log-dir="+s.VeleroLogDir, "--port="+strconv.Itoa(p["velero"]), "--storage-suffix="+velerolabSuffix(o.Cloud)); err != nil {
			return fail(err)
		}
		s.PIDs["velero"] = pid
	}
	if err := s.Save(); err != nil {
		return fail(err)
	}
	if err := waitHTTP(ctx, s.caPool(), s.ARMURL+"_lab/healthz", "", 30*time.Second); err != nil {
		return fail(fmt.Errorf("Azure doubles did not start: %w", err))
	}

	client, err := s.Clientset()
	if err != nil {
		return fail(err)
	}
	if err := waitHTTP(ctx, s.caPool(), fmt.Sprintf("https://127.0.0.1:%d/healthz", p["webhook"]), "", 30*time.Second); err != nil {
		return fail(fmt.Errorf("webhook double did not start: %w", err))
	}
	if err := configureCluster(ctx, client, s); err != nil {
		return fail(err)
	}
	if err := <-extraDone; err != nil {
		return fail(err)
	}
	if len(s.ExtraClusters) > 0 {
		fmt.Fprintf(o.Log, "extra clusters %s and %s ready (contexts of the same name)\n", EastCluster, WestCluster)
	}
	if s.PIDs["velero"] != 0 {
		if err := waitHTTP(ctx, nil, fmt.Sprintf("http://127.0.0.1:%d/healthz", p["velero"]), "", 30*time.Second); err != nil {
			return fail(fmt.Errorf("velero double did not start: %w", err))
		}
	}
	fmt.Fprintf(o.Log, "node %s ready; webhook double registered\n", NodeName)
	if rn := s.RealNode; rn != nil {
		if err := waitNodeReady(ctx, client, rn.Name, 90*time.Second); err != nil {
			return fail(fmt.Errorf("the real node %s did not become Ready (see logs/kubelet.log and logs/containerd.log): %w", rn.Name, err))
		}
		rn.BootSeconds = time.Since(realNodeStart).Seconds()
		fmt.Fprintf(o.Log, "real node %s ready (%.1fs after containerd started); pods reach the doubles on %s\n", rn.Name, rn.BootSeconds, rn.GatewayIP)
	}
	s.BootSeconds = time.Since(begin).Seconds()
	if err := s.Save(); err != nil {
		return fail(err)
	}
	return s, nil
}

// writeAzureFiles writes the custom cloud the plugin reads through --cloud-config, and the admin
// app's secret.
func writeAzureFiles(s *State) error {
	s.ARMURL = fmt.Sprintf("https://127.0.0.1:%d/", s.Ports["arm"])
	s.EntraURL = fmt.Sprintf("https://127.0.0.1:%d/", s.Ports["entra"])
	s.AdminClientID, s.Subscription = AdminClientID, Subscription
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	s.AdminSecretFile = filepath.Join(s.Dir, "pki", "admin-app.secret")
	if err := os.WriteFile(s.AdminSecretFile, []byte(hex.EncodeToString(raw)), 0o600); err != nil {
		return err
	}
	name := "AzureLab"
	if s.Cloud == CloudCustom.Name {
		name = "AzureLabCustom"
	}
	cloud := fmt.Sprintf(`{"name":%q,"resourceManagerEndpoint":%q,"resourceManagerAudience":%q,"activeDirectoryAuthorityHost":%q,"storageSuffix":%q}`,
		name, s.ARMURL, s.ARMAudience, s.EntraURL, s.StorageSuffix)
	s.CloudConfig = filepath.Join(s.Dir, "cloud.json")
	return os.WriteFile(s.CloudConfig, []byte(cloud), 0o600)
}

func writePKI(s *State) error {
	ca, err := pki.NewCA("aksbackup-lab-ca")
	if err != nil {
		return err
	}
	files := map[string][]byte{"ca.crt": ca.CertPEM}
	// Pods on the real node reach the doubles (which serve the webhook certificate) on the bridge
	// gateway, and the kubelet reaches the API server there too.
	var gateway []net.IP
	if s.RealNode != nil {
		gateway = []net.IP{net.ParseIP(s.RealNode.GatewayIP)}
	}
	for _, name := range []string{"apiserver", "webhook", "kwok"} {
		crt, key, err := ca.Issue(pki.Cert{CommonName: name, DNSNames: []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc"}, IPs: gateway})
		if err != nil {
			return err
		}
		files[name+".crt"], files[name+".key"] = crt, key
	}
	// The API server's client certificate for kubelets, and the real node's kubelet identity.
	for name, c := range map[string]pki.Cert{
		"apiserver-kubelet-client": {CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}},
		"kubelet":                  {CommonName: "system:node:" + RealNodeName, Organization: []string{"system:nodes"}},
	} {
		crt, key, err := ca.Issue(c)
		if err != nil {
			return err
		}
		files[name+".crt"], files[name+".key"] = crt, key
	}
	priv, pub, err := pki.ServiceAccountKey()
	if err != nil {
		return err
	}
	files["sa.key"], files["sa.pub"] = priv, pub
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	token := hex.EncodeToString(raw)
	files["admin.token"] = []byte(token + "\n")
	files["tokens.csv"] = []byte(token + ",admin,admin-uid,system:masters\n")
	dir := filepath.Join(s.Dir, "pki")
	if err := pki.WriteFiles(dir, files); err != nil {
		return err
	}
	s.CAFile, s.TokenFile = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "admin.token")
	return nil
}

// writeKubeconfig names the context, cluster and user the way `az aks get-credentials` does.
func writeKubeconfig(s *State) error {
	token, err := os.ReadFile(s.TokenFile)
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(s.CAFile)
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	// The fleet's extra clusters are contexts of the same file, as repeated get-credentials calls make.
	servers := map[string]string{ClusterName: s.APIServerURL}
	for _, c := range s.ExtraClusters {
		servers[c.Name] = c.APIServerURL
	}
	for name, server := range servers {
		user := "clusterUser_" + ResourceGroup + "_" + name
		cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
		cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: strings.TrimSpace(string(token))}
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: user, Namespace: "default"}
	}
	cfg.CurrentContext = ClusterName
	s.Kubeconfig = filepath.Join(s.Dir, "kubeconfig")
	return clientcmd.WriteToFile(*cfg, s.Kubeconfig)
}

// writeKwokConfig concatenates the stage definitions shipped in kwok's module.
func writeKwokConfig(binDir, dir string) (string, error) {
	stages, err := filepath.Glob(filepath.Join(binDir, "kwok-stages", "*.yaml"))
	if err != nil || len(stages) == 0 {
		return "", fmt.Errorf("no kwok stages in %s (run e2e/scripts/build-tools.sh)", binDir)
	}
	var b strings.Builder
	for _, st := range stages {
		data, err := os.ReadFile(st)
		if err != nil {
			return "", err
		}
		b.WriteString("---\n")
		b.Write(data)
		b.WriteString("\n")
	}
	path := filepath.Join(dir, "kwok.yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

func configureCluster(ctx context.Context, client kubernetes.Interface, s *State) error {
	// AKS publishes its OIDC discovery document publicly; so does the lab's issuer.
	if err := publishOIDCDiscovery(ctx, client); err != nil {
		return err
	}
	ca, err := os.ReadFile(s.CAFile)
	if err != nil {
		return err
	}
	url := fmt.Sprintf("https://127.0.0.1:%d/mutate-v1-pod", s.Ports["webhook"])
	fail, none, ifNeeded := admissionregv1.Fail, admissionregv1.SideEffectClassNone, admissionregv1.IfNeededReinvocationPolicy
	timeout := int32(10)
	if _, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "azure-wi-webhook-double"},
		Webhooks: []admissionregv1.MutatingWebhook{{
			Name:                    "mutation.azure-workload-identity.io",
			ClientConfig:            admissionregv1.WebhookClientConfig{URL: &url, CABundle: ca},
			Rules:                   []admissionregv1.RuleWithOperations{{Operations: []admissionregv1.OperationType{admissionregv1.Create}, Rule: admissionregv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}},
			ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"azure.workload.identity/use": "true"}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			ReinvocationPolicy:      &ifNeeded,
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          &timeout,
		}},
	}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("webhook configuration: %w", err)
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: NodeName, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{"type": "kwok", "kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
		// kwok's usual taint: only pods that tolerate it (the fixture's) run on the simulated node.
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: fixture.KwokToleration.Key, Value: "fake", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("64Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("64Gi"), corev1.ResourcePods: resource.MustParse("110")},
		},
	}
	if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("node: %w", err)
	}
	if err := waitNodeReady(ctx, client, NodeName, 90*time.Second); err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
}

// waitNodeReady waits until a node is Ready and the node lifecycle controller lifted its
// not-ready taint.
func waitNodeReady(ctx context.Context, client kubernetes.Interface, name string, timeout time.Duration) error {
	return wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		ready := false
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		for _, t := range n.Spec.Taints {
			if t.Key == "node.kubernetes.io/not-ready" {
				return false, nil
			}
		}
		return ready, nil
	})
}

// Healthy checks that the API server answers and every recorded process lives.
func Healthy(ctx context.Context, s *State) error {
	for name, pid := range s.PIDs {
		if !alive(pid) || isZombie(pid) {
			return fmt.Errorf("%s (pid %d) is not running", name, pid)
		}
	}
	token, _ := os.ReadFile(s.TokenFile)
	return waitHTTP(ctx, s.caPool(), s.APIServerURL+"/readyz", strings.TrimSpace(string(token)), 3*time.Second)
}

func (s *State) caPool() *x509.CertPool {
	pool := x509.NewCertPool()
	if ca, err := os.ReadFile(s.CAFile); err == nil {
		pool.AppendCertsFromPEM(ca)
	}
	return pool
}

// Clientset returns an admin client for the lab.
func (s *State) Clientset() (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 50, 100
	return kubernetes.NewForConfig(cfg)
}

func waitHTTP(ctx context.Context, pool *x509.CertPool, url, token string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err
			return false, nil
		}
		resp.Body.Close()
		last = fmt.Errorf("%s answered %d", url, resp.StatusCode)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil && last != nil {
		return last
	}
	return err
}

// Down stops every process the lab started, by pid, undoes what its real node created, and removes
// its directory.
func Down(dir string, log io.Writer) error {
	// The machine-wide record is the freshest account of this lab's real node.
	var rn *RealNode
	if lock, err := readRealNodeLock(); err == nil && lock.LabDir == dir {
		rn = lock
	}
	s, err := Load(dir)
	if err != nil {
		if os.IsNotExist(unwrapAll(err)) {
			if rn != nil {
				teardownRealNode(nil, rn, log)
				return os.RemoveAll(dir)
			}
			fmt.Fprintf(log, "no lab running in %s\n", dir)
			return nil
		}
		return err
	}
	if rn == nil {
		rn = s.RealNode
	}
	if rn != nil {
		teardownRealNode(s, rn, log)
		fmt.Fprintf(log, "stopped the lab in %s\n", dir)
	} else {
		stopped := stopAll(s.PIDs, 5*time.Second)
		fmt.Fprintf(log, "stopped %s\n", strings.Join(stopped, ", "))
	}
	return os.RemoveAll(dir)
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		next := u.Unwrap()
		if next == nil {
			return err
		}
		err = next
	}
}
