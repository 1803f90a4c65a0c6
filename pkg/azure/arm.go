package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"
)

// API versions of the resource types no served SDK module covers.
const (
	extensionsAPIVersion   = "2023-05-01"
	backupVaultsAPIVersion = "2024-04-01"
)

// Options configures the ARM client.
type Options struct {
	Cloud      Cloud
	Credential azcore.TokenCredential
	// Transport replaces the HTTP client (tests, or a lab CA); nil uses the SDK default.
	Transport policy.Transporter
	// Retry tunes azcore's retry policy, which already retries 408, 429 and 5xx with backoff and
	// honours Retry-After; zero values keep its defaults.
	Retry policy.RetryOptions
}

type armClient struct {
	opts     *arm.ClientOptions
	cred     azcore.TokenCredential
	generic  *arm.Client
	endpoint string
}

// NewClient returns the SDK-backed Client.
func NewClient(o Options) (Client, error) {
	if o.Credential == nil {
		return nil, errors.New("azure: a credential is required")
	}
	opts := clientOptions(o)
	generic, err := arm.NewClient("kubectl-aksbackup", "v1.0.0", o.Credential, opts)
	if err != nil {
		return nil, fmt.Errorf("building the ARM client: %w", err)
	}
	return &armClient{opts: opts, cred: o.Credential, generic: generic, endpoint: strings.TrimRight(generic.Endpoint(), "/")}, nil
}

func (c *armClient) GetCluster(ctx context.Context, id ResourceID) (*Cluster, error) {
	client, err := armcontainerservice.NewManagedClustersClient(id.SubscriptionID, c.cred, c.opts)
	if err != nil {
		return nil, err
	}
	resp, err := client.Get(ctx, id.ResourceGroup, id.Name, nil)
	if err != nil {
		return nil, explain(err, "read the AKS cluster", "Microsoft.ContainerService/managedClusters/read", id.String())
	}
	mc := resp.ManagedCluster
	out := &Cluster{ID: str(mc.ID), Name: str(mc.Name), Location: str(mc.Location)}
	if p := mc.Properties; p != nil {
		if p.OidcIssuerProfile != nil {
			out.OIDCIssuerEnabled = boolean(p.OidcIssuerProfile.Enabled)
			out.OIDCIssuerURL = str(p.OidcIssuerProfile.IssuerURL)
		}
		if p.SecurityProfile != nil && p.SecurityProfile.WorkloadIdentity != nil {
			out.WorkloadIdentityEnabled = boolean(p.SecurityProfile.WorkloadIdentity.Enabled)
		}
		if p.ServicePrincipalProfile != nil {
			out.ServicePrincipalClientID = str(p.ServicePrincipalProfile.ClientID)
		}
		out.NodeResourceGroup = str(p.NodeResourceGroup)
		if hp := p.HTTPProxyConfig; hp != nil {
			out.HTTPProxy = &HTTPProxyConfig{HTTPProxy: str(hp.HTTPProxy), HTTPSProxy: str(hp.HTTPSProxy), NoProxy: derefAll(hp.NoProxy)}
		}
	}
	if mc.Identity != nil {
		if mc.Identity.Type != nil {
			out.IdentityType = string(*mc.Identity.Type)
		}
		out.IdentityPrincipalID = str(mc.Identity.PrincipalID)
	}
	return out, nil
}

// extensionJSON is the wire shape of Microsoft.KubernetesConfiguration/extensions.
type extensionJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		ExtensionType         string            `json:"extensionType"`
		ProvisioningState     string            `json:"provisioningState"`
		ConfigurationSettings map[string]string `json:"configurationSettings"`
		AKSAssignedIdentity   *struct {
			PrincipalID string `json:"principalId"`
			TenantID    string `json:"tenantId"`
		} `json:"aksAssignedIdentity"`
	} `json:"properties"`
}

func (c *armClient) ListExtensions(ctx context.Context, cluster ResourceID) ([]Extension, error) {
	path := cluster.String() + "/providers/Microsoft.KubernetesConfiguration/extensions"
	var out []Extension
	err := c.getPages(ctx, path, extensionsAPIVersion, func(raw json.RawMessage) error {
		var e extensionJSON
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		ext := Extension{ID: e.ID, Name: e.Name, Type: e.Properties.ExtensionType, ProvisioningState: e.Properties.ProvisioningState, ConfigurationValues: e.Properties.ConfigurationSettings}
		if id := e.Properties.AKSAssignedIdentity; id != nil {
			ext.IdentityPrincipalID, ext.IdentityTenantID = id.PrincipalID, id.TenantID
		}
		out = append(out, ext)
		return nil
	})
	if err != nil {
		return nil, explain(err, "list the cluster's extensions", "Microsoft.KubernetesConfiguration/extensions/read", cluster.String())
	}
	return out, nil
}

