package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azurecheck"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bsl"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/helmvalues"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/rollout"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/velerocreds"
)

// IdentityConfigureOptions wires the profile's service accounts and deployments to a managed identity.
type IdentityConfigureOptions struct {
	genericiooptions.IOStreams
	Factory kube.Factory
	profileTarget
	ClientID  string
	TenantID  string
	Identity  identityFlags
	RoleScope string
	Overwrite bool
	planFlags
	Print *output.PrintFlags
	// WaitBSL waits, after the wiring is verified, until the BackupStorageLocations are Available.
	WaitBSL    bool
	BSLTimeout time.Duration
	// Helm names the release for the printed values and holds --live-patch.
	Helm helmFlags

	helmValuesOnly bool

	printer *output.Printer
	now     func() time.Time
}

// ConfigureResult is the document `identity configure -o json|yaml` prints.
type ConfigureResult struct {
	APIVersion string                  `json:"apiVersion"`
	Kind       string                  `json:"kind"`
	Profile    string                  `json:"profile"`
	Namespace  string                  `json:"namespace"`
	DryRun     string                  `json:"dryRun"`
	Plan       *identity.ConfigurePlan `json:"plan"`
	// Helm is the chart values that carry the wiring and the helm line, for profiles whose chart sets them.
	Helm *helmvalues.Upgrade `json:"helm,omitempty"`
	// Status is the identity status read after applying and waiting (absent on dry runs).
	Status *identity.Status `json:"status,omitempty"`
}

// NewIdentityConfigureCommand builds `kubectl aksbackup identity configure`.
func NewIdentityConfigureCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &IdentityConfigureOptions{IOStreams: streams, Factory: factory, now: time.Now, Print: output.NewPrintFlags().WithExtra(helmValuesFormat).
		WithoutWide("the plan table has no extra columns").WithoutName("configure prints a plan; identity status -o name lists the objects")}
	cmd := &cobra.Command{
		Use:   "configure",
		Short: "Create the federated credentials and role, annotate, label and restart what needs it",
		Long: `Wires the profile's service accounts and deployments to a managed identity, in phases:

` + phaseHelp(allPhases()) + `

The Azure phases run when the AKS cluster is known (--cluster-id, or inferred from an az aks
get-credentials kubeconfig); the client ID then comes from the extension's identity, so --client-id is
only needed without Azure (--no-azure). Every check runs before the first write: the GUIDs, the objects,
the Azure prerequisites, conflicting values and your RBAC permissions. The plan is printed, then applied after confirmation (or with --yes). A second run changes
nothing. Other labels and annotations are never touched.`,
		Example: `  # Wire the AKS Backup extension to its managed identity and wait for the rollouts
  kubectl aksbackup identity configure --client-id 00000000-0000-0000-0000-000000000000 --yes

  # Only print what would change
  kubectl aksbackup identity configure --client-id 00000000-0000-0000-0000-000000000000 --dry-run=client

  # Annotate and label, but restart later
  kubectl aksbackup identity configure --client-id 00000000-0000-0000-0000-000000000000 --skip-phases restart --yes`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.profileTarget.addFlags(cmd)
	o.Identity.AddFlags(cmd)
	cmd.Flags().StringVar(&o.RoleScope, "role-scope", azurecheck.RoleScopeContainer, "Where to grant Storage Blob Data Contributor: container (the BSL's or extension's container, least privilege) or account")
	cmd.Flags().StringVar(&o.ClientID, "client-id", "", "Client ID (GUID) of the managed identity; default: the backup extension identity's, read from Azure")
	cmd.Flags().StringVar(&o.TenantID, "tenant-id", "", "Tenant ID (GUID) to annotate; by default the webhook's tenant is used")
	cmd.Flags().BoolVar(&o.Overwrite, "overwrite", false, "Replace an existing, different client-id, tenant-id or label value, and a federated credential of configure's name (aksbackup-<service account>) whose issuer, subject or audience differ")
	cmd.Flags().BoolVar(&o.WaitBSL, "wait-bsl", false, "After the wiring is verified, wait until Velero reports the BackupStorageLocations Available (as bsl --wait-available)")
	cmd.Flags().DurationVar(&o.BSLTimeout, "bsl-timeout", 15*time.Minute, "How long --wait-bsl waits; role assignments take minutes to apply")
	o.planFlags.addFlags(cmd, allPhases(), "Bounds the reads and checks before the plan, and again applying the changes, waiting for the rollouts and verifying")
	o.Print.AddFlags(cmd)
	o.Helm.AddFlags(cmd)
	return cmd
}

