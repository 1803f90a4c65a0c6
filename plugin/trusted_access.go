package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azurecheck"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/trustedaccess"
)

// NewTrustedAccessCommand groups the Trusted Access verbs.
func NewTrustedAccessCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trusted-access",
		Short: "Check and create the Trusted Access binding between the cluster and a backup vault",
	}
	cmd.AddCommand(newTrustedAccessStatusCommand(factory, streams), newTrustedAccessCreateCommand(factory, streams))
	return asGroup(cmd)
}

// TrustedAccessOptions serves both verbs: status reads, create writes the binding.
type TrustedAccessOptions struct {
	genericiooptions.IOStreams
	Factory       kube.Factory
	Azure         azureFlags
	VaultID       string
	SnapshotGroup string
	Name          string
	Output        string
	DryRun        string
	Yes           bool
	Timeout       time.Duration
	create        bool

	format  output.Format
	dryRun  dryRunMode
	cluster azure.ResourceID
	vault   azure.ResourceID
	client  kubernetes.Interface
}

func newTrustedAccessStatusCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &TrustedAccessOptions{IOStreams: streams, Factory: factory}
	cmd := &cobra.Command{
		Use:   "status --vault-id ID",
		Short: "List the cluster's bindings, check the vault's, and check the AKS Backup role matrix",
		Long: `Lists the cluster's Trusted Access role bindings and checks that the backup vault has one with role
` + trustedaccess.BackupOperatorRole + ` and a system-assigned identity. Then checks the
role assignments Azure's enable-backup flow creates, and prints the exact command for any that is missing:
  vault identity:     Reader on the cluster; Reader and Disk Snapshot Contributor on the snapshot
                      resource group; Storage Blob Data Reader on the storage account
  cluster identity:   Contributor on the snapshot resource group
  extension identity: Storage Blob Data Contributor on the storage account`,
		Example: `  kubectl aksbackup trusted-access status --vault-id /subscriptions/.../backupVaults/vault --snapshot-resource-group snapshots-rg
  kubectl aksbackup trusted-access status --vault-id ... -o json`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.addFlags(cmd)
	addOutputFlag(cmd, &o.Output, "table")
	cmd.Flags().StringVar(&o.SnapshotGroup, "snapshot-resource-group", "", "Resource group that holds the disk snapshots (in the cluster's subscription); its roles are checked when given")
	return cmd
}

func newTrustedAccessCreateCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &TrustedAccessOptions{IOStreams: streams, Factory: factory, create: true}
	cmd := &cobra.Command{
		Use:     "create --vault-id ID",
		Short:   "Create the vault's Trusted Access role binding (" + trustedaccess.BackupOperatorRole + ")",
		Example: `  kubectl aksbackup trusted-access create --vault-id /subscriptions/.../backupVaults/vault --yes`,
		Args:    cobra.NoArgs,
		RunE:    runE(o),
	}
	o.addFlags(cmd)
	addDryRunFlag(cmd, &o.DryRun)
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "Create without asking for confirmation")
	cmd.Flags().StringVar(&o.Name, "name", "", "Binding name (default: bv-<vault name>, at most 24 characters)")
	return cmd
}

func (o *TrustedAccessOptions) addFlags(cmd *cobra.Command) {
	o.Azure.AddFlags(cmd)
	what := "Bounds the whole command"
	if o.create {
		what = "Bounds the checks before the plan, and again creating the binding (the confirmation is not timed)"
	}
	addTimeoutFlag(cmd, &o.Timeout, defaultReadTimeout, what)
	cmd.Flags().StringVar(&o.VaultID, "vault-id", "", "ARM ID of the backup vault (/subscriptions/.../providers/Microsoft.DataProtection/backupVaults/NAME)")
}

func (o *TrustedAccessOptions) Complete(*cobra.Command, []string) error {
	var ok bool
	var err error
	if o.cluster, ok, err = o.Azure.Target(o.Factory); err != nil {
		return err
	}
	if !ok {
		return errNoAzureTarget
	}
	o.client, _ = o.Factory.Clientset() // only to read the API server's issuer; optional here
	return nil
}

