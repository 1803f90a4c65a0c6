package plugin

import (
	"context"
	"errors"
	"fmt"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bsl"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe/probekube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/version"
)

// Probe modes.
const (
	modeCluster = "cluster"
	modeLocal   = "local"
)

// ProbeOptions writes, reads and deletes one blob per BackupStorageLocation as the component's identity.
type ProbeOptions struct {
	genericiooptions.IOStreams
	Factory kube.Factory
	Profile profileFlags
	Target  probeTargetFlags
	Print   *output.PrintFlags
	Mode    string
	// Image is the verifier image (cluster mode).
	Image             string
	Keep              bool
	CABundleConfigMap string
	Timeout           time.Duration
	NoNetworkChecks   bool

	printer   *output.Printer
	profile   profile.Profile
	component probekube.Component
	cloud     azure.Cloud
	client    kubernetes.Interface
	dynamic   dynamic.Interface
	now       func() time.Time
	newRunID  func() string
}

// probeTransport is local mode's HTTP transport (nil: Go's default, with HTTPS_PROXY and SSL_CERT_FILE);
// tests replace it to trust their fake Azure.
var probeTransport = func() *http.Transport { return nil }

// probeTargetFlags select and override the storage target; probe and probe cleanup share them.
type probeTargetFlags struct {
	BSL               string
	Container         string
	Prefix            string
	StorageAccount    string
	StorageAccountURI string
	UseAAD            bool
	useAADSet         bool
	ClientID          string
	TenantID          string
	Cloud             string
	CloudConfig       string
}

func (f *probeTargetFlags) AddFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.BSL, "bsl", "", "Probe only this BackupStorageLocation (default: every location in the namespace)")
	fl.StringVar(&f.Container, "container", "", "Blob container, instead of the BSL's bucket")
	fl.StringVar(&f.Prefix, "prefix", "", "Prefix, instead of the BSL's")
	fl.StringVar(&f.StorageAccount, "storage-account", "", "Storage account, instead of the BSL's storageAccount")
	fl.StringVar(&f.StorageAccountURI, "storage-account-uri", "", "Blob service URL, instead of the BSL's storageAccountURI (or https://ACCOUNT.blob.SUFFIX)")
	fl.BoolVar(&f.UseAAD, "use-aad", true, "Authenticate with the identity's Entra token, instead of the BSL's useAAD (false: list the account keys as Velero does)")
	fl.StringVar(&f.ClientID, "client-id", "", "Client ID, instead of the service account's azure.workload.identity/client-id")
	fl.StringVar(&f.TenantID, "tenant-id", "", "Tenant ID, instead of the service account's annotation or the webhook's default")
	fl.StringVar(&f.Cloud, "cloud", "AzurePublic", "Azure cloud: "+strings.Join(azure.CloudNames(), ", "))
	fl.StringVar(&f.CloudConfig, "cloud-config", os.Getenv("AKSBACKUP_CLOUD_CONFIG"), "JSON file describing a custom cloud; default $AKSBACKUP_CLOUD_CONFIG")
}

func (f *probeTargetFlags) complete(cmd *cobra.Command) { f.useAADSet = cmd.Flags().Changed("use-aad") }

func (f *probeTargetFlags) identityOverrides() probekube.IdentityOverrides {
	return probekube.IdentityOverrides{ClientID: f.ClientID, TenantID: f.TenantID, TenantFallback: os.Getenv("AZURE_TENANT_ID")}
}

func (f *probeTargetFlags) overrides() probe.Overrides {
	o := probe.Overrides{Container: f.Container, Prefix: f.Prefix, Account: f.StorageAccount, ServiceURL: f.StorageAccountURI}
	if f.useAADSet {
		o.UseAAD = &f.UseAAD
	}
	return o
}

