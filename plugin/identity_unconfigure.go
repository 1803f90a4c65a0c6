package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azurecheck"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/rollout"
)

// unconfigureAzureChecks is what unconfigure checked in place of ARM's missing server-side dry run.
const unconfigureAzureChecks = "your permission to delete on each scope (Microsoft.Authorization/permissions), and that each credential and assignment exists and still holds configure's values"

// IdentityUnconfigureOptions removes what `identity configure` created, and nothing else.
type IdentityUnconfigureOptions struct {
	genericiooptions.IOStreams
	Factory kube.Factory
	profileTarget
	ClientID string
	planFlags
	Print *output.PrintFlags

	printer *output.Printer
	now     func() time.Time
}

// UnconfigureResult is the document `identity unconfigure -o json|yaml` prints.
type UnconfigureResult struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Profile    string `json:"profile"`
	Namespace  string `json:"namespace"`
	DryRun     string `json:"dryRun"`
	// ClientID is the client ID whose annotation and injection are removed.
	ClientID string                    `json:"clientId"`
	Plan     *identity.UnconfigurePlan `json:"plan"`
	// PodsStillInjected counts, after the rollouts, the pods still running with ClientID (absent on dry runs).
	PodsStillInjected *int `json:"podsStillInjected,omitempty"`
}

// NewIdentityUnconfigureCommand builds `kubectl aksbackup identity unconfigure`.
func NewIdentityUnconfigureCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &IdentityUnconfigureOptions{IOStreams: streams, Factory: factory, now: time.Now, Print: output.NewPrintFlags().
		WithoutWide("the plan table has no extra columns").WithoutName("unconfigure prints a plan; identity status -o name lists the objects")}
	cmd := &cobra.Command{
		Use:   "unconfigure",
		Short: "Remove exactly what identity configure created: credentials, role, annotation and label",
		Long: `Undoes identity configure, in phases:

` + phaseHelp(unconfigurePhases()) + `

Only what configure created is removed, and only while it still holds configure's values: its named
federated credentials (aksbackup-<service account>) with the cluster's issuer, the service account's
subject and the token audience; role assignments carrying configure's deterministic name for their
scope; the client-id annotation while it holds the identity's client ID (or --client-id with
--no-azure) and the pod-template label azure.workload.identity/use: "true", each while configure's
field manager (kubectl-aksbackup) is its only manager. Anything else, including a value changed or
set by someone else, is kept and listed with the reason. The restartedAt stamp configure's restart
left on a pod template is removed with it, so the template returns to what it was. Workloads whose
template changes roll out; the command waits for them, as configure does. A second run changes
nothing.`,
		Example: `  # Print what would be removed
  kubectl aksbackup identity unconfigure --dry-run=client

  # Remove the wiring of the AKS Backup extension and wait for the rollouts
  kubectl aksbackup identity unconfigure --yes

  # Cluster side only, for an identity wired with --no-azure
  kubectl aksbackup identity unconfigure --no-azure --client-id 00000000-0000-0000-0000-000000000000 --yes`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.profileTarget.addFlags(cmd)
	cmd.Flags().StringVar(&o.ClientID, "client-id", "", "Client ID (GUID) configure annotated; default: the backup identity's, read from Azure (required with --no-azure)")
	o.planFlags.addFlags(cmd, unconfigurePhases(), "Bounds the reads and checks before the plan, and again applying the changes and waiting for the rollouts")
	o.Print.AddFlags(cmd)
	return cmd
}

// unconfigurePhases lists unconfigure's phases in order: the cluster first, so that pods stop using
// the identity before Azure stops trusting them.
func unconfigurePhases() []plan.Phase {
	return append(append([]plan.Phase{}, identity.UnconfigurePhases...), azurecheck.UnconfigurePhases...)
}

func (o *IdentityUnconfigureOptions) Complete(*cobra.Command, []string) error {
	return o.complete(o.Factory)
}

