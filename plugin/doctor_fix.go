package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bsl"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/doctor"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
)

// fixer is a command of the tool that repairs a class of findings.
type fixer struct {
	name   string
	newCmd commandBuilder
	args   []string
	fixes  []string // the finding IDs it repairs, for the plan
	// waitBSL makes identity configure wait for the locations; off when doctor patches a location
	// after it, and waits itself.
	waitBSL bool
}

// fixersFor picks, from the error findings, the tool's commands that repair them: identity configure
// for the wiring, federated credentials and roles; trusted-access create for the vault binding.
// Whatever no command repairs is returned with its own remediation.
func (o *DoctorOptions) fixersFor(rep *doctor.Report) ([]fixer, []findings.Finding) {
	// --overwrite: a value doctor names as wrong (a client ID, a credential of configure's name) is
	// replaced, shown in the plan and confirmed like every other change.
	configure := fixer{name: "identity configure", newCmd: NewIdentityCommand, args: []string{"configure", "--overwrite"}}
	trusted := fixer{name: "trusted-access create", newCmd: NewTrustedAccessCommand, args: []string{"create", "--vault-id", o.VaultID}}
	// The federation and role checks show identity status's findings, which configure repairs; the
	// same suffix from another check (trusted-access's backup-role-missing) is not configure's.
	shownBy := map[string][]string{}
	for _, c := range rep.Checks {
		for _, id := range c.Findings {
			shownBy[id] = append(shownBy[id], c.ID)
		}
	}
	var manual []findings.Finding
	for _, f := range rep.Findings {
		if f.Severity != findings.SeverityError || len(f.CausedBy) > 0 {
			continue
		}
		switch {
		case f.ID == "trusted-access-missing" && o.VaultID != "":
			trusted.fixes = doctor.AppendOnce(trusted.fixes, f.ID)
		case configurable[f.ID] || slices.Contains(shownBy[f.ID], checkFederation) || slices.Contains(shownBy[f.ID], checkRoles):
			configure.fixes = doctor.AppendOnce(configure.fixes, f.ID)
		default:
			manual = append(manual, f)
		}
	}
	var out []fixer
	for _, fx := range []fixer{configure, trusted} {
		if len(fx.fixes) > 0 {
			out = append(out, fx)
		}
	}
	return out, manual
}

// configurable are the wiring findings identity configure repairs.
var configurable = map[string]bool{
	"wi-client-id-missing": true, "wi-client-id-invalid": true, "wi-client-id-inconsistent": true, "wi-label-missing": true,
	"wi-restart-needed": true, "wi-not-injected": true, "wi-client-id-wrong-identity": true, "wi-tenant-id-invalid": true,
}

