package azure

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
	msifake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi/fake"
)

// TestIdentityByClientIDAndName: the listing matches the client ID (case-insensitive) across pages
// and returns every match; Get maps a 404 to NotFoundError.
func TestIdentityByClientIDAndName(t *testing.T) {
	velero := "/subscriptions/" + sub + "/resourceGroups/velero-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/velero-identity"
	twin := "/subscriptions/" + sub + "/resourceGroups/other-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/twin"
	ident := func(id, name, clientID string) *armmsi.Identity {
		return &armmsi.Identity{ID: to.Ptr(id), Name: to.Ptr(name), Properties: &armmsi.UserAssignedIdentityProperties{ClientID: to.Ptr(clientID), PrincipalID: to.Ptr("p-" + name), TenantID: to.Ptr("t")}}
	}
	msi := msifake.NewServerFactoryTransport(&msifake.ServerFactory{
		UserAssignedIdentitiesServer: msifake.UserAssignedIdentitiesServer{
			NewListBySubscriptionPager: func(*armmsi.UserAssignedIdentitiesClientListBySubscriptionOptions) (resp azfake.PagerResponder[armmsi.UserAssignedIdentitiesClientListBySubscriptionResponse]) {
				resp.AddPage(http.StatusOK, armmsi.UserAssignedIdentitiesClientListBySubscriptionResponse{UserAssignedIdentitiesListResult: armmsi.UserAssignedIdentitiesListResult{
					Value: []*armmsi.Identity{ident(velero, "velero-identity", "AAAAAAAA-0000-4000-8000-000000000001"), ident(identityID, "ext", "bbbbbbbb-0000-4000-8000-000000000002")}}}, nil)
				resp.AddPage(http.StatusOK, armmsi.UserAssignedIdentitiesClientListBySubscriptionResponse{UserAssignedIdentitiesListResult: armmsi.UserAssignedIdentitiesListResult{
					Value: []*armmsi.Identity{ident(twin, "twin", "cccccccc-0000-4000-8000-000000000003"), ident(twin+"2", "twin2", "cccccccc-0000-4000-8000-000000000003")}}}, nil)
				return
			},
			Get: func(_ context.Context, rg, name string, _ *armmsi.UserAssignedIdentitiesClientGetOptions) (resp azfake.Responder[armmsi.UserAssignedIdentitiesClientGetResponse], errResp azfake.ErrorResponder) {
				if rg != "velero-rg" || name != "velero-identity" {
					errResp.SetResponseError(http.StatusNotFound, "ResourceNotFound")
					return
				}
				resp.SetResponse(http.StatusOK, armmsi.UserAssignedIdentitiesClientGetResponse{Identity: *ident(velero, name, "aaaaaaaa-0000-4000-8000-000000000001")}, nil)
				return
			},
		},
	})
	client := newTestClient(t, &routes{msi: msi})
	ctx := context.Background()
	for _, tc := range []struct {
		clientID string
		want     []string
	}{
		{"aaaaaaaa-0000-4000-8000-000000000001", []string{"velero-identity"}},
		{"dddddddd-0000-4000-8000-000000000004", nil},
		{"cccccccc-0000-4000-8000-000000000003", []string{"twin", "twin2"}},
	} {
		got, err := client.ListUserAssignedIdentitiesByClientID(ctx, sub, tc.clientID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, id := range got {
			names = append(names, id.Name)
		}
		if strings.Join(names, ",") != strings.Join(tc.want, ",") {
			t.Errorf("client ID %s: got %v, want %v", tc.clientID, names, tc.want)
		}
		if len(got) == 1 && (got[0].ResourceGroup != "velero-rg" || got[0].PrincipalID != "p-velero-identity") {
			t.Errorf("identity mapped wrong: %+v", got[0])
		}
	}
	id, err := client.GetUserAssignedIdentity(ctx, mustID(t, velero, TypeIdentity))
	if err != nil || id.ClientID != "aaaaaaaa-0000-4000-8000-000000000001" || id.ResourceGroup != "velero-rg" {
		t.Fatalf("get: %v %+v", err, id)
	}
	if _, err := client.GetUserAssignedIdentity(ctx, mustID(t, twin, TypeIdentity)); !errors.As(err, new(*NotFoundError)) {
		t.Fatalf("want NotFoundError, got %v", err)
	}
}