func (o *IdentityUnconfigureOptions) Validate() error {
	var errs []error
	switch {
	case o.ClientID == "" && !o.useAzure:
		errs = append(errs, fmt.Errorf("--client-id is required when the Azure side is not used (%s): it names the annotation value configure set", o.azureSkipReason()))
	case o.ClientID != "" && !identity.IsGUID(o.ClientID):
		errs = append(errs, fmt.Errorf("--client-id %q is not a GUID (expected the form 00000000-0000-0000-0000-000000000000)", o.ClientID))
	}
	if err := o.Azure.Validate(); err != nil {
		errs = append(errs, err)
	}
	var err error
	if o.printer, err = o.Print.ToPrinter(); err != nil {
		errs = append(errs, err)
	}
	if err := o.planFlags.validate(o.Print, o.printer); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Run bounds the reads and checks by --timeout, then (after the untimed confirmation) applying and
// waiting for the rollouts.
func (o *IdentityUnconfigureOptions) Run(ctx context.Context) error {
	limit := o.WaitFlags.Timeout
	prepareCtx, cancel := withLimit(ctx, limit)
	defer cancel()
	var result *UnconfigureResult
	err := runWithin(prepareCtx, limit, func(ctx context.Context) (err error) {
		result, err = o.prepare(ctx)
		return err
	})
	if err != nil {
		return timedOut(prepareCtx, err, limit)
	}
	up := result.Plan
	table := !o.printer.Structured()
	for _, w := range up.Warnings {
		fmt.Fprintf(o.ErrOut, "Warning: %s\n", output.Line(w))
	}
	if up.Empty() {
		if !table {
			return o.printer.PrintDocument(o.Out, result)
		}
		fmt.Fprintf(o.Out, "No changes: nothing configure created for client ID %s is left in namespace %s or in Azure.\n", result.ClientID, o.profile.Namespace)
		if len(up.Changes) > 0 {
			fmt.Fprintln(o.Out, "Kept:")
			return up.WriteTable(o.Out, false)
		}
		return nil
	}
	if table {
		fmt.Fprintf(o.Out, "Plan to undo configure for profile %s in namespace %s (client ID %s):\n", o.profile.Name, o.profile.Namespace, result.ClientID)
		if err := up.WriteTable(o.Out, false); err != nil {
			return err
		}
	}
	switch o.dryRun {
	case dryRunClient:
		if table {
			fmt.Fprintln(o.Out, "Dry run (client): nothing was sent to the cluster or to Azure.")
			return nil
		}
		return o.printer.PrintDocument(o.Out, result)
	case dryRunNone:
		if !o.Yes {
			ok, err := confirm(o.In, o.ErrOut, fmt.Sprintf("Remove %d object(s) or value(s)?", countApplicable(&up.Plan)))
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
	return timedOut(applyCtx, runWithin(applyCtx, limit, func(ctx context.Context) error { return o.apply(ctx, result, table) }), limit)
}

// prepare reads the cluster and Azure, plans the removals and checks the caller's permissions.
func (o *IdentityUnconfigureOptions) prepare(ctx context.Context) (*UnconfigureResult, error) {
	if err := o.Factory.CheckAPIServer(ctx); err != nil {
		return nil, err
	}
	host := o.Factory.Host()
	snap, err := identity.Read(ctx, o.client, o.profile)
	if err != nil {
		if errors.Is(err, identity.ErrNamespaceNotFound) {
			return nil, exitcode.Invalid(err)
		}
		return nil, kube.Explain(err, host)
	}
	clientID := o.ClientID
	var azurePlan *azurecheck.UnconfigurePlan
	if !o.useAzure && o.skipReason != "" {
		fmt.Fprintf(o.ErrOut, "Warning: only the cluster side is undone; the Azure phases are skipped: %s\n", output.Line(o.skipReason))
	}
	if o.useAzure {
		azc, err := o.Azure.Client()
		if err != nil {
			return nil, err
		}
		facts, err := gatherAzure(ctx, azc, o.azureTarget, o.client)
		if err != nil {
			return nil, err
		}
		if azurePlan, err = azurecheck.PlanUnconfigure(azc, facts, o.profile, o.skip); err != nil {
			return nil, exitcode.Invalid(err)
		}
		if err := checkAzureWrites(ctx, azc, azurePlan.Needs, &azurePlan.Warnings); err != nil {
			return nil, err
		}
		switch {
		case azurePlan.ClientID == "" && clientID == "":
			return nil, exitcode.Invalidf("the backup identity was not found in Azure, so the client ID configure annotated is unknown; give it with --client-id, or undo only the cluster side with --no-azure --client-id")
		case clientID != "" && azurePlan.ClientID != "" && !strings.EqualFold(clientID, azurePlan.ClientID):
			return nil, exitcode.Invalidf("--client-id %s is not the client ID of the backup identity (%s); drop --client-id to use it, or --no-azure to undo another identity's wiring", clientID, azurePlan.ClientID)
		case clientID == "":
			clientID = azurePlan.ClientID
		}
	}
	up := identity.PlanUnconfigure(o.client, snap, identity.UnconfigureRequest{Profile: o.profile, ClientID: clientID, Skip: o.skip, Now: o.now()})
	if azurePlan != nil {
		up.Changes = append(up.Changes, azurePlan.Changes...)
		up.Warnings = append(up.Warnings, azurePlan.Warnings...)
	}
	if err := kube.CheckAccess(ctx, o.client, up.Access); err != nil {
		return nil, accessError(err, host)
	}
	return &UnconfigureResult{APIVersion: identity.APIVersion, Kind: "IdentityUnconfigureResult", Profile: o.profile.Name,
		Namespace: o.profile.Namespace, DryRun: string(o.dryRun), ClientID: clientID, Plan: up}, nil
}

// apply removes, waits for the rollouts and checks that no pod runs with the client ID any more.
func (o *IdentityUnconfigureOptions) apply(ctx context.Context, result *UnconfigureResult, table bool) error {
	up := result.Plan
	if err := up.Execute(ctx, o.dryRun == dryRunServer); err != nil {
		if table {
			counts := up.Counts()
			fmt.Fprintf(o.ErrOut, "\nApplying stopped: %d applied, %d failed, %d not applied.\n", counts[plan.Applied], counts[plan.Failed], counts[plan.NotApplied])
			_ = up.WriteTable(o.ErrOut, true)
		} else {
			_ = o.printer.PrintDocument(o.Out, result)
		}
		return fmt.Errorf("%w; rerun the same command to finish (it only removes what is still there)", kube.Explain(err, o.Factory.Host()))
	}
	if o.dryRun == dryRunServer {
		if !table {
			return o.printer.PrintDocument(o.Out, result)
		}
		return writeServerDryRun(o.Out, &up.Plan, unconfigureAzureChecks)
	}
	if table {
		fmt.Fprintf(o.Out, "Applied %d change(s).\n", up.Counts()[plan.Applied])
	}
	if len(up.Rollouts) > 0 && !o.WaitFlags.Wait {
		if table {
			fmt.Fprintf(o.Out, "Not waiting for rollouts of %s; check with `kubectl aksbackup identity status%s`.\n", strings.Join(up.Rollouts, ", "), o.profile.SelectorFlags())
			return nil
		}
		return o.printer.PrintDocument(o.Out, result)
	}
	if len(up.Rollouts) > 0 {
		opts := rollout.WaitOptions{Timeout: o.WaitFlags.Timeout}
		if output.IsTerminal(o.ErrOut) {
			opts.Progress = o.ErrOut
		}
		if table {
			opts.Done = o.Out
		}
		if err := rollout.Wait(ctx, o.client, o.profile.Namespace, up.Rollouts, opts); err != nil {
			return fmt.Errorf("the changes were applied, but %w", err)
		}
	}
	snap, err := identity.Read(ctx, o.client, o.profile)
	if err != nil {
		return fmt.Errorf("the changes were applied, but re-reading the pods failed: %w", kube.Explain(err, o.Factory.Host()))
	}
	injected, total := identity.PodsRunningWith(o.profile, snap, result.ClientID)
	result.PodsStillInjected = &injected
	if !table {
		if err := o.printer.PrintDocument(o.Out, result); err != nil {
			return err
		}
	} else if injected == 0 {
		fmt.Fprintf(o.Out, "Verified: none of the %d pod(s) runs with client ID %s.\n", total, result.ClientID)
	}
	// Pods stay wired on purpose where a value was kept or the restart skipped; otherwise it is a finding.
	expected := o.skip[identity.PhaseRestart] || slices.ContainsFunc(up.Changes, func(c *plan.Change) bool {
		return c.Action == plan.ActionKeep && (c.Phase == identity.PhaseServiceAccount || c.Phase == identity.PhasePodLabel)
	})
	switch {
	case injected == 0:
		return nil
	case expected:
		if table {
			fmt.Fprintf(o.Out, "%d of %d pod(s) still run with client ID %s, as the kept values or the skipped restart leave them.\n", injected, total, result.ClientID)
		}
		return nil
	}
	if table {
		fmt.Fprintf(o.Out, "%d of %d pod(s) still run with client ID %s; restart them with `kubectl aksbackup restart%s`.\n", injected, total, result.ClientID, o.profile.SelectorFlags())
	}
	return exitcode.ErrFindings
}
