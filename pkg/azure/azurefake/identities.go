package azurefake

import (
	"context"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
)

func (c *Client) GetUserAssignedIdentity(_ context.Context, id azure.ResourceID) (*azure.Identity, error) {
	if err := c.fail("GetUserAssignedIdentity"); err != nil {
		return nil, err
	}
	for _, ident := range c.Identities {
		if strings.EqualFold(ident.ID, id.String()) {
			cp := ident
			return &cp, nil
		}
	}
	return nil, notFound(id.String())
}

func (c *Client) ListUserAssignedIdentitiesByClientID(_ context.Context, sub, clientID string) ([]azure.Identity, error) {
	if err := c.fail("ListUserAssignedIdentitiesByClientID"); err != nil {
		return nil, err
	}
	var out []azure.Identity
	for _, ident := range c.Identities {
		if strings.EqualFold(ident.ClientID, clientID) && strings.HasPrefix(strings.ToLower(ident.ID), "/subscriptions/"+strings.ToLower(sub)+"/") {
			out = append(out, ident)
		}
	}
	return out, nil
}