func (c *armClient) FindUserAssignedIdentity(ctx context.Context, subscriptionID, principalID string) (*Identity, error) {
	client, err := armmsi.NewUserAssignedIdentitiesClient(subscriptionID, c.cred, c.opts)
	if err != nil {
		return nil, err
	}
	pager := client.NewListBySubscriptionPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, explain(err, "list managed identities", "Microsoft.ManagedIdentity/userAssignedIdentities/read", "/subscriptions/"+subscriptionID)
		}
		for _, id := range page.Value {
			if id.Properties == nil || !strings.EqualFold(str(id.Properties.PrincipalID), principalID) {
				continue
			}
			parsed, err := ParseResourceID(str(id.ID), TypeIdentity)
			if err != nil {
				return nil, err
			}
			return &Identity{ID: parsed.String(), Name: str(id.Name), ResourceGroup: parsed.ResourceGroup,
				ClientID: str(id.Properties.ClientID), PrincipalID: str(id.Properties.PrincipalID), TenantID: str(id.Properties.TenantID)}, nil
		}
	}
	return nil, &NotFoundError{What: fmt.Sprintf("user-assigned managed identity with principal ID %s in subscription %s", principalID, subscriptionID)}
}

func (c *armClient) ListFederatedCredentials(ctx context.Context, identity ResourceID) ([]FederatedCredential, error) {
	client, err := armmsi.NewFederatedIdentityCredentialsClient(identity.SubscriptionID, c.cred, c.opts)
	if err != nil {
		return nil, err
	}
	var out []FederatedCredential
	pager := client.NewListPager(identity.ResourceGroup, identity.Name, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, explain(err, "list federated credentials", "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read", identity.String())
		}
		for _, fc := range page.Value {
			f := FederatedCredential{ID: str(fc.ID), Name: str(fc.Name)}
			if p := fc.Properties; p != nil {
				f.Issuer, f.Subject = str(p.Issuer), str(p.Subject)
				for _, a := range p.Audiences {
					f.Audiences = append(f.Audiences, str(a))
				}
			}
			out = append(out, f)
		}
	}
	return out, nil
}

func (c *armClient) CreateFederatedCredential(ctx context.Context, identity ResourceID, fc FederatedCredential) error {
	client, err := armmsi.NewFederatedIdentityCredentialsClient(identity.SubscriptionID, c.cred, c.opts)
	if err != nil {
		return err
	}
	_, err = client.CreateOrUpdate(ctx, identity.ResourceGroup, identity.Name, fc.Name, armmsi.FederatedIdentityCredential{
		Properties: &armmsi.FederatedIdentityCredentialProperties{Issuer: to.Ptr(fc.Issuer), Subject: to.Ptr(fc.Subject), Audiences: to.SliceOfPtrs(fc.Audiences...)},
	}, nil)
	return explain(err, "create federated credential "+fc.Name, "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write", identity.String())
}

// DeleteFederatedCredential deletes one credential by name; one that is already gone counts as deleted.
func (c *armClient) DeleteFederatedCredential(ctx context.Context, identity ResourceID, name string) error {
	client, err := armmsi.NewFederatedIdentityCredentialsClient(identity.SubscriptionID, c.cred, c.opts)
	if err != nil {
		return err
	}
	_, err = client.Delete(ctx, identity.ResourceGroup, identity.Name, name, nil)
	return ignoreNotFound(explain(err, "delete federated credential "+name, "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete", identity.String()))
}

func (c *armClient) ListRoleAssignments(ctx context.Context, scope, principalID string) ([]RoleAssignment, error) {
	client, err := armauthorization.NewRoleAssignmentsClient(subscriptionOf(scope), c.cred, c.opts)
	if err != nil {
		return nil, err
	}
	var out []RoleAssignment
	pager := client.NewListForScopePager(scope, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: to.Ptr(fmt.Sprintf("principalId eq '%s'", principalID))})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, explain(err, "list role assignments", "Microsoft.Authorization/roleAssignments/read", scope)
		}
		for _, ra := range page.Value {
			a := RoleAssignment{ID: str(ra.ID), Name: str(ra.Name)}
			if p := ra.Properties; p != nil {
				a.Scope, a.RoleDefinitionID, a.PrincipalID = str(p.Scope), str(p.RoleDefinitionID), str(p.PrincipalID)
			}
			out = append(out, a)
		}
	}
	return out, nil
}

