package azurefake

import (
	"context"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
)

func (c *Client) ListPermissions(_ context.Context, scope string) ([]azure.Permission, error) {
	if err := c.fail("ListPermissions"); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Permissions == nil {
		return []azure.Permission{{Actions: []string{"*"}}}, nil
	}
	var out []azure.Permission
	for at, perms := range c.Permissions {
		if azure.ScopeContains(at, scope) {
			out = append(out, perms...)
		}
	}
	return out, nil
}

func (c *Client) ProviderState(_ context.Context, _, namespace string) (string, error) {
	if err := c.fail("ProviderState"); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if state, ok := c.Providers[strings.ToLower(namespace)]; ok {
		return state, nil
	}
	return "Registered", nil
}
