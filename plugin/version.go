package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/version"
)

// VersionOptions prints the build's version.
type VersionOptions struct {
	genericiooptions.IOStreams
	Output string
	format output.Format
}

// NewVersionCommand builds `kubectl aksbackup version`.
func NewVersionCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &VersionOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the plugin's version",
		Example: "  kubectl aksbackup version\n  kubectl aksbackup version -o json",
		Args:    cobra.NoArgs,
		RunE:    runE(o),
	}
	addOutputFlag(cmd, &o.Output, "")
	return cmd
}

func (o *VersionOptions) Complete(*cobra.Command, []string) error { return nil }

func (o *VersionOptions) Validate() error {
	f, err := output.ParseFormat(o.Output)
	o.format = f
	return err
}

func (o *VersionOptions) Run(context.Context) error {
	info := version.Get()
	if o.format.Structured() {
		return output.Write(o.Out, o.format, info)
	}
	_, err := fmt.Fprintf(o.Out, "kubectl-aksbackup %s (commit %s, built %s, %s, %s)\n", info.Version, info.Commit, info.BuildDate, info.GoVersion, info.Platform)
	return err
}