// fix plans every repair the tool can make, shows the plan, asks (unless --yes), applies, and runs
// doctor again to show before and after.
func (o *DoctorOptions) fix(ctx context.Context, before *doctor.Report) error {
	fmt.Fprintf(o.Out, "Before: %s\n", output.Line(before.Line()))
	if before.Verdict == doctor.CouldNotRun {
		return doctorExit(before)
	}
	fixers, manual := o.fixersFor(before)
	bslNames, bslFixes, bslWhyNot := o.bslFixesFor(before, fixers)
	if bslWhyNot != "" {
		fmt.Fprintf(o.Out, "Not fixed: %s: %s\n", catalog.BSLNotUsingAAD.ID, output.Line(bslWhyNot))
	}
	if before.Healthy() && len(bslNames) == 0 {
		fmt.Fprintln(o.Out, "Nothing to fix.")
		return nil
	}
	manual = slices.DeleteFunc(manual, func(f findings.Finding) bool { return slices.Contains(bslFixes, f.ID) })
	for _, f := range manual {
		fmt.Fprintf(o.Out, "Not fixable by this tool: %s on %s", f.ID, output.Line(f.Object))
		if len(f.Remediation) > 0 {
			fmt.Fprintf(o.Out, "; fix: %s", output.Line(f.Remediation[0]))
		}
		fmt.Fprintln(o.Out)
	}
	var bslPlan *plan.Plan
	if len(bslNames) > 0 {
		p, err := doctor.PlanUseAAD(ctx, o.dynamic, o.profile.Namespace, bslNames)
		if err != nil {
			return fmt.Errorf("planning the BackupStorageLocation config: %w; nothing was changed", err)
		}
		if !p.Empty() {
			bslPlan = p
		}
	}
	if len(fixers) == 0 && bslPlan == nil {
		fmt.Fprintln(o.Out, "No fix this tool can make; nothing was changed.")
		return doctorExit(before)
	}
	// One plan: each fixer's own dry run, in order.
	planMode := "client"
	if o.DryRun == "server" {
		planMode = "server"
	}
	for _, fx := range fixers {
		fmt.Fprintf(o.Out, "\n%s (fixes %s):\n", fx.name, strings.Join(fx.fixes, ", "))
		text, err := o.runFixer(ctx, fx, "--dry-run="+planMode)
		io.WriteString(o.Out, text)
		if err != nil {
			return fmt.Errorf("planning %s: %w; nothing was changed", fx.name, err)
		}
	}
	steps := len(fixers)
	if bslPlan != nil {
		steps++
		fmt.Fprintf(o.Out, "\nBackupStorageLocation config (fixes %s):\n", strings.Join(bslFixes, ", "))
		if err := bslPlan.WriteTable(o.Out, false); err != nil {
			return err
		}
		if o.DryRun == "server" {
			if err := bslPlan.Execute(ctx, true); err != nil {
				return fmt.Errorf("the API server refused the BackupStorageLocation patch: %w; nothing was changed", err)
			}
			if err := writeServerDryRun(o.Out, bslPlan, ""); err != nil {
				return err
			}
		}
	}
	if o.DryRun != "none" {
		fmt.Fprintln(o.Out, "\nDry run: nothing was changed.")
		return doctorExit(before)
	}
	if !o.Yes {
		ok, err := confirm(o.In, o.ErrOut, fmt.Sprintf("Apply the fixes of %d step(s)?", steps))
		if err != nil {
			return exitcode.Invalid(err)
		}
		if !ok {
			fmt.Fprintln(o.ErrOut, "Aborted: nothing was changed.")
			return doctorExit(before)
		}
	}
	for _, fx := range fixers {
		fx.waitBSL = o.WaitBSL && bslPlan == nil
		fmt.Fprintf(o.Out, "\nApplying %s:\n", fx.name)
		text, err := o.runFixer(ctx, fx, "--yes")
		io.WriteString(o.Out, text)
		if err != nil && !errors.Is(err, exitcode.ErrFindings) {
			return fmt.Errorf("%s failed: %w; rerun doctor --fix to finish", fx.name, err)
		}
	}
	if bslPlan != nil {
		// After configure: the blob data role is granted before the location stops using keys.
		fmt.Fprintln(o.Out, "\nApplying the BackupStorageLocation config:")
		err := bslPlan.Execute(ctx, false)
		if werr := bslPlan.WriteTable(o.Out, true); werr != nil {
			return werr
		}
		if err != nil {
			return fmt.Errorf("patching the BackupStorageLocation failed: %w; rerun doctor --fix to finish", err)
		}
		if o.WaitBSL {
			o.waitForLocations(ctx)
		}
	}
	after, err := o.diagnose(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "\nBefore: %s\nAfter:  %s\n\n", output.Line(before.Line()), output.Line(after.Line()))
	if err := doctor.WriteText(o.Out, after, findings.TextOptions{Color: output.ColorEnabled(o.Out), Wide: o.printer.Wide()}); err != nil {
		return err
	}
	return doctorExit(after)
}