func (c *armClient) GetRoleDefinition(ctx context.Context, id string) (*RoleDefinition, error) {
	client, err := armauthorization.NewRoleDefinitionsClient(c.cred, c.opts)
	if err != nil {
		return nil, err
	}
	resp, err := client.GetByID(ctx, id, nil)
	if err != nil {
		return nil, explain(err, "read role definition", "Microsoft.Authorization/roleDefinitions/read", id)
	}
	rd := &RoleDefinition{ID: str(resp.ID)}
	if p := resp.Properties; p != nil {
		rd.RoleName = str(p.RoleName)
		for _, perm := range p.Permissions {
			rd.Actions = append(rd.Actions, derefAll(perm.Actions)...)
			rd.NotActions = append(rd.NotActions, derefAll(perm.NotActions)...)
			rd.DataActions = append(rd.DataActions, derefAll(perm.DataActions)...)
			rd.NotDataActions = append(rd.NotDataActions, derefAll(perm.NotDataActions)...)
		}
	}
	return rd, nil
}

func (c *armClient) CreateRoleAssignment(ctx context.Context, scope, name, roleDefinitionID, principalID string) (*RoleAssignment, error) {
	client, err := armauthorization.NewRoleAssignmentsClient(subscriptionOf(scope), c.cred, c.opts)
	if err != nil {
		return nil, err
	}
	resp, err := client.Create(ctx, scope, name, armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: to.Ptr(roleDefinitionID), PrincipalID: to.Ptr(principalID),
		// A new managed identity may not have replicated yet; naming its type lets ARM accept it anyway.
		PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal),
	}}, nil)
	if err != nil {
		return nil, explain(err, "create role assignment", "Microsoft.Authorization/roleAssignments/write", scope)
	}
	return &RoleAssignment{ID: str(resp.ID), Name: str(resp.Name), Scope: scope, RoleDefinitionID: roleDefinitionID, PrincipalID: principalID}, nil
}

// DeleteRoleAssignment deletes the assignment with this name at scope; one already gone counts as deleted.
func (c *armClient) DeleteRoleAssignment(ctx context.Context, scope, name string) error {
	client, err := armauthorization.NewRoleAssignmentsClient(subscriptionOf(scope), c.cred, c.opts)
	if err != nil {
		return err
	}
	_, err = client.Delete(ctx, scope, name, nil)
	return ignoreNotFound(explain(err, "delete role assignment "+name, "Microsoft.Authorization/roleAssignments/delete", scope))
}

// ignoreNotFound makes deletes idempotent: what is already gone is what the caller wanted.
func ignoreNotFound(err error) error {
	if errors.As(err, new(*NotFoundError)) {
		return nil
	}
	return err
}

func (c *armClient) GetStorageAccount(ctx context.Context, account ResourceID) (*StorageAccount, error) {
	client, err := armstorage.NewAccountsClient(account.SubscriptionID, c.cred, c.opts)
	if err != nil {
		return nil, err
	}
	resp, err := client.GetProperties(ctx, account.ResourceGroup, account.Name, nil)
	if err != nil {
		return nil, explain(err, "read the storage account", "Microsoft.Storage/storageAccounts/read", account.String())
	}
	sa := &StorageAccount{ID: str(resp.ID), Name: str(resp.Name)}
	if p := resp.Properties; p != nil {
		sa.AllowSharedKeyAccess = p.AllowSharedKeyAccess
		if p.PublicNetworkAccess != nil {
			sa.PublicNetworkAccess = string(*p.PublicNetworkAccess)
		}
		if p.PrimaryEndpoints != nil {
			sa.BlobEndpoint = str(p.PrimaryEndpoints.Blob)
		}
		if n := p.NetworkRuleSet; n != nil {
			if n.DefaultAction != nil {
				sa.DefaultAction = string(*n.DefaultAction)
			}
			if n.Bypass != nil {
				sa.Bypass = string(*n.Bypass)
			}
			for _, r := range n.IPRules {
				sa.IPRules = append(sa.IPRules, str(r.IPAddressOrRange))
			}
			for _, r := range n.VirtualNetworkRules {
				sa.VirtualNetworkRules = append(sa.VirtualNetworkRules, str(r.VirtualNetworkResourceID))
			}
		}
	}
	return sa, nil
}

func (c *armClient) BlobContainerExists(ctx context.Context, account ResourceID, container string) (bool, error) {
	client, err := armstorage.NewBlobContainersClient(account.SubscriptionID, c.cred, c.opts)
	if err != nil {
		return false, err
	}
	_, err = client.Get(ctx, account.ResourceGroup, account.Name, container, nil)
	var respErr *azcore.ResponseError
	if errors.As(err, &respErr) && respErr.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, explain(err, "read blob container "+container, "Microsoft.Storage/storageAccounts/blobServices/containers/read", account.String())
	}
	return true, nil
}