// allPhases lists configure's phases in order: Azure first, then the cluster.
func allPhases() []plan.Phase {
	return append(append([]plan.Phase{}, azurecheck.Phases...), identity.Phases...)
}

func (o *IdentityConfigureOptions) Complete(*cobra.Command, []string) error {
	return o.complete(o.Factory)
}

func (o *IdentityConfigureOptions) Validate() error {
	var errs []error
	switch {
	case o.ClientID == "" && !o.useAzure:
		errs = append(errs, fmt.Errorf("--client-id is required when the Azure side is not used (%s)", o.azureSkipReason()))
	case o.ClientID != "" && !identity.IsGUID(o.ClientID):
		errs = append(errs, fmt.Errorf("--client-id %q is not a GUID (expected the form 00000000-0000-0000-0000-000000000000)", o.ClientID))
	}
	if o.TenantID != "" && !identity.IsGUID(o.TenantID) {
		errs = append(errs, fmt.Errorf("--tenant-id %q is not a GUID (expected the form 00000000-0000-0000-0000-000000000000)", o.TenantID))
	}
	var err error
	if err := o.Azure.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Identity.Validate(o.profile); err != nil {
		errs = append(errs, err)
	}
	if err := validateRoleScope(o.RoleScope); err != nil {
		errs = append(errs, err)
	}
	if o.printer, err = o.Print.ToPrinter(); err != nil {
		errs = append(errs, err)
	} else {
		o.helmValuesOnly = o.printer.Extra() && string(o.printer.Format()) == helmValuesFormat
	}
	if err := o.planFlags.validate(o.Print, o.printer); err != nil {
		errs = append(errs, err)
	}
	if o.BSLTimeout < 0 {
		errs = append(errs, fmt.Errorf("--bsl-timeout must not be negative, got %s", o.BSLTimeout))
	}
	if o.WaitBSL && (!o.WaitFlags.Wait || o.dryRun != dryRunNone) {
		return fmt.Errorf("--wait-bsl needs the changes applied and the rollouts waited for: drop --dry-run and --wait=false")
	}
	errs = append(errs, o.validateHelm())
	return errors.Join(errs...)
}

