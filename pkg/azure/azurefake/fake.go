// Package azurefake is an in-memory azure.Client for tests of the checks and commands built on it.
// It applies ARM's rules that matter to them: role assignments listed at a scope include those above
// and below it, writes are recorded, and per-method errors can be injected.
package azurefake

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
)

// Client holds the fake Azure state. Zero values mean "does not exist".
type Client struct {
	mu          sync.Mutex
	Cluster     *azure.Cluster
	Extensions  []azure.Extension
	Identities  []azure.Identity
	Credentials map[string][]azure.FederatedCredential // by identity ID (lower case)
	Assignments []azure.RoleAssignment
	Definitions map[string]*azure.RoleDefinition // by role definition ID (lower case)
	Accounts    map[string]*azure.StorageAccount // by account ID (lower case)
	Containers  map[string]bool                  // "<account id>/<container>" (lower case)
	Vaults      map[string]*azure.BackupVault
	Bindings    []azure.TrustedAccessBinding
	// Permissions is what the caller may do, by scope (lower case); entries at enclosing scopes apply
	// too. Nil means the caller may do everything everywhere (an Owner).
	Permissions map[string][]azure.Permission
	// Providers holds resource provider registration states by namespace (lower case); an absent
	// namespace is Registered.
	Providers map[string]string
	// Errors makes the named method fail (e.g. "CreateRoleAssignment").
	Errors map[string]error
	// Calls counts writes by method name.
	Calls map[string]int
}

var _ azure.Client = (*Client)(nil)

func (c *Client) fail(method string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Calls == nil {
		c.Calls = map[string]int{}
	}
	c.Calls[method]++
	return c.Errors[method]
}

func notFound(what string) error { return &azure.NotFoundError{What: what, Code: "ResourceNotFound"} }

func (c *Client) GetCluster(_ context.Context, id azure.ResourceID) (*azure.Cluster, error) {
	if err := c.fail("GetCluster"); err != nil {
		return nil, err
	}
	if c.Cluster == nil || !strings.EqualFold(c.Cluster.ID, id.String()) {
		return nil, notFound(id.String())
	}
	cp := *c.Cluster
	return &cp, nil
}

func (c *Client) ListExtensions(_ context.Context, _ azure.ResourceID) ([]azure.Extension, error) {
	if err := c.fail("ListExtensions"); err != nil {
		return nil, err
	}
	return append([]azure.Extension(nil), c.Extensions...), nil
}

func (c *Client) FindUserAssignedIdentity(_ context.Context, sub, principalID string) (*azure.Identity, error) {
	if err := c.fail("FindUserAssignedIdentity"); err != nil {
		return nil, err
	}
	for _, id := range c.Identities {
		if strings.EqualFold(id.PrincipalID, principalID) {
			cp := id
			return &cp, nil
		}
	}
	return nil, &azure.NotFoundError{What: "identity " + principalID}
}

func (c *Client) ListFederatedCredentials(_ context.Context, identity azure.ResourceID) ([]azure.FederatedCredential, error) {
	if err := c.fail("ListFederatedCredentials"); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]azure.FederatedCredential(nil), c.Credentials[strings.ToLower(identity.String())]...), nil
}