// bslFixesFor picks the BackupStorageLocations doctor --fix switches to Entra ID (useAAD: true), and
// the findings that fixes: bsl-not-using-aad, and shared-key-disabled where it is a root cause. Only
// a location the user owns: the AKS Backup extension renders its own from its configuration settings
// and would put the old value back (its fix is az k8s-extension update). Only when the identity's
// blob data role is in place, or configure grants it in the same run, or keys fail already: a
// location that works with a key must not stop working. whyNot says why a location that is not on
// Entra ID is left alone.
func (o *DoctorOptions) bslFixesFor(rep *doctor.Report, fixers []fixer) (names, fixes []string, whyNot string) {
	for _, f := range rep.Findings {
		if f.ID != catalog.BSLNotUsingAAD.ID {
			continue
		}
		// The object is backupstoragelocation/NAMESPACE/NAME.
		names = doctor.AppendOnce(names, f.Object[strings.LastIndex(f.Object, "/")+1:])
	}
	if len(names) == 0 {
		return nil, nil, ""
	}
	if o.profile.ExtensionType != "" {
		return nil, nil, "the " + o.profile.ExtensionType + " extension owns its BackupStorageLocation; set configuration.backupStorageLocation.config.useAAD=true with az k8s-extension update"
	}
	rolesOK := false
	for _, c := range rep.Checks {
		if c.ID == checkRoles {
			rolesOK = c.Status == doctor.StatusOK || c.Status == doctor.StatusWarning
		}
	}
	for _, fx := range fixers {
		rolesOK = rolesOK || (fx.name == "identity configure" && slices.ContainsFunc(fx.fixes, func(id string) bool {
			return slices.Contains(checkFindings(rep, checkRoles), id)
		}))
	}
	// Where keys already fail (the account refuses them, or Velero's key is refused), the location
	// does not work with a key, and Entra ID is the fix both findings name.
	fixes = []string{catalog.BSLNotUsingAAD.ID}
	for _, f := range rep.RootCauses {
		if f.ID == catalog.SharedKeyDisabled.ID || f.ID == catalog.StorageKeyMisconfigured.ID {
			fixes = doctor.AppendOnce(fixes, f.ID)
		}
	}
	if !rolesOK && len(fixes) == 1 {
		return nil, nil, "the identity's blob data role is not confirmed (check storage-roles), and a location that works with a key must keep working"
	}
	return names, fixes, ""
}

// checkFindings lists the finding IDs one check showed.
func checkFindings(rep *doctor.Report, check string) []string {
	for _, c := range rep.Checks {
		if c.ID == check {
			return c.Findings
		}
	}
	return nil
}

// waitForLocations waits, up to --bsl-timeout, for Velero to validate the locations again; the
// report after the fix says why any is still not Available.
func (o *DoctorOptions) waitForLocations(ctx context.Context) {
	fmt.Fprintf(o.ErrOut, "Waiting up to %s for the BackupStorageLocations to turn Available...\n", o.BSLTimeout)
	ctx, cancel := context.WithTimeout(ctx, o.BSLTimeout)
	defer cancel()
	if _, err := bsl.Wait(ctx, o.dynamic, o.profile.Namespace, "", bsl.WaitOptions{Resync: 10 * time.Second}); err != nil {
		fmt.Fprintf(o.ErrOut, "Not all Available yet (%s); the report below says why.\n", output.Line(err.Error()))
	}
}

// runFixer runs a fixing command in-process with doctor's selection, in text mode.
func (o *DoctorOptions) runFixer(ctx context.Context, fx fixer, extra ...string) (string, error) {
	var out bytes.Buffer
	cmd := fx.newCmd(o.Factory, genericiooptions.IOStreams{In: o.In, Out: &out, ErrOut: &out})
	sub, _, err := cmd.Find(fx.args[:1])
	if err != nil {
		return "", err
	}
	args := append(append([]string{}, fx.args...), forwardedFlags(o.cmd, sub)...)
	if sub.Flags().Lookup("profile") != nil {
		args = append(args, selectionArgs(o.profile)...)
	}
	applying := len(extra) > 0 && extra[0] == "--yes"
	if fx.name == "identity configure" && fx.waitBSL && applying {
		args = append(args, "--wait-bsl", "--bsl-timeout", o.BSLTimeout.String())
	}
	cmd.SetArgs(append(args, extra...))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err = cmd.ExecuteContext(ctx)
	if err != nil && !errors.Is(err, exitcode.ErrFindings) {
		return out.String(), err
	}
	return out.String(), err
}
