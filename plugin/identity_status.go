package plugin

import (
	"context"
	"errors"
	"fmt"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azurecheck"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/velerocreds"
)

// IdentityStatusOptions reports the wiring of each service account / deployment pair.
type IdentityStatusOptions struct {
	genericiooptions.IOStreams
	Factory kube.Factory
	profileTarget
	// Identity names the workload's own managed identity (profiles without the extension).
	Identity identityFlags
	Print    *output.PrintFlags
	Timeout  time.Duration

	printer *output.Printer
}

// NewIdentityStatusCommand builds `kubectl aksbackup identity status`.
func NewIdentityStatusCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &IdentityStatusOptions{IOStreams: streams, Factory: factory, Print: output.NewPrintFlags().WithWide()}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the backup component's pods really run with the workload identity",
		Long: `Checks each service account / deployment pair of the profile: the client-id annotation, the pod
template label, and what the webhook injected into the running pods (env and projected token). With an
AKS cluster (--cluster-id, or inferred from an az aks get-credentials kubeconfig) it also checks Azure:
OIDC issuer, workload identity, the backup extension and its identity, federated credentials, roles and
the storage account. Exits 0 when healthy, 1 when any finding is an error.`,
		Example: `  # AKS Backup extension (namespace dataprotection-microsoft)
  kubectl aksbackup identity status

  # Plain Velero, as JSON
  kubectl aksbackup identity status --profile velero -o json

  # Upbound Spaces control plane in namespace mxp-1234
  kubectl aksbackup identity status --profile upbound-spaces -n mxp-1234`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.profileTarget.addFlags(cmd)
	o.Identity.AddFlags(cmd)
	o.Print.AddFlags(cmd)
	addTimeoutFlag(cmd, &o.Timeout, defaultReadTimeout, "Bounds the whole command, the Azure checks included")
	return cmd
}

func (o *IdentityStatusOptions) Complete(*cobra.Command, []string) error {
	return o.complete(o.Factory)
}

func (o *IdentityStatusOptions) Validate() error {
	var err error
	if o.printer, err = o.Print.ToPrinter(); err != nil {
		return err
	}
	if err := validateTimeout(o.Timeout); err != nil {
		return err
	}
	if err := o.Identity.Validate(o.profile); err != nil {
		return err
	}
	return o.Azure.Validate()
}

func (o *IdentityStatusOptions) limit() time.Duration { return o.Timeout }

func (o *IdentityStatusOptions) Run(ctx context.Context) error {
	if err := o.Factory.CheckAPIServer(ctx); err != nil {
		return err
	}
	snap, err := identity.Read(ctx, o.client, o.profile)
	if err != nil {
		if errors.Is(err, identity.ErrNamespaceNotFound) {
			return exitcode.Invalid(err)
		}
		return kube.Explain(err, o.Factory.Host())
	}
	st := identity.Analyze(o.profile, snap)
	var creds velerocreds.Result
	if o.profile.Name == "velero" {
		// Judged by its key names only; of the values, only the resource group name is read.
		if creds, err = velerocreds.Check(ctx, o.client, o.profile.Namespace, len(st.AnnotatedClientIDs()) > 0); err != nil {
			return kube.Explain(err, o.Factory.Host())
		}
		if creds.Note != "" {
			fmt.Fprintf(o.ErrOut, "Warning: %s\n", creds.Note)
		}
		st.AddFindings(creds.Findings...)
	}
	switch {
	case o.useAzure:
		azc, err := o.Azure.Client()
		if err != nil {
			return err
		}
		pa := profileAzure{Profile: o.profile, Azure: &o.Azure, Identity: o.Identity, Annotated: annotatedClientIDs(o.profile, snap), CredentialsResourceGroup: creds.ResourceGroup}
		facts, err := pa.gather(ctx, azc, o.azureTarget, o.client, o.Factory)
		if err != nil {
			return err
		}
		st.Azure = azurecheck.Summarize(facts)
		st.AddFindings(azurecheck.Analyze(facts, azurecheck.Input{Profile: o.profile, AnnotatedClientIDs: st.AnnotatedClientIDs()})...)
		providers, err := providerFindings(ctx, azc, o.profile, o.azureTarget)
		if err != nil {
			return err
		}
		st.AddFindings(providers...)
	case o.skipReason != "":
		st.AddFindings(catalog.AzureChecksSkipped.New("", o.skipReason))
	}
	if o.printer.Structured() {
		err = o.printer.PrintDocument(o.Out, st)
	} else {
		err = identity.WriteStatus(o.Out, st, findings.TextOptions{Color: output.ColorEnabled(o.Out), Wide: o.printer.Wide()})
	}
	if err != nil {
		return err
	}
	if !st.Healthy() {
		return exitcode.ErrFindings
	}
	return nil
}