// NewProbeCommand builds `kubectl aksbackup probe`.
func NewProbeCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &ProbeOptions{IOStreams: streams, Factory: factory, now: time.Now, Print: output.NewPrintFlags().
		WithoutWide("the probe prints its steps in full").WithoutName("the probe reports blob operations, not Kubernetes objects")}
	o.newRunID = func() string { return probe.NewRunID(o.now()) }
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Prove the backup identity can write to each BackupStorageLocation, and name the link that fails",
		Long: `Writes one blob to each BackupStorageLocation as the backup component's identity, and reports each
step with its latency: the identity's wiring, the token, DNS, TCP and TLS (or the proxy) to the blob and
Entra endpoints, the token exchange, the listing Velero's validation does, put, get (bytes compared),
delete, and a check that the blob is gone. A failure carries the finding ID the other commands use.

The blob is <prefix>aksbackup-probe-<run-id>, flat under the prefix: Velero marks a location
Unavailable when it finds a directory it does not own, so the probe never makes one.

--mode cluster (default) runs the verifier as a pod with the component's service account, the
workload identity label and the component's proxy settings: it proves the whole path from where Velero
runs. The pod is deleted when the probe ends, fails, times out or is interrupted (--keep keeps it).
Where you may not create pods, the probe falls back to --mode local with a note. --mode local requests a
10-minute token for the service account and exchanges it from this machine: it proves federation and
roles without touching the pod network.

Exit codes: 0 every probe passed, 1 a step failed (the output names it), 2 bad input or missing RBAC,
3 the probe could not run (API errors, interrupted, --timeout).`,
		Example: `  # Every location of the AKS Backup extension, from a verifier pod
  kubectl aksbackup probe

  # One location of plain Velero, from this machine, as JSON
  kubectl aksbackup probe --profile velero --bsl default --mode local -o json

  # Air-gapped: the verifier image from your registry, trusting your proxy's CA
  kubectl aksbackup probe --image registry.example.com/aksbackup-verifier:v1.2.3 --ca-bundle-configmap proxy-ca

  # Remove probe blobs and verifier pods left by a crash
  kubectl aksbackup probe cleanup --older-than 1h`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.Profile.AddFlags(cmd)
	o.Target.AddFlags(cmd)
	o.Print.AddFlags(cmd)
	cmd.Flags().StringVar(&o.Mode, "mode", modeCluster, "cluster: a verifier pod as the component; local: from this machine with a requested token")
	cmd.Flags().StringVar(&o.Image, "image", version.VerifierImage(), "Verifier image (cluster mode); mirror it for private or air-gapped registries")
	cmd.Flags().BoolVar(&o.Keep, "keep", false, "Keep the verifier pod for debugging (cluster mode)")
	cmd.Flags().StringVar(&o.CABundleConfigMap, "ca-bundle-configmap", "", "ConfigMap in the namespace with extra PEM CA certificates for the verifier to trust (TLS-inspecting proxies)")
	cmd.Flags().BoolVar(&o.NoNetworkChecks, "no-network-checks", false, "Skip the DNS, TCP and TLS checks of the endpoints")
	addTimeoutFlag(cmd, &o.Timeout, 3*time.Minute, "Bounds the whole probe, pod start included")
	_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{modeCluster, modeLocal}, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(NewProbeCleanupCommand(factory, streams))
	return cmd
}

func (o *ProbeOptions) Complete(cmd *cobra.Command, _ []string) error {
	o.Target.complete(cmd)
	var err error
	if o.profile, err = o.Profile.Resolve(o.Factory); err != nil {
		return err
	}
	o.component = componentOf(o.profile)
	if o.client, err = o.Factory.Clientset(); err != nil {
		return err
	}
	o.dynamic, err = o.Factory.Dynamic()
	return err
}

// componentOf picks the pair that talks to Blob Storage (the first, when the profile does not say).
func componentOf(p profile.Profile) probekube.Component {
	pair := p.Pairs[0]
	for _, candidate := range p.Pairs {
		if candidate.StorageContainer != "" {
			pair = candidate
			break
		}
	}
	return probekube.Component{Namespace: p.Namespace, ServiceAccount: pair.ServiceAccount, Deployment: pair.Workload.Name, Container: pair.StorageContainer}
}

