package plugin

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/cobra"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
)

// azureFlags select the AKS cluster in ARM and how to reach ARM.
type azureFlags struct {
	ClusterID     string
	Subscription  string
	ResourceGroup string
	ClusterName   string
	Cloud         string
	CloudConfig   string
	Credential    string
	NoAzure       bool
}

// newAzureClient builds the ARM client from the flags; tests replace it with a fake.
var newAzureClient = func(f *azureFlags) (azure.Client, error) {
	opts, err := f.clientOptions()
	if err != nil {
		return nil, err
	}
	return azure.NewClient(opts)
}

// clientOptions are the cloud and credential every ARM client of a command is built with.
func (f *azureFlags) clientOptions() (azure.Options, error) {
	cloud, err := azure.ResolveCloud(f.Cloud, f.CloudConfig)
	if err != nil {
		return azure.Options{}, err
	}
	cred, err := azure.NewCredential(f.Credential, cloud, policy.ClientOptions{})
	if err != nil {
		return azure.Options{}, fmt.Errorf("building the Azure credential: %w", err)
	}
	return azure.Options{Cloud: cloud, Credential: cred}, nil
}

func (f *azureFlags) AddFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.ClusterID, "cluster-id", "", "ARM ID of the AKS cluster (/subscriptions/.../managedClusters/NAME)")
	fl.StringVar(&f.Subscription, "subscription", "", "Azure subscription of the cluster (default $AZURE_SUBSCRIPTION_ID)")
	fl.StringVar(&f.ResourceGroup, "resource-group", "", "Resource group of the AKS cluster (default: inferred from an az aks get-credentials kubeconfig)")
	fl.StringVar(&f.ClusterName, "cluster-name", "", "Name of the AKS cluster (default: inferred from an az aks get-credentials kubeconfig)")
	fl.StringVar(&f.Cloud, "cloud", "AzurePublic", "Azure cloud: "+strings.Join(azure.CloudNames(), ", "))
	fl.StringVar(&f.CloudConfig, "cloud-config", os.Getenv("AKSBACKUP_CLOUD_CONFIG"), "JSON file describing a custom cloud (resourceManagerEndpoint, resourceManagerAudience, activeDirectoryAuthorityHost, storageSuffix); default $AKSBACKUP_CLOUD_CONFIG")
	fl.StringVar(&f.Credential, "azure-credential", "default", "Azure credential: "+strings.Join(azure.CredentialKinds(), ", "))
	fl.BoolVar(&f.NoAzure, "no-azure", false, "Skip the Azure checks and steps; only the cluster side")
	_ = cmd.RegisterFlagCompletionFunc("cloud", cobra.FixedCompletions(azure.CloudNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("azure-credential", cobra.FixedCompletions(azure.CredentialKinds(), cobra.ShellCompDirectiveNoFileComp))
}

// noSubscriptionError: the cluster was inferred from the kubeconfig, but not its subscription.
type noSubscriptionError struct{ cluster, resourceGroup string }

func (e *noSubscriptionError) Error() string {
	return fmt.Sprintf("the kubeconfig names AKS cluster %s in resource group %s, but not its subscription; give --subscription or set AZURE_SUBSCRIPTION_ID", e.cluster, e.resourceGroup)
}

// errNoAzureTarget explains how to name the cluster when it cannot be inferred.
var errNoAzureTarget = errors.New("no AKS cluster to check in Azure: give --cluster-id, or --subscription with --resource-group and --cluster-name (a kubeconfig from `az aks get-credentials` supplies the last two, $AZURE_SUBSCRIPTION_ID the first)")

// Target resolves the cluster's ARM ID. ok is false when nothing names it and it cannot be inferred;
// a partial or malformed selection is an error, and so is an inferred cluster without a subscription
// (noSubscriptionError), which callers may treat as "Azure skipped".
func (f *azureFlags) Target(factory kube.Factory) (azure.ResourceID, bool, error) {
	if f.NoAzure {
		return azure.ResourceID{}, false, nil
	}
	if f.ClusterID != "" {
		if f.ResourceGroup != "" || f.ClusterName != "" || f.Subscription != "" {
			return azure.ResourceID{}, false, errors.New("--cluster-id cannot be combined with --subscription, --resource-group or --cluster-name")
		}
		id, err := azure.ParseResourceID(f.ClusterID, azure.TypeManagedCluster)
		return id, err == nil, err
	}
	sub := f.Subscription
	if sub == "" {
		sub = os.Getenv("AZURE_SUBSCRIPTION_ID")
	}
	rg, name := f.ResourceGroup, f.ClusterName
	if rg == "" && name == "" {
		rg, name, _ = factory.AKSCluster()
	}
	switch {
	case rg == "" && name == "":
		return azure.ResourceID{}, false, nil
	case rg == "" || name == "":
		return azure.ResourceID{}, false, errors.New("--resource-group and --cluster-name go together")
	case sub == "":
		return azure.ResourceID{}, false, &noSubscriptionError{cluster: name, resourceGroup: rg}
	}
	id, err := azure.NewResourceID(sub, rg, azure.TypeManagedCluster, name)
	return id, err == nil, err
}

// Validate checks the cloud and credential names without contacting Azure.
func (f *azureFlags) Validate() error {
	if _, err := azure.ResolveCloud(f.Cloud, f.CloudConfig); err != nil {
		return err
	}
	for _, k := range azure.CredentialKinds() {
		if strings.EqualFold(k, f.Credential) {
			return nil
		}
	}
	return fmt.Errorf("unknown --azure-credential %q: use one of %s", f.Credential, strings.Join(azure.CredentialKinds(), ", "))
}

// Client builds the ARM client from the flags.
func (f *azureFlags) Client() (azure.Client, error) { return newAzureClient(f) }

// optionalTarget is Target for commands that work without Azure: an inferred cluster without a
// subscription becomes a reason to skip instead of an error.
func (f *azureFlags) optionalTarget(factory kube.Factory) (id azure.ResourceID, ok bool, skipReason string, err error) {
	id, ok, err = f.Target(factory)
	if errors.As(err, new(*noSubscriptionError)) {
		return azure.ResourceID{}, false, err.Error(), nil
	}
	if err == nil && !ok && !f.NoAzure {
		skipReason = errNoAzureTarget.Error()
	}
	return id, ok, skipReason, err
}
