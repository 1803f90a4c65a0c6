package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	snapshotclient "github.com/kubernetes-csi/external-snapshotter/client/v8/clientset/versioned"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azurecheck"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/preflight"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/shellquote"
)

// PreflightOptions checks whether AKS Backup can work on a cluster before it is installed.
type PreflightOptions struct {
	genericiooptions.IOStreams
	Factory  kube.Factory
	Azure    azureFlags
	Print    *output.PrintFlags
	Timeout  time.Duration
	PageSize int64
	Portworx bool

	printer      *output.Printer
	client       kubernetes.Interface
	dynamic      dynamic.Interface
	snapshots    snapshotclient.Interface
	azureTarget  azure.ResourceID
	checkAzure   bool
	azureSkipped string
}

// NewPreflightCommand builds `kubectl aksbackup preflight`.
func NewPreflightCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &PreflightOptions{IOStreams: streams, Factory: factory, Print: output.NewPrintFlags().
		WithoutWide("the check and volume tables have no extra columns").
		WithoutName("preflight reports checks and volume classes, not Kubernetes objects")}
	cmd := &cobra.Command{
		Use:   "preflight",
		Short: "Check whether AKS Backup can work on this cluster, before installing it",
		Long: `Checks what AKS Backup needs before its extension is installed: the Kubernetes version, the Azure Disk
(and Azure Files) CSI drivers, the snapshot CRDs, controller and a VolumeSnapshotClass for
disk.csi.azure.com, every persistent volume classed by what AKS Backup can do with it (read page by
page), AAD Pod Identity's exception for dataprotection-microsoft, Linux nodes with room for the
extension's pods, and NO_PROXY behind a proxy. With an AKS cluster (--cluster-id, or inferred from an
az aks get-credentials kubeconfig) it also checks the cluster's managed identity, OIDC issuer and
workload identity in ARM, and with --portworx the ARM actions Portworx needs.

Reads it may not do are named and skipped. Exits 0 when ready, 1 when any finding is an error, 2 on bad
input, 3 when it could not run.`,
		Example: `  # Before az k8s-extension create --extension-type microsoft.dataprotection.kubernetes
  kubectl aksbackup preflight

  # Only the cluster side, as JSON
  kubectl aksbackup preflight --no-azure -o json

  # Also compare your permissions on the node resource group with Portworx's documented role
  kubectl aksbackup preflight --cluster-id /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/NAME --portworx`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.Azure.AddFlags(cmd)
	o.Print.AddFlags(cmd)
	addTimeoutFlag(cmd, &o.Timeout, defaultReadTimeout, "Bounds the whole command, the Azure checks included")
	cmd.Flags().Int64Var(&o.PageSize, "page-size", preflight.DefaultPageSize, "Objects per list request (persistent volumes, nodes, pods)")
	cmd.Flags().BoolVar(&o.Portworx, "portworx", false, "Compare your Azure permissions at the node resource group with the ARM actions Portworx documents")
	return cmd
}

// restConfigFactory is a factory that hands out its REST config, so preflight can ask for protobuf.
type restConfigFactory interface {
	RESTConfig() (*rest.Config, error)
}

// snapshotClientFactory hands out a client of the external-snapshotter's types (tests' fakes).
type snapshotClientFactory interface {
	Snapshots() (snapshotclient.Interface, error)
}

func (o *PreflightOptions) Complete(*cobra.Command, []string) error {
	var err error
	if o.azureTarget, o.checkAzure, o.azureSkipped, err = o.Azure.optionalTarget(o.Factory); err != nil {
		return err
	}
	rf, ok := o.Factory.(restConfigFactory)
	if !ok {
		sf, ok := o.Factory.(snapshotClientFactory)
		if !ok {
			return errors.New("preflight needs a REST config for the snapshot client")
		}
		if o.snapshots, err = sf.Snapshots(); err != nil {
			return err
		}
		if o.client, err = o.Factory.Clientset(); err != nil {
			return err
		}
		o.dynamic, err = o.Factory.Dynamic()
		return err
	}
	cfg, err := rf.RESTConfig()
	if err != nil {
		return err
	}
	if o.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	// CRDs are served as JSON only, so the snapshot client keeps the plain config.
	if o.snapshots, err = snapshotclient.NewForConfig(cfg); err != nil {
		return err
	}
	// Protobuf halves the decoding work of a 20,000-volume list; the dynamic client needs JSON.
	typed := rest.CopyConfig(cfg)
	typed.ContentType = "application/vnd.kubernetes.protobuf"
	typed.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	o.client, err = kubernetes.NewForConfig(typed)
	return err
}

