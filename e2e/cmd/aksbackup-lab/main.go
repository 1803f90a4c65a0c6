// Command aksbackup-lab boots, stops and seeds the local lab:
//
//	aksbackup-lab up [--dir e2e/.lab] [--bin-dir e2e/.cache/bin] [--real-node[=auto|on|off]] [--verifier-bin bin/aksbackup-verifier]
//	aksbackup-lab down [--dir e2e/.lab]
//	aksbackup-lab image --binary PATH --ref NAME:TAG --out FILE.tar [--entrypoint ARG ...] [--path /IN/IMAGE]
//	aksbackup-lab import-image [--dir e2e/.lab] FILE.tar               (into the real node's containerd)
//	aksbackup-lab fixture [--dir e2e/.lab] [--namespace dataprotection-microsoft] [--reset] [--profile aks-backup|upbound-spaces]
//	aksbackup-lab env [--dir e2e/.lab]
//	aksbackup-lab scenario [--dir e2e/.lab] --base unwired|wired [--namespace NS] [--fault F ...]
//	aksbackup-lab webhook --kubeconfig K --cert C --key K --port P   (started by up)
//	aksbackup-lab azure --arm-port P --entra-port P ...               (started by up)
//	aksbackup-lab velero --kubeconfig K --ca C --log-dir D ...        (started by up)
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/azurelab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/fixture"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/lab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/velerolab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/wiwebhook"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: aksbackup-lab up|down|fixture|env|scenario|image|import-image|webhook|azure|velero|netpol [flags]")
		os.Exit(2)
	}
	if os.Args[1] == "image" {
		// No context: building an image is quick and leaves nothing half-done but a .tmp file.
		os.Exit(imageCmd(os.Args[2:], os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "up":
		err = up(ctx, os.Args[2:])
	case "down":
		err = down(os.Args[2:])
	case "fixture":
		err = seed(ctx, os.Args[2:])
	case "env":
		err = env(os.Args[2:])
	case "scenario":
		err = scenario(os.Args[2:])
	case "import-image":
		err = importImage(os.Args[2:])
	case "webhook":
		err = webhook(ctx, os.Args[2:])
	case "azure":
		err = azure(ctx, os.Args[2:])
	case "velero":
		err = velero(ctx, os.Args[2:])
	case "netpol":
		err = netpol(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: use up, down, fixture, env, scenario, image, import-image, webhook, azure, velero or netpol", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func defaultDir() string {
	exe, err := os.Executable()
	if err != nil {
		return ".lab"
	}
	// The binary lives in e2e/.cache/bin; the lab state in e2e/.lab.
	return filepath.Join(filepath.Dir(exe), "..", "..", ".lab")
}

func up(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	dir := fs.String("dir", defaultDir(), "lab state directory")
	exe, _ := os.Executable()
	binDir := fs.String("bin-dir", filepath.Dir(exe), "directory of the built lab binaries")
	mode, err := lab.ParseRealNodeMode(os.Getenv("AKSBACKUP_LAB_REAL_NODE"))
	if err != nil {
		return fmt.Errorf("AKSBACKUP_LAB_REAL_NODE: %w", err)
	}
	realNode := &realNodeFlag{mode: mode}
	fs.Var(realNode, "real-node", "boot a kubelet node beside the kwok node: auto (when the host can: root, containerd, runc, CNI plugins), on or off; default $AKSBACKUP_LAB_REAL_NODE, else auto")
	cloudName := fs.String("cloud", os.Getenv("AKSBACKUP_LAB_CLOUD"), "names the lab's Azure answers to: default, or custom (another ARM audience and storage suffix, so a hard-coded public name fails a test); default $AKSBACKUP_LAB_CLOUD")
	noExtra := fs.Bool("no-extra-clusters", os.Getenv("AKSBACKUP_LAB_EXTRA_CLUSTERS") == "0", "boot without the fleet's extra API servers aks-lab-east and aks-lab-west (saves their boot time and about 250 MB each); default: AKSBACKUP_LAB_EXTRA_CLUSTERS=0 sets it")
	verifier := fs.String("verifier-bin", filepath.Join(filepath.Dir(exe), "..", "..", "..", "bin", "aksbackup-verifier"), "the verifier binary imported as "+lab.VerifierImage+" on the real node")
	_ = fs.Parse(args)
	absDir, _ := filepath.Abs(*dir)
	absBin, _ := filepath.Abs(*binDir)
	absVerifier, _ := filepath.Abs(*verifier)
	cloud, err := lab.ParseCloud(*cloudName)
	if err != nil {
		return err
	}
	s, err := lab.Up(ctx, lab.Options{Dir: absDir, BinDir: absBin, Self: exe, Log: os.Stdout, RealNode: realNode.mode, VerifierBin: absVerifier, Cloud: cloud, NoExtraClusters: *noExtra})
	if err != nil {
		return err
	}
	node := "no real node"
	if s.RealNode != nil {
		node = fmt.Sprintf("real node %s Ready %.1fs after containerd started", s.RealNode.Name, s.RealNode.BootSeconds)
	}
	fmt.Printf("lab up in %.1fs (%s): API server %s\n  export KUBECONFIG=%s\n", s.BootSeconds, node, s.APIServerURL, s.Kubeconfig)
	return nil
}

func down(args []string) error {
	fs := flag.NewFlagSet("down", flag.ExitOnError)
	dir := fs.String("dir", defaultDir(), "lab state directory")
	_ = fs.Parse(args)
	absDir, _ := filepath.Abs(*dir)
	return lab.Down(absDir, os.Stdout)
}

func seed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fixture", flag.ExitOnError)
	dir := fs.String("dir", defaultDir(), "lab state directory")
	ns := fs.String("namespace", "dataprotection-microsoft", "namespace to install the fixture into")
	reset := fs.Bool("reset", false, "delete the namespace first, so the fixture starts un-wired")
	profileName := fs.String("profile", "aks-backup", "aks-backup (the extension's namespace), velero (plain Velero: deployment velero, daemonset node-agent, secret cloud-credentials; default namespace velero) or upbound-spaces (a control plane's mxp-controller; default namespace mxp-lab-1)")
	_ = fs.Parse(args)
	absDir, _ := filepath.Abs(*dir)
	s, err := lab.Load(absDir)
	if err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		return err
	}
	begin := time.Now()
	if *profileName == "upbound-spaces" {
		return seedControlPlane(ctx, cfg, fs, *ns, *reset, begin)
	}
	if *profileName == "velero" {
		if *ns == "dataprotection-microsoft" {
			*ns = fixture.VeleroNamespace
		}
		if err := fixture.InstallVelero(ctx, cfg, fixture.Options{Namespace: *ns, CRDFile: s.CRDFile, Reset: *reset, StorageAccountURI: s.StorageAccountURI()}); err != nil {
			return err
		}
		fmt.Printf("velero fixture ready in namespace %s (%.1fs)\n", *ns, time.Since(begin).Seconds())
		return nil
	}
	if *profileName != "aks-backup" {
		return fmt.Errorf("--profile %q: use aks-backup, velero or upbound-spaces", *profileName)
	}
	if err := fixture.Install(ctx, cfg, fixture.Options{Namespace: *ns, CRDFile: s.CRDFile, Reset: *reset, StorageAccountURI: s.StorageAccountURI()}); err != nil {
		return err
	}
	fmt.Printf("fixture ready in namespace %s (%.1fs)\n", *ns, time.Since(begin).Seconds())
	return nil
}

func env(args []string) error {
	fs := flag.NewFlagSet("env", flag.ExitOnError)
	dir := fs.String("dir", defaultDir(), "lab state directory")
	_ = fs.Parse(args)
	absDir, _ := filepath.Abs(*dir)
	s, err := lab.Load(absDir)
	if err != nil {
		return err
	}
	fmt.Printf("export KUBECONFIG=%s\n", s.Kubeconfig)
	fmt.Printf("export SSL_CERT_FILE=%s AKSBACKUP_CLOUD_CONFIG=%s AZURE_SUBSCRIPTION_ID=%s\n", s.CAFile, s.CloudConfig, s.Subscription)
	fmt.Printf("export AZURE_TENANT_ID=%s AZURE_CLIENT_ID=%s AZURE_CLIENT_SECRET=\"$(cat %s)\"\n", s.TenantID, s.AdminClientID, s.AdminSecretFile)
	return nil
}

// scenario switches the Azure doubles to a base state and faults, as the e2e tests do.
func scenario(args []string) error {
	fs := flag.NewFlagSet("scenario", flag.ExitOnError)
	dir := fs.String("dir", defaultDir(), "lab state directory")
	base := fs.String("base", "unwired", "unwired (extension installed, nothing federated or granted) or wired (for --namespace)")
	ns := fs.String("namespace", "dataprotection-microsoft", "namespace the federated credentials' subjects name")
	var faults stringList
	fs.Var(&faults, "fault", "fault to apply (repeat): "+strings.Join(azurelab.Faults, ", "))
	_ = fs.Parse(args)
	absDir, _ := filepath.Abs(*dir)
	s, err := lab.Load(absDir)
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(s.CAFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	body, _ := json.Marshal(map[string]any{"base": *base, "namespace": *ns, "faults": []string(faults)})
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Post(s.ARMURL+"_lab/scenario", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("scenario %s %v: HTTP %d %s", *base, faults, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	fmt.Printf("Azure scenario %s for namespace %s, faults %v\n", *base, *ns, []string(faults))
	return nil
}

// realNodeFlag is --real-node: alone it means on; =auto|on|off (or true/false) as given.
type realNodeFlag struct{ mode lab.RealNodeMode }

func (f *realNodeFlag) String() string {
	if f == nil {
		return ""
	}
	return string(f.mode)
}
func (f *realNodeFlag) IsBoolFlag() bool { return true }
func (f *realNodeFlag) Set(v string) error {
	m, err := lab.ParseRealNodeMode(v)
	if err != nil {
		return err
	}
	f.mode = m
	return nil
}

// importImage loads an image tarball (from `aksbackup-lab image` or `make verifier-image`) into the
// lab's real node, where pods with imagePullPolicy Never find it.
func importImage(args []string) error {
	fs := flag.NewFlagSet("import-image", flag.ExitOnError)
	dir := fs.String("dir", defaultDir(), "lab state directory")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		return errors.New("usage: aksbackup-lab import-image [--dir DIR] FILE.tar")
	}
	absDir, _ := filepath.Abs(*dir)
	s, err := lab.Load(absDir)
	if err != nil {
		return err
	}
	if s.RealNode == nil {
		return fmt.Errorf("the lab in %s has no real node (boot it with `aksbackup-lab up --real-node`)", absDir)
	}
	if err := lab.ImportImage(s.RealNode.Socket, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Printf("imported %s into the real node %s\n", fs.Arg(0), s.RealNode.Name)
	return nil
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func azure(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("azure", flag.ExitOnError)
	cfg := azurelab.Config{}
	var secretFile string
	fs.IntVar(&cfg.ARMPort, "arm-port", 0, "ARM double port")
	fs.IntVar(&cfg.EntraPort, "entra-port", 0, "Entra double port")
	fs.StringVar(&cfg.CertFile, "cert", "", "serving certificate")
	fs.StringVar(&cfg.KeyFile, "key", "", "serving key")
	fs.StringVar(&cfg.CAFile, "ca", "", "lab CA")
	fs.StringVar(&cfg.Issuer, "issuer", "", "the API server's service-account issuer")
	fs.StringVar(&cfg.TenantID, "tenant-id", lab.TenantID, "tenant")
	fs.StringVar(&secretFile, "admin-secret-file", "", "file holding the admin app's client secret")
	fs.IntVar(&cfg.FrontPort, "front-port", 0, "blob front port")
	fs.StringVar(&cfg.AzuriteURL, "azurite-url", "", "Azurite's blob endpoint behind the front")
	fs.StringVar(&cfg.BlobEndpoint, "blob-endpoint", "", "the storage account's blob endpoint (the front)")
	fs.IntVar(&cfg.IMDSPort, "imds-port", 0, "Instance Metadata Service double port (plain HTTP)")
	fs.StringVar(&cfg.ARMAudience, "arm-audience", "", "the only token audience ARM accepts on its loopback address (custom cloud; default: any https://management.* audience)")
	fs.StringVar(&cfg.StorageSuffix, "storage-suffix", "", "storage suffix of the blob endpoints ARM reports to public-host clients (default core.windows.net)")
	alsoListen := fs.String("also-listen", "", "comma-separated addresses to listen on besides 127.0.0.1 (the lab bridge's gateway)")
	var extraClusters stringList
	fs.Var(&extraClusters, "extra-cluster", "NAME=ISSUER_URL of another AKS cluster of the lab subscription (repeatable): the lab's extra API servers")
	_ = fs.Parse(args)
	if *alsoListen != "" {
		cfg.AlsoListen = strings.Split(*alsoListen, ",")
	}
	for _, v := range extraClusters {
		c, err := azurelab.ParseExtraCluster(v)
		if err != nil {
			return err
		}
		cfg.ExtraClusters = append(cfg.ExtraClusters, c)
	}
	secret, err := os.ReadFile(secretFile)
	if err != nil {
		return err
	}
	cfg.AdminSecret = string(secret)
	return azurelab.Run(ctx, cfg)
}

// velero runs the Velero BSL validator double. It clears the Azure identity variables it may have
// inherited: azidentity falls back to the process environment where a pod's is empty, and each
// validation must see only its pod's environment.
func velero(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("velero", flag.ExitOnError)
	cfg := velerolab.Config{BlobAccount: "devstoreaccount1", Accounts: []string{azurelab.AccountName, azurelab.XSubAccountName}, Out: os.Stdout}
	fs.StringVar(&cfg.Kubeconfig, "kubeconfig", "", "admin kubeconfig")
	fs.StringVar(&cfg.CAFile, "ca", "", "lab CA")
	fs.StringVar(&cfg.EntraURL, "entra-url", "", "Entra double URL")
	fs.StringVar(&cfg.ARMURL, "arm-url", "", "ARM double URL")
	fs.StringVar(&cfg.BlobURL, "blob-url", "", "blob front URL")
	fs.StringVar(&cfg.IMDSURL, "imds-url", "", "IMDS double URL")
	fs.StringVar(&cfg.LogDir, "log-dir", "", "directory of the per-pod Velero logs")
	fs.DurationVar(&cfg.Interval, "interval", 2*time.Second, "validation frequency of BSLs that set none")
	fs.IntVar(&cfg.Port, "port", 0, "loopback port of /healthz")
	fs.StringVar(&cfg.StorageSuffix, "storage-suffix", "core.windows.net", "storage suffix of the blob hosts mapped to the blob front")
	_ = fs.Parse(args)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AZURE_") || strings.HasPrefix(name, "IDENTITY_") || strings.HasPrefix(name, "MSI_") || name == "IMDS_ENDPOINT" {
			_ = os.Unsetenv(name)
		}
	}
	return velerolab.Run(ctx, cfg)
}

// netpol enforces the egress part of NetworkPolicies to the bridge gateway for the real node's pods
// (the lab's bridge CNI enforces none); up starts it, down removes its chain.
func netpol(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("netpol", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "admin kubeconfig")
	node := fs.String("node", lab.RealNodeName, "the real node, whose pods are enforced")
	gateway := fs.String("gateway", "", "the bridge gateway address, where the doubles listen")
	chain := fs.String("chain", lab.EgressChain, "iptables filter chain, jumped to from INPUT")
	bridge := fs.String("bridge", lab.RealNodeBridge, "the pods' bridge interface")
	_ = fs.Parse(args)
	gw := net.ParseIP(*gateway)
	if *kubeconfig == "" || gw == nil {
		return fmt.Errorf("netpol needs --kubeconfig and --gateway (an IP address, got %q)", *gateway)
	}
	client, err := adminClient(*kubeconfig)
	if err != nil {
		return err
	}
	return lab.RunNetpol(ctx, lab.NetpolOptions{Client: client, Node: *node, Gateway: gw, Chain: *chain, Bridge: *bridge, Log: os.Stdout})
}

// adminClient is a clientset from the lab's admin kubeconfig.
func adminClient(kubeconfig string) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

func webhook(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("webhook", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "admin kubeconfig")
	cert := fs.String("cert", "", "serving certificate")
	key := fs.String("key", "", "serving key")
	port := fs.Int("port", 0, "loopback port")
	tenant := fs.String("tenant-id", lab.TenantID, "tenant the real webhook is configured with")
	authority := fs.String("authority-host", lab.AuthorityHost, "AZURE_AUTHORITY_HOST to inject")
	_ = fs.Parse(args)
	client, err := adminClient(*kubeconfig)
	if err != nil {
		return err
	}
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/mutate-v1-pod", &wiwebhook.Handler{Client: client, Config: wiwebhook.Config{TenantID: *tenant, AuthorityHost: *authority}})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Addr: "127.0.0.1:" + strconv.Itoa(*port), Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}}, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServeTLS("", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// seedControlPlane installs the Upbound Spaces control-plane fixture (fixture.InstallMXPController).
func seedControlPlane(ctx context.Context, cfg *rest.Config, fs *flag.FlagSet, ns string, reset bool, begin time.Time) error {
	nsSet := false
	fs.Visit(func(f *flag.Flag) { nsSet = nsSet || f.Name == "namespace" })
	if !nsSet {
		ns = "mxp-lab-1"
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if reset {
		if err := fixture.DeleteNamespace(ctx, client, ns, 2*time.Minute); err != nil {
			return err
		}
	}
	if err := fixture.InstallMXPController(ctx, client, ns, 2*time.Minute); err != nil {
		return err
	}
	fmt.Printf("mxp-controller fixture ready in namespace %s (%.1fs)\n", ns, time.Since(begin).Seconds())
	return nil
}