// Run bounds each phase that talks to the cluster or Azure by --timeout: the reads and checks
// before the plan, then (after the confirmation, which is not timed) applying, waiting for the
// rollouts and verifying; --bsl-timeout bounds --wait-bsl.
func (o *IdentityConfigureOptions) Run(ctx context.Context) error {
	limit := o.WaitFlags.Timeout
	prepareCtx, cancel := withLimit(ctx, limit)
	defer cancel()
	var cp *identity.ConfigurePlan
	var azurePlan *azurecheck.AzurePlan
	err := runWithin(prepareCtx, limit, func(ctx context.Context) (err error) {
		cp, azurePlan, err = o.prepare(ctx)
		return err
	})
	if err != nil {
		return timedOut(prepareCtx, err, limit)
	}
	result := &ConfigureResult{APIVersion: identity.APIVersion, Kind: "IdentityConfigureResult",
		Profile: o.profile.Name, Namespace: o.profile.Namespace, DryRun: string(o.dryRun), Plan: cp}
	if result.Helm, err = o.helmUpgrade(azurePlan); err != nil {
		return err
	}
	if o.helmValuesOnly {
		return o.writeHelmValuesFile(result.Helm)
	}
	if result.Helm != nil {
		cp.HelmValues = []string{result.Helm.Command}
	}
	table := !o.printer.Structured()

	for _, w := range cp.Warnings {
		fmt.Fprintf(o.ErrOut, "Warning: %s\n", output.Line(w))
	}
	if err := o.printHelmValues(result.Helm); err != nil {
		return err
	}
	if cp.Plan.Empty() {
		if table && o.helmOnly() {
			fmt.Fprintln(o.Out, o.helmOnlyDone())
			return nil
		}
		if table {
			fmt.Fprintf(o.Out, "No changes: the %s wiring in namespace %s is already in place.\n", o.profile.Name, o.profile.Namespace)
			return nil
		}
		return o.printer.PrintDocument(o.Out, result)
	}
	if table {
		fmt.Fprintf(o.Out, "Plan for profile %s in namespace %s:\n", o.profile.Name, o.profile.Namespace)
		if err := cp.Plan.WriteTable(o.Out, false); err != nil {
			return err
		}
	}
	switch o.dryRun {
	case dryRunClient:
		if table {
			fmt.Fprintln(o.Out, "Dry run (client): nothing was sent to the cluster.")
			return nil
		}
		return o.printer.PrintDocument(o.Out, result)
	case dryRunNone:
		if !o.Yes {
			ok, err := confirm(o.In, o.ErrOut, fmt.Sprintf("Apply %d change(s)?", countApplicable(&cp.Plan)))
			if err != nil {
				return exitcode.Invalid(err)
			}
			if !ok {
				fmt.Fprintln(o.ErrOut, "Aborted: nothing was changed.")
				return nil
			}
		}
	}

	applyCtx, cancelApply := withLimit(ctx, limit)
	defer cancelApply()
	apply := func(ctx context.Context) error { return o.apply(ctx, cp, azurePlan, result, table) }
	if err := runWithin(applyCtx, limit, apply); err != nil || !o.WaitBSL {
		return timedOut(applyCtx, err, limit)
	}
	bslCtx, cancelBSL := withLimit(ctx, o.BSLTimeout)
	defer cancelBSL()
	return timedOut(bslCtx, runWithin(bslCtx, o.BSLTimeout, o.waitBSL), o.BSLTimeout)
}