func (c *Client) CreateFederatedCredential(_ context.Context, identity azure.ResourceID, fc azure.FederatedCredential) error {
	if err := c.fail("CreateFederatedCredential"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Credentials == nil {
		c.Credentials = map[string][]azure.FederatedCredential{}
	}
	key := strings.ToLower(identity.String())
	for i, existing := range c.Credentials[key] {
		if existing.Name == fc.Name {
			c.Credentials[key][i] = fc
			return nil
		}
	}
	fc.ID = identity.String() + "/federatedIdentityCredentials/" + fc.Name
	c.Credentials[key] = append(c.Credentials[key], fc)
	return nil
}

func (c *Client) DeleteFederatedCredential(_ context.Context, identity azure.ResourceID, name string) error {
	if err := c.fail("DeleteFederatedCredential"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := strings.ToLower(identity.String())
	kept := c.Credentials[key][:0]
	for _, fc := range c.Credentials[key] {
		if fc.Name != name {
			kept = append(kept, fc)
		}
	}
	if c.Credentials != nil {
		c.Credentials[key] = kept
	}
	return nil
}

func (c *Client) ListRoleAssignments(_ context.Context, scope, principalID string) ([]azure.RoleAssignment, error) {
	if err := c.fail("ListRoleAssignments"); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []azure.RoleAssignment
	for _, ra := range c.Assignments {
		if !strings.EqualFold(ra.PrincipalID, principalID) {
			continue
		}
		if azure.ScopeContains(ra.Scope, scope) || azure.ScopeContains(scope, ra.Scope) {
			out = append(out, ra)
		}
	}
	return out, nil
}

func (c *Client) GetRoleDefinition(_ context.Context, id string) (*azure.RoleDefinition, error) {
	if err := c.fail("GetRoleDefinition"); err != nil {
		return nil, err
	}
	for key, rd := range c.Definitions {
		if strings.HasSuffix(strings.ToLower(id), key) || strings.EqualFold(id, key) {
			return rd, nil
		}
	}
	return nil, notFound(id)
}

func (c *Client) CreateRoleAssignment(_ context.Context, scope, name, roleDefinitionID, principalID string) (*azure.RoleAssignment, error) {
	if err := c.fail("CreateRoleAssignment"); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ra := azure.RoleAssignment{ID: scope + "/providers/Microsoft.Authorization/roleAssignments/" + name, Name: name, Scope: scope, RoleDefinitionID: roleDefinitionID, PrincipalID: principalID}
	c.Assignments = append(c.Assignments, ra)
	return &ra, nil
}

func (c *Client) DeleteRoleAssignment(_ context.Context, scope, name string) error {
	if err := c.fail("DeleteRoleAssignment"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.Assignments[:0]
	for _, ra := range c.Assignments {
		if !(strings.EqualFold(ra.Scope, scope) && strings.EqualFold(ra.Name, name)) {
			kept = append(kept, ra)
		}
	}
	c.Assignments = kept
	return nil
}

func (c *Client) GetStorageAccount(_ context.Context, id azure.ResourceID) (*azure.StorageAccount, error) {
	if err := c.fail("GetStorageAccount"); err != nil {
		return nil, err
	}
	if a := c.Accounts[strings.ToLower(id.String())]; a != nil {
		return a, nil
	}
	return nil, notFound(id.String())
}

func (c *Client) BlobContainerExists(_ context.Context, id azure.ResourceID, container string) (bool, error) {
	if err := c.fail("BlobContainerExists"); err != nil {
		return false, err
	}
	return c.Containers[strings.ToLower(id.String()+"/"+container)], nil
}

func (c *Client) GetBackupVault(_ context.Context, id azure.ResourceID) (*azure.BackupVault, error) {
	if err := c.fail("GetBackupVault"); err != nil {
		return nil, err
	}
	if v := c.Vaults[strings.ToLower(id.String())]; v != nil {
		return v, nil
	}
	return nil, notFound(id.String())
}

func (c *Client) ListTrustedAccessBindings(_ context.Context, _ azure.ResourceID) ([]azure.TrustedAccessBinding, error) {
	if err := c.fail("ListTrustedAccessBindings"); err != nil {
		return nil, err
	}
	return append([]azure.TrustedAccessBinding(nil), c.Bindings...), nil
}

func (c *Client) CreateTrustedAccessBinding(_ context.Context, cluster azure.ResourceID, b azure.TrustedAccessBinding) error {
	if err := c.fail("CreateTrustedAccessBinding"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b.ID = fmt.Sprintf("%s/trustedAccessRoleBindings/%s", cluster.String(), b.Name)
	b.ProvisioningState = "Succeeded"
	c.Bindings = append(c.Bindings, b)
	return nil
}