func (o *ProbeOptions) Validate() error {
	var err error
	if o.printer, err = o.Print.ToPrinter(); err != nil {
		return err
	}
	if o.Mode != modeCluster && o.Mode != modeLocal {
		return fmt.Errorf("invalid --mode %q: use cluster or local", o.Mode)
	}
	if o.Mode == modeLocal && (o.Keep || o.CABundleConfigMap != "") {
		return fmt.Errorf("--keep and --ca-bundle-configmap only apply to --mode cluster")
	}
	if o.Mode == modeCluster && strings.TrimSpace(o.Image) == "" {
		return fmt.Errorf("--image must not be empty in cluster mode")
	}
	if o.CABundleConfigMap != "" {
		if err := checkSubdomain("--ca-bundle-configmap", o.CABundleConfigMap, "give the name of a ConfigMap in "+o.profile.Namespace); err != nil {
			return err
		}
	}
	if o.Target.BSL != "" {
		if err := checkSubdomain("--bsl", o.Target.BSL, "list the locations with: kubectl aksbackup bsl"); err != nil {
			return err
		}
	}
	if o.cloud, err = azure.ResolveCloud(o.Target.Cloud, o.Target.CloudConfig); err != nil {
		return err
	}
	return validateTimeout(o.Timeout)
}

func (o *ProbeOptions) limit() time.Duration { return o.Timeout }

func (o *ProbeOptions) Run(ctx context.Context) error {
	// SIGINT/SIGTERM end the context, so a verifier pod is deleted before the command exits.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	targets, err := resolveTargets(ctx, o.dynamic, o.component.Namespace, &o.Target, o.cloud.StorageSuffix, o.now())
	if err != nil {
		return err
	}
	mode := o.Mode
	var notes []findings.Finding
	if mode == modeCluster {
		allowed, err := o.canRunPods(ctx)
		if err != nil {
			return accessError(err, o.Factory.Host())
		}
		if !allowed {
			mode = modeLocal
			notes = append(notes, catalog.FellBackToLocal.New("namespace/"+o.component.Namespace,
				fmt.Sprintf("You may not create, watch and delete pods in namespace %s; probing from this machine instead.", o.component.Namespace)))
			o.progress(fmt.Sprintf("note: you may not create, watch and delete pods in %s: running in local mode", o.component.Namespace))
		}
	}
	if mode == modeLocal {
		allowed, err := probekube.CanI(ctx, o.client, o.component.Namespace, "create", "serviceaccounts", "token", o.component.ServiceAccount)
		if err != nil {
			return accessError(err, o.Factory.Host())
		}
		if !allowed {
			return exitcode.Invalidf("%s may not create serviceaccounts/token for %s/%s, which local mode needs; nothing was done. Ask for that permission, or run in cluster mode where you may create pods",
				kube.WhoAmI(ctx, o.client), o.component.Namespace, o.component.ServiceAccount)
		}
	}
	rep := probe.NewReport(identity.APIVersion, o.component.Namespace, o.component.ServiceAccount, mode)
	rep.Selector = o.profile.SelectorFlags()
	for _, f := range notes {
		rep.AddFinding(f)
	}
	wiring := probekube.ReadWiring(ctx, o.client, o.component, o.Target.identityOverrides(), o.now)
	var runErr error
	if mode == modeLocal {
		runErr = o.runLocal(ctx, rep, targets, wiring)
	} else {
		runErr = o.runCluster(ctx, rep, targets, wiring)
	}
	if errors.Is(runErr, probekube.ErrInterrupted) {
		if o.Keep {
			fmt.Fprintln(o.ErrOut, "Interrupted: the verifier pod was kept (--keep).")
		} else {
			fmt.Fprintln(o.ErrOut, "Interrupted: the verifier pod was deleted.")
		}
		return &exitcode.Error{Code: exitcode.Failed, Err: errors.New("probe interrupted")}
	}
	if runErr != nil {
		return runErr
	}
	if o.printer.Structured() {
		err = o.printer.PrintDocument(o.Out, rep)
	} else {
		err = probe.WriteText(o.Out, rep, findings.TextOptions{Color: output.ColorEnabled(o.Out)})
	}
	if err != nil {
		return err
	}
	if !rep.OK() {
		return exitcode.ErrFindings
	}
	return nil
}