func (o *PreflightOptions) Validate() error {
	var err error
	if o.printer, err = o.Print.ToPrinter(); err != nil {
		return err
	}
	if err := validateTimeout(o.Timeout); err != nil {
		return err
	}
	if o.PageSize < 1 {
		return fmt.Errorf("--page-size must be at least 1, got %d", o.PageSize)
	}
	if o.Portworx && !o.checkAzure {
		return errors.New("--portworx needs the AKS cluster: give --cluster-id, or --subscription with --resource-group and --cluster-name, and not --no-azure")
	}
	return o.Azure.Validate()
}

func (o *PreflightOptions) limit() time.Duration { return o.Timeout }

func (o *PreflightOptions) Run(ctx context.Context) error {
	kubeBefore, armBefore := kube.RequestsSent(), azure.RequestsSent()
	if err := o.Factory.CheckAPIServer(ctx); err != nil {
		return err
	}
	in := preflight.Input{Client: o.client, Dynamic: o.dynamic, Snapshots: o.snapshots, APIServerHost: hostOf(o.Factory.Host()), PageSize: o.PageSize, AzureSkipped: o.azureSkipped}
	var extra []findings.Finding
	if o.checkAzure {
		azc, err := o.Azure.Client()
		if err != nil {
			return err
		}
		cluster, err := azc.GetCluster(ctx, o.azureTarget)
		var nf *azure.NotFoundError
		switch {
		case errors.As(err, &nf):
			return exitcode.Invalid(fmt.Errorf("%s: AKS cluster %s is not known to ARM (%w); check --cluster-id, or --subscription, --resource-group and --cluster-name (az aks show --ids %s)",
				catalog.ClusterNotFound.ID, o.azureTarget, err, shellquote.Quote(o.azureTarget.String())))
		case err != nil:
			// Partial access: the cluster side still runs.
			extra = append(extra, catalog.AzureReadFailed.New(o.azureTarget.String(), "reading the AKS cluster: "+err.Error()))
		default:
			in.Cluster = clusterFacts(o.azureTarget, cluster)
			if in.Providers, err = azurecheck.CheckProviders(ctx, azc, o.azureTarget.SubscriptionID); err != nil {
				return err
			}
			in.ProvidersChecked = true
			if o.Portworx {
				scope := "/subscriptions/" + o.azureTarget.SubscriptionID + "/resourceGroups/" + cluster.NodeResourceGroup
				in.Portworx = &preflight.PortworxInput{Permissions: azc, Scope: scope, Identity: "your Azure credential (--azure-credential)"}
			}
		}
	}
	report, err := preflight.Run(ctx, in)
	if err != nil {
		return kube.Explain(err, o.Factory.Host())
	}
	if len(extra) > 0 {
		report.Findings = findings.Rank(append(report.Findings, extra...))
		report.Summary = findings.Summarize(report.Findings)
		report.Ready = !findings.HasErrors(report.Findings)
	}
	report.Requests = &preflight.Requests{Kubernetes: kube.RequestsSent() - kubeBefore, Azure: azure.RequestsSent() - armBefore}
	if o.printer.Structured() {
		err = o.printer.PrintDocument(o.Out, preflightDocument{APIVersion: identity.APIVersion, Report: report})
	} else {
		err = preflight.WriteText(o.Out, report, findings.TextOptions{Color: output.ColorEnabled(o.Out)})
		if err == nil && report.Requests.Kubernetes > 0 {
			fmt.Fprintf(o.ErrOut, "read in %d Kubernetes and %d ARM requests\n", report.Requests.Kubernetes, report.Requests.Azure)
		}
	}
	if err != nil {
		return err
	}
	if !report.Ready {
		return exitcode.ErrFindings
	}
	return nil
}

// preflightDocument is the report as a typed document, for the json, yaml and template printers.
type preflightDocument struct {
	APIVersion string `json:"apiVersion"`
	*preflight.Report
}

// clusterFacts is the part of the ARM cluster preflight checks.
func clusterFacts(id azure.ResourceID, c *azure.Cluster) *preflight.ClusterFacts {
	facts := &preflight.ClusterFacts{
		ID: id.String(), ResourceGroup: id.ResourceGroup, Name: id.Name,
		IdentityType: c.IdentityType, ServicePrincipalClientID: c.ServicePrincipalClientID,
		OIDCIssuerEnabled: c.OIDCIssuerEnabled, WorkloadIdentityEnabled: c.WorkloadIdentityEnabled,
		NodeResourceGroup: c.NodeResourceGroup,
	}
	if hp := c.HTTPProxy; hp != nil {
		facts.HTTPProxy = &preflight.ProxyConfig{HTTPProxy: hp.HTTPProxy, HTTPSProxy: hp.HTTPSProxy, NoProxy: hp.NoProxy}
	}
	return facts
}

// hostOf is the host of the API server URL ("" when it is not a URL).
func hostOf(server string) string {
	u, err := url.Parse(server)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
