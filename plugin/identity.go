package plugin

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
)

// NewIdentityCommand groups the workload identity verbs.
func NewIdentityCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Inspect and configure the backup component's Azure Workload Identity wiring",
	}
	cmd.AddCommand(
		NewIdentityStatusCommand(factory, streams),
		NewIdentityConfigureCommand(factory, streams),
		NewIdentityUnconfigureCommand(factory, streams),
	)
	return asGroup(cmd)
}
