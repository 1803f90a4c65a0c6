package plugin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
)

// planFlags belong to a command that plans its changes in phases, shows the plan, asks, then applies
// and waits: --yes, --skip-phases, --dry-run and the wait flags.
type planFlags struct {
	Yes        bool
	DryRun     string
	SkipPhases []string
	WaitFlags  waitFlags

	phases []plan.Phase
	dryRun dryRunMode
	skip   map[string]bool
}

func (p *planFlags) addFlags(cmd *cobra.Command, phases []plan.Phase, waitHelp string) {
	p.phases = phases
	names := make([]string, len(phases))
	for i, ph := range phases {
		names[i] = ph.Name
	}
	cmd.Flags().BoolVarP(&p.Yes, "yes", "y", false, "Apply without asking for confirmation")
	cmd.Flags().StringSliceVar(&p.SkipPhases, "skip-phases", nil, "Phases to skip (comma-separated): "+strings.Join(names, ", "))
	addDryRunFlag(cmd, &p.DryRun)
	p.WaitFlags.AddFlags(cmd, waitHelp)
	_ = cmd.RegisterFlagCompletionFunc("skip-phases", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
}

// phaseHelp lists the phases for a command's long help, one a line, descriptions aligned.
func phaseHelp(phases []plan.Phase) string {
	width := 0
	for _, ph := range phases {
		width = max(width, len(ph.Name))
	}
	lines := make([]string, len(phases))
	for i, ph := range phases {
		lines[i] = fmt.Sprintf("  %-*s  %s", width, ph.Name, ph.Description)
	}
	return strings.Join(lines, "\n")
}

// validate parses --dry-run and --skip-phases and checks the wait flags; a structured -o cannot
// share the terminal with a confirmation prompt.
func (p *planFlags) validate(print *output.PrintFlags, printer *output.Printer) error {
	var errs []error
	var err error
	if p.dryRun, err = parseDryRun(p.DryRun); err != nil {
		errs = append(errs, err)
	}
	if p.skip, err = plan.ParseSkip(p.phases, p.SkipPhases); err != nil {
		errs = append(errs, err)
	}
	if err := p.WaitFlags.Validate(); err != nil {
		errs = append(errs, err)
	}
	if printer != nil && printer.Structured() && !p.Yes && p.dryRun == dryRunNone {
		errs = append(errs, fmt.Errorf("-o %s cannot prompt for confirmation: add --yes or --dry-run", print.Output))
	}
	return errors.Join(errs...)
}