// prepare reads the cluster (and Azure), plans the changes and checks the caller's permissions.
func (o *IdentityConfigureOptions) prepare(ctx context.Context) (*identity.ConfigurePlan, *azurecheck.AzurePlan, error) {
	if err := o.Factory.CheckAPIServer(ctx); err != nil {
		return nil, nil, err
	}
	host := o.Factory.Host()
	snap, err := identity.Read(ctx, o.client, o.profile)
	if err != nil {
		if errors.Is(err, identity.ErrNamespaceNotFound) {
			return nil, nil, exitcode.Invalid(err)
		}
		return nil, nil, kube.Explain(err, host)
	}
	clientID := o.ClientID
	var azurePlan *azurecheck.AzurePlan
	if !o.useAzure && o.skipReason != "" {
		fmt.Fprintf(o.ErrOut, "Warning: only the cluster side is configured; the Azure phases are skipped: %s\n", output.Line(o.skipReason))
	}
	if o.useAzure {
		azc, err := o.Azure.Client()
		if err != nil {
			return nil, nil, err
		}
		pa := profileAzure{Profile: o.profile, Azure: &o.Azure, Identity: o.Identity, ClientID: o.ClientID, Annotated: annotatedClientIDs(o.profile, snap)}
		if o.profile.Name == "velero" {
			// As status does: Velero takes the storage account's resource group from its credentials
			// file when the BSL names none. A secret this caller may not read leaves the BSL's word.
			if creds, err := velerocreds.Check(ctx, o.client, o.profile.Namespace, true); err == nil {
				pa.CredentialsResourceGroup = creds.ResourceGroup
			}
		}
		facts, err := pa.gather(ctx, azc, o.azureTarget, o.client, o.Factory)
		if err != nil {
			return nil, nil, err
		}
		if azurePlan, err = azurecheck.PlanConfigureWith(azc, facts, o.profile, azurecheck.ConfigureOptions{Skip: o.skip, RoleScope: o.RoleScope, Overwrite: o.Overwrite}); err != nil {
			return nil, nil, exitcode.Invalid(err)
		}
		if clientID != "" && !strings.EqualFold(clientID, azurePlan.ClientID) {
			return nil, nil, exitcode.Invalidf("--client-id %s is not the client ID of the backup extension's identity %s (%s); drop --client-id to use it, or --no-azure to wire another identity", clientID, facts.Identity.Name, azurePlan.ClientID)
		}
		if err := checkAzureWrites(ctx, azc, azurePlan.Needs, &azurePlan.Warnings); err != nil {
			return nil, nil, err
		}
		clientID = azurePlan.ClientID
	}
	cp, err := identity.PlanConfigure(o.client, snap, identity.ConfigureRequest{
		Profile: o.profile, ClientID: clientID, TenantID: o.TenantID,
		Overwrite: o.Overwrite, Skip: o.skip, Now: o.now(), HelmOnly: o.helmOnly(),
	})
	if err != nil {
		return nil, nil, exitcode.Invalid(fmt.Errorf("nothing was changed: %w", err))
	}
	if azurePlan != nil {
		cp.Changes = append(azurePlan.Changes, cp.Changes...)
		cp.Warnings = append(cp.Warnings, azurePlan.Warnings...)
	}
	if err := kube.CheckAccess(ctx, o.client, cp.Access); err != nil {
		return nil, nil, accessError(err, host)
	}
	return cp, azurePlan, nil
}

// apply makes the changes, waits for the rollouts and verifies the result.
func (o *IdentityConfigureOptions) apply(ctx context.Context, cp *identity.ConfigurePlan, azurePlan *azurecheck.AzurePlan, result *ConfigureResult, table bool) error {
	execErr := cp.Plan.Execute(ctx, o.dryRun == dryRunServer)
	if execErr != nil {
		o.reportPartial(cp, table)
		if !table {
			_ = o.printer.PrintDocument(o.Out, result)
		}
		return fmt.Errorf("%w; rerun the same command to finish (it only makes the changes still missing)", kube.Explain(execErr, o.Factory.Host()))
	}
	if o.dryRun == dryRunServer {
		if table {
			return writeServerDryRun(o.Out, &cp.Plan, configureAzureChecks)
		}
		writeAzureDryRunNote(o.ErrOut, &cp.Plan, configureAzureChecks)
		return o.printer.PrintDocument(o.Out, result)
	}
	if table {
		counts := cp.Plan.Counts()
		fmt.Fprintf(o.Out, "Applied %d change(s).\n", counts[plan.Applied])
	}
	if azurePlan != nil && azurePlan.NewRoleAssignment {
		fmt.Fprintln(o.ErrOut, "Note: the new role assignment can take several minutes to reach Blob Storage; until then the BackupStorageLocation may stay Unavailable.")
		if !o.WaitBSL {
			fmt.Fprintf(o.ErrOut, "Wait for it with: kubectl aksbackup bsl%s --wait-available --timeout 15m   (or pass --wait-bsl)\n", o.profile.SelectorFlags())
		}
	}

	if o.helmOnly() {
		return o.finishHelmOnly(result, table)
	}
	if o.WaitFlags.Wait && len(cp.Rollouts) > 0 {
		if err := rollout.Wait(ctx, o.client, o.profile.Namespace, cp.Rollouts, o.waitOptions(table)); err != nil {
			return fmt.Errorf("the changes were applied, but %w", err)
		}
	} else if len(cp.Rollouts) > 0 && table {
		fmt.Fprintf(o.Out, "Not waiting for rollouts of %s; check with `kubectl aksbackup identity status%s`.\n", strings.Join(cp.Rollouts, ", "), o.profile.SelectorFlags())
		return nil
	}
	return o.verify(ctx, result, table)
}