func (o *ProbeOptions) canRunPods(ctx context.Context) (bool, error) {
	for _, verb := range []string{"create", "watch", "delete"} {
		ok, err := probekube.CanI(ctx, o.client, o.component.Namespace, verb, "pods", "", "")
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// progress prints a line on a terminal only; pipes and CI logs get the result alone.
func (o *ProbeOptions) progress(line string) {
	if output.IsTerminal(o.ErrOut) {
		fmt.Fprintf(o.ErrOut, "[%s] %s\n", o.now().Format("15:04:05"), line)
	}
}

func (o *ProbeOptions) config(t probe.Target, runID, mode string) probe.Config {
	cfg := probe.Config{RunID: runID, Mode: mode, Target: t, Network: !o.NoNetworkChecks, Transport: probeTransport(), Now: o.now,
		ResourceManager: cloud.ServiceConfiguration{Endpoint: o.cloud.ResourceManagerEndpoint, Audience: o.cloud.ResourceManagerAudience}}
	if !t.UseAAD {
		// Key auth from this machine: the key in $AZURE_STORAGE_KEY (never printed), else the
		// account's keys listed as the component's identity, as Velero does.
		cfg.StorageKey = os.Getenv("AZURE_STORAGE_KEY")
	}
	return cfg
}

func (o *ProbeOptions) runLocal(ctx context.Context, rep *probe.Report, targets []probe.Target, wiring probekube.Wiring) error {
	var token string
	var tokenStep probe.Step
	if !wiring.Blocking {
		token, tokenStep = probekube.RequestToken(ctx, o.client, o.component.Namespace, o.component.ServiceAccount, o.now)
	}
	for _, t := range targets {
		cfg := o.config(t, o.newRunID(), modeLocal)
		if wiring.Blocking || tokenStep.Status == probe.StatusFailed {
			steps := []probe.Step{wiring.Step}
			if !wiring.Blocking {
				steps = append(steps, tokenStep)
			}
			rep.Add(probe.Blocked(cfg, steps...))
			continue
		}
		cfg.Prior = []probe.Step{wiring.Step, tokenStep}
		cfg.Identity = probe.Identity{ClientID: wiring.ClientID, TenantID: wiring.TenantID, AuthorityHost: o.cloud.ActiveDirectoryAuthorityHost,
			DisableInstanceDiscovery: o.cloud.Custom, Assertion: func(context.Context) (string, error) { return token, nil }}
		o.progress(fmt.Sprintf("probing %s from this machine", describe(t)))
		rep.Add(probe.Run(ctx, cfg))
	}
	return nil
}

func (o *ProbeOptions) runCluster(ctx context.Context, rep *probe.Report, targets []probe.Target, wiring probekube.Wiring) error {
	for _, t := range targets {
		runID := o.newRunID()
		cfg := o.config(t, runID, modeCluster)
		if wiring.Blocking {
			rep.Add(probe.Blocked(cfg, wiring.Step))
			continue
		}
		pod := probekube.VerifierPod(probekube.PodOptions{Namespace: o.component.Namespace, ServiceAccount: o.component.ServiceAccount, Image: o.Image, RunID: runID,
			Args: o.verifierArgs(t, runID), Env: wiring.ProxyEnv, CABundleConfigMap: o.CABundleConfigMap, Deadline: podDeadline(o.Timeout)})
		o.progress(fmt.Sprintf("probing %s from a verifier pod (image %s)", describe(t), o.Image))
		start := o.now()
		run, err := probekube.RunPod(ctx, o.client, pod, probekube.WatchOptions{Keep: o.Keep, Progress: o.progress, Now: o.now})
		if err != nil {
			if errors.Is(err, probekube.ErrInterrupted) {
				return err
			}
			return kube.Explain(err, o.Factory.Host())
		}
		res := run.Result
		if res == nil {
			res = probe.Blocked(cfg, wiring.Step, run.Step)
		} else {
			res.Target = t
			res.Steps = append([]probe.Step{wiring.Step, run.Step}, res.Steps...)
			res.OK = res.OK && wiring.Step.Status != probe.StatusFailed
			if policies, err := probekube.SelectingEgressPolicies(ctx, o.client, o.component.Namespace, pod.Labels); err == nil {
				probe.ExplainEgress(res, policies)
			}
		}
		res.DurationMS = float64(o.now().Sub(start).Microseconds()) / 1000
		rep.Add(res)
	}
	return nil
}

func (o *ProbeOptions) verifierArgs(t probe.Target, runID string) []string {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute // the pod's own bound when the command has none
	}
	args := []string{"--run-id", runID, "--container", t.Container, "--service-url", t.ServiceURL, "--storage-account", t.Account,
		"--use-aad=" + strconv.FormatBool(t.UseAAD), "--timeout", timeout.String()}
	for _, kv := range [][2]string{{"--bsl", t.BSL}, {"--prefix", t.Prefix}, {"--resource-group", t.ResourceGroup}, {"--subscription", t.Subscription}} {
		if kv[1] != "" {
			args = append(args, kv[0], kv[1])
		}
	}
	if o.cloud.Custom {
		args = append(args, "--authority-host", o.cloud.ActiveDirectoryAuthorityHost)
	}
	args = append(args, "--arm-endpoint", o.cloud.ResourceManagerEndpoint, "--arm-audience", o.cloud.ResourceManagerAudience)
	if o.NoNetworkChecks {
		args = append(args, "--no-network-checks")
	}
	return args
}

// podDeadline is the verifier pod's activeDeadlineSeconds: the kubelet kills it even if this command
// dies without deleting it.
func podDeadline(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return 10 * time.Minute
	}
	return timeout
}

