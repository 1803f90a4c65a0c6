package azure

import (
	"context"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
)

// GetUserAssignedIdentity reads one user-assigned identity by its resource ID.
func (c *armClient) GetUserAssignedIdentity(ctx context.Context, id ResourceID) (*Identity, error) {
	client, err := armmsi.NewUserAssignedIdentitiesClient(id.SubscriptionID, c.cred, c.opts)
	if err != nil {
		return nil, err
	}
	resp, err := client.Get(ctx, id.ResourceGroup, id.Name, nil)
	if err != nil {
		return nil, explain(err, "read managed identity "+id.Name, "Microsoft.ManagedIdentity/userAssignedIdentities/read", id.String())
	}
	return identityOf(&resp.Identity)
}

// ListUserAssignedIdentitiesByClientID lists the subscription's identities whose client (application)
// ID is clientID. Azure has no filter for it, so the whole subscription is listed and matched here.
func (c *armClient) ListUserAssignedIdentitiesByClientID(ctx context.Context, subscriptionID, clientID string) ([]Identity, error) {
	client, err := armmsi.NewUserAssignedIdentitiesClient(subscriptionID, c.cred, c.opts)
	if err != nil {
		return nil, err
	}
	var out []Identity
	pager := client.NewListBySubscriptionPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, explain(err, "list managed identities", "Microsoft.ManagedIdentity/userAssignedIdentities/read", "/subscriptions/"+subscriptionID)
		}
		for _, id := range page.Value {
			if id.Properties == nil || !strings.EqualFold(str(id.Properties.ClientID), clientID) {
				continue
			}
			found, err := identityOf(id)
			if err != nil {
				return nil, err
			}
			out = append(out, *found)
		}
	}
	return out, nil
}

func identityOf(id *armmsi.Identity) (*Identity, error) {
	parsed, err := ParseResourceID(str(id.ID), TypeIdentity)
	if err != nil {
		return nil, err
	}
	out := &Identity{ID: parsed.String(), Name: str(id.Name), ResourceGroup: parsed.ResourceGroup}
	if p := id.Properties; p != nil {
		out.ClientID, out.PrincipalID, out.TenantID = str(p.ClientID), str(p.PrincipalID), str(p.TenantID)
	}
	return out, nil
}
