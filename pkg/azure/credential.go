package azure

import (
	"fmt"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Credential kinds for --azure-credential.
var credentialKinds = map[string]string{
	"default":           "DefaultAzureCredential: environment, workload identity, managed identity, Azure CLI, azd",
	"cli":               "the Azure CLI's login (az login)",
	"env":               "AZURE_CLIENT_ID with AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, and AZURE_TENANT_ID",
	"managed-identity":  "the managed identity of the machine or pod",
	"workload-identity": "AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID (inside a pod)",
}

// CredentialKinds lists the accepted --azure-credential values.
func CredentialKinds() []string {
	kinds := make([]string, 0, len(credentialKinds))
	for k := range credentialKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// NewCredential builds the credential named by kind for a cloud.
func NewCredential(kind string, c Cloud, opts policy.ClientOptions) (azcore.TokenCredential, error) {
	opts.Cloud = c.sdkConfig()
	switch strings.ToLower(kind) {
	case "", "default":
		return azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: c.Custom})
	case "cli":
		return azidentity.NewAzureCLICredential(nil)
	case "env":
		return azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: c.Custom})
	case "managed-identity":
		return azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts})
	case "workload-identity":
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: c.Custom})
	}
	return nil, fmt.Errorf("unknown --azure-credential %q: use one of %s", kind, strings.Join(CredentialKinds(), ", "))
}
