// Package plugin is the cobra command tree of `kubectl aksbackup`. Each file wires one verb's flags to
// an options struct (Complete/Validate/Run) and calls into pkg/; no business logic lives here.
package plugin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
)

// NewRootCommand builds `kubectl aksbackup` with every kubectl connection flag.
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	configFlags := genericclioptions.NewConfigFlags(true)
	factory := kube.NewFactory(configFlags)
	withContextFactories(configFlags)

	cmd := &cobra.Command{
		Use:   "kubectl-aksbackup",
		Short: "Set up, verify and debug AKS backups that use Azure Workload Identity",
		Long: `kubectl aksbackup wires the AKS Backup extension (or Velero, or Upbound Spaces) to Azure Workload
Identity and tells you, on one screen, why a BackupStorageLocation is not Available.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl aksbackup"},
		SilenceErrors: true,
		// Like kubectl: a short error and a pointer to -h instead of a usage dump that buries the error.
		SilenceUsage: true,
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return exitcode.Invalid(withHelpHint(c, err)) })
	configFlags.AddFlags(cmd.PersistentFlags())

	cmd.AddCommand(
		NewVersionCommand(streams),
		NewIdentityCommand(factory, streams),
		NewRestartCommand(factory, streams),
		NewTrustedAccessCommand(factory, streams),
		NewBSLCommand(factory, streams),
		NewTriageCommand(factory, streams),
		NewProbeCommand(factory, streams),
		NewPreflightCommand(factory, streams),
		NewBundleCommand(factory, streams),
		NewDoctorCommand(factory, streams),
	)
	return cmd
}

// Execute runs the command tree and gives every error an exit code: errors cobra raises before a
// command runs (unknown command, bad arguments) are usage errors.
func Execute(cmd *cobra.Command) error {
	failed, err := cmd.ExecuteC()
	var coded *exitcode.Error
	if err != nil && !errors.As(err, &coded) {
		return exitcode.Invalid(withHelpHint(failed, err))
	}
	return err
}

// asGroup makes a command that only groups verbs (identity, trusted-access) refuse an unknown verb
// as the root does, with suggestions, instead of cobra's default of printing help and exiting 0.
func asGroup(cmd *cobra.Command) *cobra.Command {
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		hint := ""
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2 // cobra's default, which SuggestionsFor does not apply
		}
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			hint = "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
		return fmt.Errorf("unknown command %q for %q%s", args[0], c.CommandPath(), hint)
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	return cmd
}

func withHelpHint(cmd *cobra.Command, err error) error {
	return fmt.Errorf("%w\nSee '%s -h' for help and examples", err, cmd.CommandPath())
}
