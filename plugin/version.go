package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/version"
)

// VersionOptions prints the build's version.
type VersionOptions struct {
	genericiooptions.IOStreams
	Print   *output.PrintFlags
	printer *output.Printer
}

// versionDocument is the version as a typed document, for the json, yaml and template printers.
type versionDocument struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	version.Info
}

// NewVersionCommand builds `kubectl aksbackup version`.
func NewVersionCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &VersionOptions{IOStreams: streams, Print: output.NewPrintFlags().
		WithoutWide("the version is one line").WithoutName("the version is not a Kubernetes object")}
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the plugin's version",
		Example: "  kubectl aksbackup version\n  kubectl aksbackup version -o json",
		Args:    cobra.NoArgs,
		RunE:    runE(o),
	}
	o.Print.AddFlags(cmd)
	return cmd
}

func (o *VersionOptions) Complete(*cobra.Command, []string) error { return nil }

func (o *VersionOptions) Validate() error {
	var err error
	o.printer, err = o.Print.ToPrinter()
	return err
}

func (o *VersionOptions) Run(context.Context) error {
	info := version.Get()
	if o.printer.Structured() {
		return o.printer.PrintDocument(o.Out, versionDocument{APIVersion: identity.APIVersion, Kind: "Version", Info: info})
	}
	_, err := fmt.Fprintf(o.Out, "kubectl-aksbackup %s (commit %s, built %s, %s, %s)\n", info.Version, info.Commit, info.BuildDate, info.GoVersion, info.Platform)
	return err
}
