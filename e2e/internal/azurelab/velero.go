package azurelab

import (
	"net/http"
	"strings"
)

// Plain Velero's own user-assigned identity, and a storage account in a second subscription, for
// the velero profile's story (the identity is found by client ID; the BSL may name another
// subscription's account).
const (
	VeleroIdentityName  = "velero-identity"
	VeleroResourceGroup = "velero-rg"
	VeleroIdentityID    = "/subscriptions/" + Subscription + "/resourceGroups/" + VeleroResourceGroup + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + VeleroIdentityName
	VeleroClientID      = "7e1e7000-aaaa-4bbb-8ccc-000000000001"
	VeleroPrincipal     = "7e1e7000-aaaa-4bbb-8ccc-0000000000aa"
	Subscription2       = "00000000-0000-0000-0000-000000000002"
	XSubResourceGroup   = "backup-rg"
	XSubAccountName     = "labstoragexsub"
	XSubAccountID       = "/subscriptions/" + Subscription2 + "/resourceGroups/" + XSubResourceGroup + "/providers/Microsoft.Storage/storageAccounts/" + XSubAccountName
)

// labIdentity is a user-assigned identity the ARM and Entra doubles know.
type labIdentity struct {
	ID, Name, ClientID, PrincipalID string
	// credentials points into the state: the extension identity's or Velero's.
	credentials *[]Credential
}

func (s *State) identities() []labIdentity {
	return []labIdentity{
		{ID: IdentityID, Name: IdentityName, ClientID: IdentityClientID, PrincipalID: IdentityPrincipal, credentials: &s.Credentials},
		{ID: VeleroIdentityID, Name: VeleroIdentityName, ClientID: VeleroClientID, PrincipalID: VeleroPrincipal, credentials: &s.VeleroCredentials},
	}
}

// identityAt finds the identity a path is under (its ID is a prefix of the path, ignoring case).
func (s *State) identityAt(lowerPath string) *labIdentity {
	for _, id := range s.identities() {
		if lowerPath == strings.ToLower(id.ID) || strings.HasPrefix(lowerPath, strings.ToLower(id.ID)+"/") {
			return &id
		}
	}
	return nil
}

// identityByClientID finds the identity Entra issues tokens for.
func (s *State) identityByClientID(clientID string) *labIdentity {
	for _, id := range s.identities() {
		if strings.EqualFold(id.ClientID, clientID) {
			return &id
		}
	}
	return nil
}

func (s *State) identityJSON(id labIdentity) any {
	return map[string]any{"id": id.ID, "name": id.Name, "location": "eastus", "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
		"properties": map[string]any{"principalId": id.PrincipalID, "clientId": id.ClientID, "tenantId": s.TenantID}}
}

// listIdentities answers GET /subscriptions/<sub>/providers/Microsoft.ManagedIdentity/userAssignedIdentities.
func (s *State) listIdentities(w http.ResponseWriter, lowerPath string) {
	out := []any{}
	for _, id := range s.identities() {
		if strings.HasPrefix(strings.ToLower(id.ID), strings.TrimSuffix(lowerPath, "/providers/microsoft.managedidentity/userassignedidentities")+"/") {
			out = append(out, s.identityJSON(id))
		}
	}
	writeJSON(w, 200, map[string]any{"value": out})
}

// getIdentity answers GET of one identity by ID.
func (s *State) getIdentity(w http.ResponseWriter, lowerPath string) bool {
	id := s.identityAt(lowerPath)
	if id == nil || lowerPath != strings.ToLower(id.ID) {
		return false
	}
	writeJSON(w, 200, s.identityJSON(*id))
	return true
}

// accountForHost is the account a blob request addresses: <account>.blob.<suffix>, else the lab's
// first account (path-style loopback requests).
func (s *State) accountForHost(host string) Account {
	name, _, _ := strings.Cut(strings.ToLower(host), ".")
	for _, a := range s.Accounts {
		if strings.HasSuffix(strings.ToLower(a.ID), "/storageaccounts/"+name) {
			return a
		}
	}
	return s.Accounts[0]
}

// audienceOK: loopback clients of a custom cloud must present its ARM audience exactly, so a tool
// that hard-codes the public audience fails; otherwise any https://management.* audience passes.
func (a *ARM) audienceOK(aud, host string) bool {
	if a.Audience == "" || publicHost(host) {
		return strings.HasPrefix(aud, "https://management.")
	}
	return strings.TrimRight(aud, "/") == strings.TrimRight(a.Audience, "/")
}
