// Package azure is the tool's thin view of Azure Resource Manager: the few reads and writes the
// backup checks need, as plain types behind an interface, so checks are testable without ARM. The
// implementation (arm.go) uses the official SDK modules, and a generic azcore call where no module is
// served (k8s extensions, data protection).
package azure

import "context"

// Cluster is the part of an AKS managed cluster the backup checks read.
type Cluster struct {
	ID                      string `json:"id"`
	Name                    string `json:"name"`
	Location                string `json:"location"`
	OIDCIssuerEnabled       bool   `json:"oidcIssuerEnabled"`
	OIDCIssuerURL           string `json:"oidcIssuerURL,omitempty"`
	WorkloadIdentityEnabled bool   `json:"workloadIdentityEnabled"`
	// IdentityType is SystemAssigned, UserAssigned or "" (service principal cluster).
	IdentityType        string `json:"identityType,omitempty"`
	IdentityPrincipalID string `json:"identityPrincipalId,omitempty"`
	// ServicePrincipalClientID is "msi" on managed-identity clusters, an app ID on legacy ones.
	ServicePrincipalClientID string `json:"servicePrincipalClientId,omitempty"`
	NodeResourceGroup        string `json:"nodeResourceGroup,omitempty"`
	// HTTPProxy is the cluster's httpProxyConfig; nil when none is set.
	HTTPProxy *HTTPProxyConfig `json:"httpProxyConfig,omitempty"`
}

// HTTPProxyConfig is an AKS cluster's egress proxy. The proxy URLs may carry credentials, so they
// stay out of every printed document.
type HTTPProxyConfig struct {
	HTTPProxy  string   `json:"-"`
	HTTPSProxy string   `json:"-"`
	NoProxy    []string `json:"noProxy,omitempty"`
}

// Extension is an AKS cluster extension (Microsoft.KubernetesConfiguration/extensions).
type Extension struct {
	ID                  string            `json:"id"`
	Name                string            `json:"name"`
	Type                string            `json:"extensionType"`
	ProvisioningState   string            `json:"provisioningState"`
	ConfigurationValues map[string]string `json:"configurationSettings,omitempty"`
	IdentityPrincipalID string            `json:"aksAssignedIdentityPrincipalId,omitempty"`
	IdentityTenantID    string            `json:"aksAssignedIdentityTenantId,omitempty"`
}

// Identity is a user-assigned managed identity.
type Identity struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	ResourceGroup string `json:"resourceGroup"`
	ClientID      string `json:"clientId"`
	PrincipalID   string `json:"principalId"`
	TenantID      string `json:"tenantId"`
}

// FederatedCredential trusts tokens of one issuer and subject for an identity.
type FederatedCredential struct {
	ID        string   `json:"id,omitempty"`
	Name      string   `json:"name"`
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

// RoleAssignment grants a role definition to a principal at a scope.
type RoleAssignment struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Scope            string `json:"scope"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	PrincipalID      string `json:"principalId"`
}

// RoleDefinition lists what a role allows.
type RoleDefinition struct {
	ID             string   `json:"id"`
	RoleName       string   `json:"roleName"`
	Actions        []string `json:"actions,omitempty"`
	NotActions     []string `json:"notActions,omitempty"`
	DataActions    []string `json:"dataActions,omitempty"`
	NotDataActions []string `json:"notDataActions,omitempty"`
}

// StorageAccount is the part of a storage account the probe and checks depend on.
type StorageAccount struct {
	ID                   string   `json:"id"`
	Name                 string   `json:"name"`
	BlobEndpoint         string   `json:"blobEndpoint,omitempty"`
	AllowSharedKeyAccess *bool    `json:"allowSharedKeyAccess,omitempty"`
	PublicNetworkAccess  string   `json:"publicNetworkAccess,omitempty"`
	DefaultAction        string   `json:"networkDefaultAction,omitempty"`
	Bypass               string   `json:"networkBypass,omitempty"`
	IPRules              []string `json:"ipRules,omitempty"`
	VirtualNetworkRules  []string `json:"virtualNetworkRules,omitempty"`
}

// BackupVault is a Microsoft.DataProtection backup vault.
type BackupVault struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	IdentityType string `json:"identityType,omitempty"`
	PrincipalID  string `json:"principalId,omitempty"`
}

// TrustedAccessBinding lets a source resource (a backup vault) act on the cluster with roles.
type TrustedAccessBinding struct {
	ID                string   `json:"id,omitempty"`
	Name              string   `json:"name"`
	SourceResourceID  string   `json:"sourceResourceId"`
	Roles             []string `json:"roles"`
	ProvisioningState string   `json:"provisioningState,omitempty"`
}

// Client is every ARM operation the tool performs.
type Client interface {
	GetCluster(ctx context.Context, cluster ResourceID) (*Cluster, error)
	ListExtensions(ctx context.Context, cluster ResourceID) ([]Extension, error)
	// FindUserAssignedIdentity finds the identity with this principal (object) ID in a subscription.
	FindUserAssignedIdentity(ctx context.Context, subscriptionID, principalID string) (*Identity, error)
	// GetUserAssignedIdentity reads an identity by ID (NotFoundError when it does not exist).
	GetUserAssignedIdentity(ctx context.Context, identity ResourceID) (*Identity, error)
	// ListUserAssignedIdentitiesByClientID lists a subscription's identities with this client ID.
	ListUserAssignedIdentitiesByClientID(ctx context.Context, subscriptionID, clientID string) ([]Identity, error)
	ListFederatedCredentials(ctx context.Context, identity ResourceID) ([]FederatedCredential, error)
	CreateFederatedCredential(ctx context.Context, identity ResourceID, fc FederatedCredential) error
	// DeleteFederatedCredential deletes a credential by name; an absent one is not an error.
	DeleteFederatedCredential(ctx context.Context, identity ResourceID, name string) error
	// ListRoleAssignments lists the principal's assignments that apply at scope (at, above or below it).
	ListRoleAssignments(ctx context.Context, scope, principalID string) ([]RoleAssignment, error)
	GetRoleDefinition(ctx context.Context, id string) (*RoleDefinition, error)
	CreateRoleAssignment(ctx context.Context, scope, name, roleDefinitionID, principalID string) (*RoleAssignment, error)
	// DeleteRoleAssignment deletes the named assignment at scope; an absent one is not an error.
	DeleteRoleAssignment(ctx context.Context, scope, name string) error
	GetStorageAccount(ctx context.Context, account ResourceID) (*StorageAccount, error)
	BlobContainerExists(ctx context.Context, account ResourceID, container string) (bool, error)
	GetBackupVault(ctx context.Context, vault ResourceID) (*BackupVault, error)
	ListTrustedAccessBindings(ctx context.Context, cluster ResourceID) ([]TrustedAccessBinding, error)
	CreateTrustedAccessBinding(ctx context.Context, cluster ResourceID, b TrustedAccessBinding) error
	// ListPermissions returns what the caller may do at scope (Microsoft.Authorization/permissions).
	ListPermissions(ctx context.Context, scope string) ([]Permission, error)
	// ProviderState returns a resource provider's registration state in a subscription.
	ProviderState(ctx context.Context, subscriptionID, namespace string) (string, error)
}
