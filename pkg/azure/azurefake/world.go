package azurefake

import (
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
)

// IDs of the fake AKS Backup world.
const (
	Subscription      = "00000000-0000-0000-0000-000000000001"
	Tenant            = "11111111-2222-3333-4444-555555555555"
	ClusterID         = "/subscriptions/" + Subscription + "/resourceGroups/lab-rg/providers/Microsoft.ContainerService/managedClusters/lab-aks"
	Issuer            = "https://oidc.lab.example/11111111/"
	IdentityID        = "/subscriptions/" + Subscription + "/resourceGroups/MC_lab-rg_lab-aks_eastus/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azure-aks-backup"
	IdentityClientID  = "c0ffee00-aaaa-4bbb-8ccc-000000000001"
	IdentityPrincipal = "c0ffee00-aaaa-4bbb-8ccc-0000000000aa"
	AccountID         = "/subscriptions/" + Subscription + "/resourceGroups/lab-rg/providers/Microsoft.Storage/storageAccounts/labstorage"
	SiblingAccountID  = "/subscriptions/" + Subscription + "/resourceGroups/lab-rg/providers/Microsoft.Storage/storageAccounts/labstorage2"
	Container         = "velero"
	RoleDefPrefix     = "/subscriptions/" + Subscription + "/providers/Microsoft.Authorization/roleDefinitions/"
	BlobDataContrib   = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
	AccountContrib    = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
	Owner             = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
)

// AKSBackup returns a world with an AKS cluster, the backup extension and its identity, a storage
// account and container; no federated credentials and no role assignments (the "unwired" state).
func AKSBackup() *Client {
	yes := true
	return &Client{
		Cluster: &azure.Cluster{ID: ClusterID, Name: "lab-aks", Location: "eastus", OIDCIssuerEnabled: true, OIDCIssuerURL: Issuer,
			WorkloadIdentityEnabled: true, IdentityType: "SystemAssigned", IdentityPrincipalID: "cluster-principal", ServicePrincipalClientID: "msi", NodeResourceGroup: "MC_lab-rg_lab-aks_eastus"},
		Extensions: []azure.Extension{{ID: ClusterID + "/providers/Microsoft.KubernetesConfiguration/extensions/azure-aks-backup", Name: "azure-aks-backup",
			Type: "Microsoft.DataProtection.Kubernetes", ProvisioningState: "Succeeded", IdentityPrincipalID: IdentityPrincipal, IdentityTenantID: Tenant,
			ConfigurationValues: map[string]string{"configuration.backupStorageLocation.bucket": Container, "configuration.backupStorageLocation.config.storageAccount": "labstorage",
				"configuration.backupStorageLocation.config.resourceGroup": "lab-rg", "configuration.backupStorageLocation.config.subscriptionId": Subscription, "useAAD": "true"}}},
		Identities: []azure.Identity{{ID: IdentityID, Name: "azure-aks-backup", ResourceGroup: "MC_lab-rg_lab-aks_eastus", ClientID: IdentityClientID, PrincipalID: IdentityPrincipal, TenantID: Tenant}},
		Definitions: map[string]*azure.RoleDefinition{
			BlobDataContrib: {ID: RoleDefPrefix + BlobDataContrib, RoleName: "Storage Blob Data Contributor", Actions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/*"},
				DataActions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
					"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action"}},
			AccountContrib: {ID: RoleDefPrefix + AccountContrib, RoleName: "Storage Account Contributor", Actions: []string{"Microsoft.Storage/storageAccounts/*"}},
			Owner:          {ID: RoleDefPrefix + Owner, RoleName: "Owner", Actions: []string{"*"}},
		},
		Accounts: map[string]*azure.StorageAccount{
			strings.ToLower(AccountID):        {ID: AccountID, Name: "labstorage", AllowSharedKeyAccess: &yes, PublicNetworkAccess: "Enabled", DefaultAction: "Allow", BlobEndpoint: "https://labstorage.blob.core.windows.net/"},
			strings.ToLower(SiblingAccountID): {ID: SiblingAccountID, Name: "labstorage2", AllowSharedKeyAccess: &yes, PublicNetworkAccess: "Enabled", DefaultAction: "Allow"},
		},
		Containers: map[string]bool{strings.ToLower(AccountID + "/" + Container): true},
	}
}

// Wire adds what `identity configure` creates: one federated credential per service account and
// Storage Blob Data Contributor plus Storage Account Contributor on the account.
func (c *Client) Wire(namespace string, serviceAccounts ...string) *Client {
	if c.Credentials == nil {
		c.Credentials = map[string][]azure.FederatedCredential{}
	}
	key := strings.ToLower(IdentityID)
	for _, sa := range serviceAccounts {
		c.Credentials[key] = append(c.Credentials[key], azure.FederatedCredential{ID: IdentityID + "/federatedIdentityCredentials/aksbackup-" + sa,
			Name: "aksbackup-" + sa, Issuer: Issuer, Subject: "system:serviceaccount:" + namespace + ":" + sa, Audiences: []string{"api://AzureADTokenExchange"}})
	}
	c.Assignments = append(c.Assignments,
		azure.RoleAssignment{ID: AccountID + "/providers/Microsoft.Authorization/roleAssignments/1", Name: "1", Scope: AccountID, RoleDefinitionID: RoleDefPrefix + BlobDataContrib, PrincipalID: IdentityPrincipal},
		azure.RoleAssignment{ID: AccountID + "/providers/Microsoft.Authorization/roleAssignments/2", Name: "2", Scope: AccountID, RoleDefinitionID: RoleDefPrefix + AccountContrib, PrincipalID: IdentityPrincipal})
	return c
}