func (o *TrustedAccessOptions) Validate() error {
	if o.VaultID == "" {
		return fmt.Errorf("--vault-id is required: the backup vault's ARM ID (az dataprotection backup-vault show --query id)")
	}
	var err error
	if o.vault, err = azure.ParseResourceID(o.VaultID, azure.TypeBackupVault); err != nil {
		return err
	}
	if o.format, err = output.ParseFormat(o.Output); err != nil {
		return err
	}
	if o.dryRun, err = parseDryRun(o.DryRun); err != nil {
		return err
	}
	if err := validateTimeout(o.Timeout); err != nil {
		return err
	}
	if o.Name != "" && (len(o.Name) > 24 || strings.Trim(o.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "") {
		return fmt.Errorf("--name %q: use 1 to 24 letters, digits, hyphens or underscores", o.Name)
	}
	return o.Azure.Validate()
}

// limit bounds status as a whole; create times its phases itself, around the confirmation.
func (o *TrustedAccessOptions) limit() time.Duration {
	if o.create {
		return 0
	}
	return o.Timeout
}

func (o *TrustedAccessOptions) Run(ctx context.Context) error {
	azc, err := o.Azure.Client()
	if err != nil {
		return err
	}
	if o.create {
		return o.runCreate(ctx, azc)
	}
	in := trustedaccess.Input{Cluster: o.cluster, Vault: o.vault}
	if o.client != nil {
		if facts, err := gatherAzure(ctx, azc, o.cluster, o.client); err == nil {
			in.StorageAccountID = facts.AccountID
			if facts.Cluster != nil {
				in.ClusterPrincipalID = facts.Cluster.IdentityPrincipalID
			}
			if facts.Identity != nil {
				in.ExtensionPrincipalID = facts.Identity.PrincipalID
			}
		}
	}
	if o.SnapshotGroup != "" {
		in.SnapshotResourceGroup = "/subscriptions/" + o.cluster.SubscriptionID + "/resourceGroups/" + o.SnapshotGroup
	}
	report, err := trustedaccess.Check(ctx, azc, in)
	if err != nil {
		return err
	}
	if o.format.Structured() {
		err = output.Write(o.Out, o.format, report)
	} else {
		err = writeTrustedAccess(o.Out, report)
	}
	if err != nil {
		return err
	}
	if report.Summary.Errors > 0 {
		return exitcode.ErrFindings
	}
	return nil
}

func (o *TrustedAccessOptions) runCreate(ctx context.Context, azc azure.Client) error {
	planCtx, cancel := withLimit(ctx, o.Timeout)
	defer cancel()
	var p *plan.Plan
	var noChange string
	var warnings []string
	err := runWithin(planCtx, o.Timeout, func(ctx context.Context) (err error) {
		p, noChange, err = trustedaccess.PlanCreate(ctx, azc, o.cluster, o.vault, o.Name)
		if err == nil && p != nil {
			err = checkAzureWrites(ctx, azc, []azurecheck.Need{{Action: azurecheck.ActionWriteTrustedAccess, Scope: o.cluster.String()}}, &warnings)
		}
		return err
	})
	for _, w := range warnings {
		fmt.Fprintf(o.ErrOut, "Warning: %s\n", output.Line(w))
	}
	if err != nil {
		return timedOut(planCtx, exitcode.Invalid(err), o.Timeout)
	}
	if p == nil {
		fmt.Fprintln(o.Out, noChange)
		return nil
	}
	fmt.Fprintf(o.Out, "Plan for cluster %s:\n", o.cluster)
	if err := p.WriteTable(o.Out, false); err != nil {
		return err
	}
	switch o.dryRun {
	case dryRunClient:
		fmt.Fprintln(o.Out, "Dry run (client): nothing was sent to Azure.")
		return nil
	case dryRunServer:
		if err := p.Execute(ctx, true); err != nil {
			return err
		}
		return writeServerDryRun(o.Out, p, trustedAccessAzureChecks)
	}
	if !o.Yes {
		ok, err := confirm(o.In, o.ErrOut, "Create the binding?")
		if err != nil {
			return exitcode.Invalid(err)
		}
		if !ok {
			fmt.Fprintln(o.ErrOut, "Aborted: nothing was changed.")
			return nil
		}
	}
	createCtx, cancelCreate := withLimit(ctx, o.Timeout)
	defer cancelCreate()
	if err := runWithin(createCtx, o.Timeout, func(ctx context.Context) error { return p.Execute(ctx, false) }); err != nil {
		return timedOut(createCtx, err, o.Timeout)
	}
	fmt.Fprintf(o.Out, "Created Trusted Access binding %s.\n", p.Changes[0].Object)
	return nil
}

func writeTrustedAccess(w io.Writer, r *trustedaccess.Report) error {
	fmt.Fprintf(w, "Cluster %s\nVault   %s\n\n", output.Line(r.Cluster), output.Line(r.Vault))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BINDING\tSOURCE\tROLES\tSTATE")
	for _, b := range r.Bindings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", output.Line(b.Name), output.Line(b.SourceResourceID), output.Line(strings.Join(b.Roles, ",")), output.Line(b.ProvisioningState))
	}
	if len(r.Bindings) == 0 {
		fmt.Fprintln(tw, "<none>\t\t\t")
	}
	fmt.Fprintln(tw, "\nWHO\tROLE\tSCOPE\tOK")
	for _, m := range r.Matrix {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", output.Line(m.Who), output.Line(m.Role), output.Line(m.Scope), yesNoText(m.Satisfied))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(w)
		if err := findings.WriteText(w, r.Findings, findings.TextOptions{Color: output.ColorEnabled(w)}); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\n%s\n", findings.SummaryLine(r.Summary))
	return err
}

func yesNoText(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