// waitBSL is `bsl --wait-available` for the profile's namespace, run after a successful configure.
func (o *IdentityConfigureOptions) waitBSL(ctx context.Context) error {
	b := &BSLOptions{IOStreams: o.IOStreams, Factory: o.Factory, profile: o.profile, Timeout: o.BSLTimeout, PollInterval: 2 * time.Second, now: time.Now}
	var err error
	if b.client, err = o.Factory.Dynamic(); err != nil {
		return err
	}
	rep, err := b.read(ctx)
	if err != nil {
		return fmt.Errorf("the changes were applied, but reading the BackupStorageLocations failed: %w", err)
	}
	fmt.Fprintf(o.ErrOut, "Waiting up to %s for the BackupStorageLocations to turn Available...\n", o.BSLTimeout)
	if rep, err = b.wait(ctx, rep); err != nil {
		return err
	}
	if !rep.AllAvailable() {
		// The cause matters most here: print the report (on ErrOut when stdout carries JSON).
		w := o.Out
		if o.printer.Structured() {
			w = o.ErrOut
		}
		if err := bsl.WriteText(w, rep, time.Now(), findings.TextOptions{Color: output.ColorEnabled(w)}); err != nil {
			return err
		}
		return exitcode.ErrFindings
	}
	return nil
}

// verify re-reads the cluster after the rollouts so the user sees the identity actually landed.
func (o *IdentityConfigureOptions) verify(ctx context.Context, result *ConfigureResult, table bool) error {
	snap, err := identity.Read(ctx, o.client, o.profile)
	if err != nil {
		return fmt.Errorf("the changes were applied, but re-reading the status failed: %w", kube.Explain(err, o.Factory.Host()))
	}
	st := identity.Analyze(o.profile, snap)
	result.Status = st
	if !table {
		if err := o.printer.PrintDocument(o.Out, result); err != nil {
			return err
		}
	} else if st.Healthy() {
		injected, pods := 0, 0
		for _, c := range st.Components {
			injected, pods = injected+c.InjectedPods, pods+len(c.Pods)
		}
		fmt.Fprintf(o.Out, "Verified: %d/%d pods run with the workload identity injected.\n", injected, pods)
	} else {
		fmt.Fprintln(o.Out, "\nThe wiring is applied, but the status still shows problems:")
		if err := findings.WriteText(o.Out, st.Findings, findings.TextOptions{Color: output.ColorEnabled(o.Out)}); err != nil {
			return err
		}
	}
	if !st.Healthy() {
		return exitcode.ErrFindings
	}
	return nil
}

func (o *IdentityConfigureOptions) waitOptions(table bool) rollout.WaitOptions {
	opts := rollout.WaitOptions{Timeout: o.WaitFlags.Timeout, Notice: o.ErrOut}
	if output.IsTerminal(o.ErrOut) {
		opts.Progress = o.ErrOut
	}
	if table {
		opts.Done = o.Out
	}
	return opts
}

func (o *IdentityConfigureOptions) reportPartial(cp *identity.ConfigurePlan, table bool) {
	if !table {
		return
	}
	counts := cp.Plan.Counts()
	fmt.Fprintf(o.ErrOut, "\nApplying stopped: %d applied, %d failed, %d not applied.\n", counts[plan.Applied], counts[plan.Failed], counts[plan.NotApplied])
	_ = cp.Plan.WriteTable(o.ErrOut, true)
}

func countApplicable(p *plan.Plan) int {
	n := 0
	for _, c := range p.Changes {
		if c.Apply != nil {
			n++
		}
	}
	return n
}
