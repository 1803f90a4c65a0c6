package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	Print         *output.PrintFlags
	DryRun        string
	Yes           bool
	Timeout       time.Duration
	create        bool

	printer *output.Printer
	dryRun  dryRunMode
	cluster azure.ResourceID
	vault   azure.ResourceID
	client  kubernetes.Interface
}

func newTrustedAccessStatusCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &TrustedAccessOptions{IOStreams: streams, Factory: factory, Print: output.NewPrintFlags().WithWide().
		WithoutName("Trusted Access bindings and role assignments are Azure resources, not Kubernetes objects")}
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
	o.Print.AddFlags(cmd)
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
	if o.Print != nil {
		if o.printer, err = o.Print.ToPrinter(); err != nil {
			return err
		}
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
	if o.printer.Structured() {
		err = o.printer.PrintDocument(o.Out, report)
	} else {
		err = writeTrustedAccess(o.Out, report, o.printer.Wide())
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
		fmt.Fprintln(o.Out, "Dry run: nothing was sent to Azure.")
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

// writeTrustedAccess prints the bindings and the role matrix as tables (-o wide adds the binding's
// ARM ID, and the principal and role definition IDs), then the findings.
func writeTrustedAccess(w io.Writer, r *trustedaccess.Report, wide bool) error {
	fmt.Fprintf(w, "Cluster %s\nVault   %s\n\n", output.Line(r.Cluster), output.Line(r.Vault))
	bindings := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Binding", Type: "string"}, {Name: "Source", Type: "string"}, {Name: "Roles", Type: "string"}, {Name: "State", Type: "string"},
		{Name: "ID", Type: "string", Priority: 1},
	}}
	for _, b := range r.Bindings {
		bindings.Rows = append(bindings.Rows, metav1.TableRow{Cells: []any{b.Name, b.SourceResourceID, strings.Join(b.Roles, ","), b.ProvisioningState, b.ID}})
	}
	if len(r.Bindings) == 0 {
		bindings.Rows = append(bindings.Rows, metav1.TableRow{Cells: []any{"<none>", "", "", "", ""}})
	}
	if err := output.PrintTable(w, bindings, wide); err != nil {
		return err
	}
	matrix := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Who", Type: "string"}, {Name: "Role", Type: "string"}, {Name: "Scope", Type: "string"}, {Name: "OK", Type: "string"},
		{Name: "Principal ID", Type: "string", Priority: 1}, {Name: "Role ID", Type: "string", Priority: 1},
	}}
	for _, m := range r.Matrix {
		matrix.Rows = append(matrix.Rows, metav1.TableRow{Cells: []any{m.Who, m.Role, m.Scope, yesNoText(m.Satisfied), m.PrincipalID, m.RoleID}})
	}
	if len(matrix.Rows) > 0 {
		fmt.Fprintln(w)
		if err := output.PrintTable(w, matrix, wide); err != nil {
			return err
		}
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