func (c *armClient) GetBackupVault(ctx context.Context, vault ResourceID) (*BackupVault, error) {
	var v struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Identity *struct {
			Type        string `json:"type"`
			PrincipalID string `json:"principalId"`
		} `json:"identity"`
	}
	if err := c.getJSON(ctx, vault.String(), backupVaultsAPIVersion, &v); err != nil {
		return nil, explain(err, "read the backup vault", "Microsoft.DataProtection/backupVaults/read", vault.String())
	}
	out := &BackupVault{ID: v.ID, Name: v.Name}
	if v.Identity != nil {
		out.IdentityType, out.PrincipalID = v.Identity.Type, v.Identity.PrincipalID
	}
	return out, nil
}

func (c *armClient) ListTrustedAccessBindings(ctx context.Context, cluster ResourceID) ([]TrustedAccessBinding, error) {
	client, err := armcontainerservice.NewTrustedAccessRoleBindingsClient(cluster.SubscriptionID, c.cred, c.opts)
	if err != nil {
		return nil, err
	}
	var out []TrustedAccessBinding
	pager := client.NewListPager(cluster.ResourceGroup, cluster.Name, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, explain(err, "list Trusted Access role bindings", "Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings/read", cluster.String())
		}
		for _, b := range page.Value {
			tb := TrustedAccessBinding{ID: str(b.ID), Name: str(b.Name)}
			if p := b.Properties; p != nil {
				tb.SourceResourceID, tb.Roles = str(p.SourceResourceID), derefAll(p.Roles)
				if p.ProvisioningState != nil {
					tb.ProvisioningState = string(*p.ProvisioningState)
				}
			}
			out = append(out, tb)
		}
	}
	return out, nil
}

func (c *armClient) CreateTrustedAccessBinding(ctx context.Context, cluster ResourceID, b TrustedAccessBinding) error {
	client, err := armcontainerservice.NewTrustedAccessRoleBindingsClient(cluster.SubscriptionID, c.cred, c.opts)
	if err != nil {
		return err
	}
	poller, err := client.BeginCreateOrUpdate(ctx, cluster.ResourceGroup, cluster.Name, b.Name, armcontainerservice.TrustedAccessRoleBinding{
		Properties: &armcontainerservice.TrustedAccessRoleBindingProperties{SourceResourceID: to.Ptr(b.SourceResourceID), Roles: to.SliceOfPtrs(b.Roles...)},
	}, nil)
	if err == nil {
		_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 2 * time.Second})
	}
	return explain(err, "create Trusted Access role binding "+b.Name, "Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings/write", cluster.String())
}

// getJSON is the generic ARM GET for resource types without a served SDK module.
func (c *armClient) getJSON(ctx context.Context, path, apiVersion string, into any) error {
	return c.getURL(ctx, c.endpoint+path+"?api-version="+apiVersion, into)
}

func (c *armClient) getURL(ctx context.Context, url string, into any) error {
	req, err := runtime.NewRequest(ctx, http.MethodGet, url)
	if err != nil {
		return err
	}
	req.Raw().Header.Set("Accept", "application/json")
	resp, err := c.generic.Pipeline().Do(req)
	if err != nil {
		return err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return runtime.NewResponseError(resp)
	}
	return runtime.UnmarshalAsJSON(resp, into)
}

// getPages walks an ARM list ({"value": [...], "nextLink": ...}), following nextLink verbatim since it
// carries the skip token and api-version. It refuses a next link on another host.
func (c *armClient) getPages(ctx context.Context, path, apiVersion string, each func(json.RawMessage) error) error {
	url := c.endpoint + path + "?api-version=" + apiVersion
	for pages := 0; url != ""; pages++ {
		if pages > 1000 {
			return fmt.Errorf("listing %s: more than 1000 pages; stopping", path)
		}
		if !strings.HasPrefix(url, c.endpoint+"/") {
			return fmt.Errorf("listing %s: next link %q leaves the ARM endpoint %s", path, url, c.endpoint)
		}
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"nextLink"`
		}
		if err := c.getURL(ctx, url, &page); err != nil {
			return err
		}
		for _, v := range page.Value {
			if err := each(v); err != nil {
				return err
			}
		}
		url = page.NextLink
	}
	return nil
}

func subscriptionOf(scope string) string {
	parts := strings.Split(strings.Trim(scope, "/"), "/")
	if len(parts) >= 2 && strings.EqualFold(parts[0], "subscriptions") {
		return parts[1]
	}
	return ""
}

func derefAll(in []*string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, str(s))
	}
	return out
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func boolean(p *bool) bool { return p != nil && *p }