func describe(t probe.Target) string {
	if t.BSL != "" {
		return "BackupStorageLocation " + t.BSL
	}
	return t.ServiceURL + "/" + t.Container
}

// resolveTargets reads the locations (one with --bsl) and applies the flags; with no location and a
// container and account given, the flags alone are the target.
func resolveTargets(ctx context.Context, client dynamic.Interface, namespace string, f *probeTargetFlags, storageSuffix string, now time.Time) ([]probe.Target, error) {
	flagsOnly := f.Container != "" && (f.StorageAccount != "" || f.StorageAccountURI != "")
	rep, err := bsl.Read(ctx, client, namespace, f.BSL, now)
	switch {
	case errors.Is(err, bsl.ErrNotFound):
		return nil, exitcode.Invalid(err)
	case errors.Is(err, bsl.ErrNoCRD) && flagsOnly:
		rep = &bsl.Report{}
	case errors.Is(err, bsl.ErrNoCRD):
		return nil, exitcode.Invalidf("%v; or name the target with --container and --storage-account (or --storage-account-uri)", err)
	case err != nil:
		return nil, kube.Explain(err, "")
	}
	var targets []probe.Target
	var errs []error
	for _, l := range rep.Locations {
		if !strings.EqualFold(l.Provider, "azure") && !strings.HasSuffix(l.Provider, "/azure") {
			continue
		}
		t, err := probe.FromLocation(probe.Location{Name: l.Name, Bucket: l.Bucket, Prefix: l.Prefix, Config: l.Config}, storageSuffix, f.overrides())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		targets = append(targets, t)
	}
	if len(targets) == 0 && len(errs) == 0 {
		if !flagsOnly {
			return nil, exitcode.Invalidf("namespace %s has no Azure BackupStorageLocation to probe: give -n, --bsl, or --container with --storage-account (or --storage-account-uri)", namespace)
		}
		t, err := probe.FromFlags(storageSuffix, f.overrides())
		if err != nil {
			return nil, exitcode.Invalid(err)
		}
		targets = append(targets, t)
	}
	if len(errs) > 0 {
		return nil, exitcode.Invalid(errors.Join(errs...))
	}
	return targets, nil
}
