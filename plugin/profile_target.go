package plugin

import (
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// profileTarget is what the identity commands resolve before anything else: the profile, the AKS
// cluster when the Azure side is used (or why it is not), and the clientset.
type profileTarget struct {
	Profile profileFlags
	Azure   azureFlags

	profile     profile.Profile
	client      kubernetes.Interface
	azureTarget azure.ResourceID
	// useAzure: the Azure side is read (and written, for configure); skipReason says why not.
	useAzure   bool
	skipReason string
}

func (t *profileTarget) addFlags(cmd *cobra.Command) {
	t.Profile.AddFlags(cmd)
	t.Azure.AddFlags(cmd)
}

// complete resolves the profile, the Azure target and the clientset, in that order.
func (t *profileTarget) complete(factory kube.Factory) error {
	var err error
	if t.profile, err = t.Profile.Resolve(factory); err != nil {
		return err
	}
	if t.azureTarget, t.useAzure, t.skipReason, err = t.Azure.optionalTarget(factory); err != nil {
		return err
	}
	t.client, err = factory.Clientset()
	return err
}

// azureSkipReason names why the Azure side is not used, for the error that a flag then becomes required.
func (t *profileTarget) azureSkipReason() string {
	if t.skipReason == "" {
		return "--no-azure"
	}
	return t.skipReason
}
