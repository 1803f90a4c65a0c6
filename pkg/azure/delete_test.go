package azure

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	authzfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
	msifake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi/fake"
)

// TestDeletes: each delete addresses exactly the named object, an absent one (204 or 404) is not an
// error, and a 403 names the delete action and scope the caller lacks.
func TestDeletes(t *testing.T) {
	const assignment = "11111111-1111-5111-8111-111111111111"
	var deletedFICs, deletedAssignments []string
	msi := msifake.NewServerFactoryTransport(&msifake.ServerFactory{
		FederatedIdentityCredentialsServer: msifake.FederatedIdentityCredentialsServer{
			Delete: func(_ context.Context, rg, identity, name string, _ *armmsi.FederatedIdentityCredentialsClientDeleteOptions) (resp azfake.Responder[armmsi.FederatedIdentityCredentialsClientDeleteResponse], errResp azfake.ErrorResponder) {
				switch {
				case rg != "MC_rg" || identity != "ext":
					errResp.SetResponseError(http.StatusBadRequest, "WrongIdentity")
				case name == "forbidden":
					errResp.SetResponseError(http.StatusForbidden, "AuthorizationFailed")
				case name == "gone":
					errResp.SetResponseError(http.StatusNotFound, "NotFound")
				case name == "absent":
					resp.SetResponse(http.StatusNoContent, armmsi.FederatedIdentityCredentialsClientDeleteResponse{}, nil)
				default:
					deletedFICs = append(deletedFICs, name)
					resp.SetResponse(http.StatusOK, armmsi.FederatedIdentityCredentialsClientDeleteResponse{}, nil)
				}
				return
			},
		},
	})
	authz := authzfake.NewServerFactoryTransport(&authzfake.ServerFactory{
		RoleAssignmentsServer: authzfake.RoleAssignmentsServer{
			Delete: func(_ context.Context, scope, name string, _ *armauthorization.RoleAssignmentsClientDeleteOptions) (resp azfake.Responder[armauthorization.RoleAssignmentsClientDeleteResponse], errResp azfake.ErrorResponder) {
				switch {
				case strings.Trim(scope, "/") != strings.Trim(accountID, "/"):
					errResp.SetResponseError(http.StatusForbidden, "AuthorizationFailed")
				case name != assignment:
					resp.SetResponse(http.StatusNoContent, armauthorization.RoleAssignmentsClientDeleteResponse{}, nil)
				default:
					deletedAssignments = append(deletedAssignments, strings.Trim(scope, "/")+"|"+name)
					resp.SetResponse(http.StatusOK, armauthorization.RoleAssignmentsClientDeleteResponse{}, nil)
				}
				return
			},
		},
	})
	client := newTestClient(t, &routes{msi: msi, authz: authz})
	ctx := context.Background()
	ref := mustID(t, identityID, TypeIdentity)

	for _, name := range []string{"aksbackup-velero", "absent", "gone"} {
		if err := client.DeleteFederatedCredential(ctx, ref, name); err != nil {
			t.Errorf("delete %s: %v", name, err)
		}
	}
	if len(deletedFICs) != 1 || deletedFICs[0] != "aksbackup-velero" {
		t.Errorf("deleted credentials %v, want only aksbackup-velero", deletedFICs)
	}
	var pe *PermissionError
	if err := client.DeleteFederatedCredential(ctx, ref, "forbidden"); !errors.As(err, &pe) ||
		pe.Action != "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete" || pe.Scope != identityID {
		t.Errorf("403 on a credential: %v", err)
	}

	if err := client.DeleteRoleAssignment(ctx, accountID, assignment); err != nil {
		t.Fatal(err)
	}
	if err := client.DeleteRoleAssignment(ctx, accountID, "22222222-2222-5222-8222-222222222222"); err != nil {
		t.Errorf("an absent assignment (204) must not be an error: %v", err)
	}
	if len(deletedAssignments) != 1 || deletedAssignments[0] != strings.Trim(accountID, "/")+"|"+assignment {
		t.Errorf("deleted assignments %v", deletedAssignments)
	}
	other := accountID + "2"
	if err := client.DeleteRoleAssignment(ctx, other, assignment); !errors.As(err, &pe) || pe.Action != "Microsoft.Authorization/roleAssignments/delete" || pe.Scope != other {
		t.Errorf("403 on an assignment: %v", err)
	}
}
