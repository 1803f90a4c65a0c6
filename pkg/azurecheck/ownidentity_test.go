package azurecheck

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	authzfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6"
	csfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
	msifake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"
	storagefake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage/fake"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// The world of a plain Velero install: the cluster in one subscription, Velero's identity beside it,
// and the backup storage account in another subscription.
const (
	clusterSub     = "00000000-0000-0000-0000-00000000000a"
	storageSub     = "00000000-0000-0000-0000-00000000000b"
	veleroCluster  = "/subscriptions/" + clusterSub + "/resourceGroups/aks-rg/providers/Microsoft.ContainerService/managedClusters/aks"
	veleroIdentity = "/subscriptions/" + clusterSub + "/resourceGroups/velero-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/velero-identity"
	veleroClientID = "aaaaaaaa-0000-4000-8000-000000000001"
	veleroObjectID = "aaaaaaaa-0000-4000-8000-0000000000aa"
	veleroAccount  = "/subscriptions/" + storageSub + "/resourceGroups/backup-rg/providers/Microsoft.Storage/storageAccounts/veleroacct"
	veleroScope    = veleroAccount + "/blobServices/default/containers/velero"
	blobContrib    = "/subscriptions/" + storageSub + "/providers/Microsoft.Authorization/roleDefinitions/" + RoleBlobDataContributor
	customRolePre  = "/subscriptions/" + storageSub + "/providers/Microsoft.Authorization/roleDefinitions/"
	veleroIssuer   = "https://oidc.example/issuer/"
)

// sdkWorld serves ARM through the Azure SDK's fake servers and records every request path.
type sdkWorld struct {
	mu          sync.Mutex
	identities  []*armmsi.Identity
	assignments []*armauthorization.RoleAssignment
	roles       map[string]armauthorization.Permission
	sharedKey   bool
	paths       []string
	created     []armauthorization.RoleAssignment
	credentials []string
}

func newVeleroWorld() *sdkWorld {
	return &sdkWorld{sharedKey: true,
		identities: []*armmsi.Identity{identityJSON(veleroIdentity, veleroClientID, veleroObjectID)},
		roles: map[string]armauthorization.Permission{
			RoleBlobDataContributor: {DataActions: to.SliceOfPtrs("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
				"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action")},
		}}
}

func identityJSON(id, clientID, principal string) *armmsi.Identity {
	return &armmsi.Identity{ID: to.Ptr(id), Name: to.Ptr(id[strings.LastIndex(id, "/")+1:]),
		Properties: &armmsi.UserAssignedIdentityProperties{ClientID: to.Ptr(clientID), PrincipalID: to.Ptr(principal), TenantID: to.Ptr("tenant")}}
}

func (w *sdkWorld) assign(scope, roleGUID string) {
	w.assignments = append(w.assignments, &armauthorization.RoleAssignment{ID: to.Ptr(scope + "/providers/Microsoft.Authorization/roleAssignments/" + roleGUID), Name: to.Ptr(roleGUID),
		Properties: &armauthorization.RoleAssignmentProperties{Scope: to.Ptr(scope), RoleDefinitionID: to.Ptr(customRolePre + roleGUID), PrincipalID: to.Ptr(veleroObjectID)}})
}

func (w *sdkWorld) Do(req *http.Request) (*http.Response, error) {
	w.mu.Lock()
	w.paths = append(w.paths, req.Method+" "+req.URL.Path)
	w.mu.Unlock()
	p := req.URL.Path
	switch {
	case strings.Contains(p, "/Microsoft.ContainerService/"):
		return csfake.NewServerFactoryTransport(&csfake.ServerFactory{ManagedClustersServer: csfake.ManagedClustersServer{
			Get: func(_ context.Context, _, name string, _ *armcontainerservice.ManagedClustersClientGetOptions) (resp azfake.Responder[armcontainerservice.ManagedClustersClientGetResponse], errResp azfake.ErrorResponder) {
				resp.SetResponse(http.StatusOK, armcontainerservice.ManagedClustersClientGetResponse{ManagedCluster: armcontainerservice.ManagedCluster{ID: to.Ptr(veleroCluster), Name: to.Ptr(name),
					Identity: &armcontainerservice.ManagedClusterIdentity{Type: to.Ptr(armcontainerservice.ResourceIdentityTypeSystemAssigned)},
					Properties: &armcontainerservice.ManagedClusterProperties{OidcIssuerProfile: &armcontainerservice.ManagedClusterOIDCIssuerProfile{Enabled: to.Ptr(true), IssuerURL: to.Ptr(veleroIssuer)},
						SecurityProfile:         &armcontainerservice.ManagedClusterSecurityProfile{WorkloadIdentity: &armcontainerservice.ManagedClusterSecurityProfileWorkloadIdentity{Enabled: to.Ptr(true)}},
						ServicePrincipalProfile: &armcontainerservice.ManagedClusterServicePrincipalProfile{ClientID: to.Ptr("msi")}}}}, nil)
				return
			}}}).Do(req)
	case strings.Contains(p, "/Microsoft.ManagedIdentity/"):
		return msifake.NewServerFactoryTransport(&msifake.ServerFactory{
			UserAssignedIdentitiesServer: msifake.UserAssignedIdentitiesServer{
				NewListBySubscriptionPager: func(*armmsi.UserAssignedIdentitiesClientListBySubscriptionOptions) (resp azfake.PagerResponder[armmsi.UserAssignedIdentitiesClientListBySubscriptionResponse]) {
					sub := strings.Split(p, "/")[2]
					var page []*armmsi.Identity
					for _, id := range w.identities {
						if strings.HasPrefix(*id.ID, "/subscriptions/"+sub+"/") {
							page = append(page, id)
						}
					}
					resp.AddPage(http.StatusOK, armmsi.UserAssignedIdentitiesClientListBySubscriptionResponse{UserAssignedIdentitiesListResult: armmsi.UserAssignedIdentitiesListResult{Value: page}}, nil)
					return
				},
				Get: func(_ context.Context, rg, name string, _ *armmsi.UserAssignedIdentitiesClientGetOptions) (resp azfake.Responder[armmsi.UserAssignedIdentitiesClientGetResponse], errResp azfake.ErrorResponder) {
					for _, id := range w.identities {
						if strings.EqualFold(*id.ID, strings.TrimSuffix(p, "/")) {
							resp.SetResponse(http.StatusOK, armmsi.UserAssignedIdentitiesClientGetResponse{Identity: *id}, nil)
							return
						}
					}
					errResp.SetResponseError(http.StatusNotFound, "ResourceNotFound")
					return
				}},
			FederatedIdentityCredentialsServer: msifake.FederatedIdentityCredentialsServer{
				NewListPager: func(string, string, *armmsi.FederatedIdentityCredentialsClientListOptions) (resp azfake.PagerResponder[armmsi.FederatedIdentityCredentialsClientListResponse]) {
					resp.AddPage(http.StatusOK, armmsi.FederatedIdentityCredentialsClientListResponse{}, nil)
					return
				},
				CreateOrUpdate: func(_ context.Context, rg, identity, name string, fc armmsi.FederatedIdentityCredential, _ *armmsi.FederatedIdentityCredentialsClientCreateOrUpdateOptions) (resp azfake.Responder[armmsi.FederatedIdentityCredentialsClientCreateOrUpdateResponse], errResp azfake.ErrorResponder) {
					w.credentials = append(w.credentials, rg+"/"+identity+"/"+name+" "+*fc.Properties.Subject)
					resp.SetResponse(http.StatusCreated, armmsi.FederatedIdentityCredentialsClientCreateOrUpdateResponse{FederatedIdentityCredential: fc}, nil)
					return
				}},
		}).Do(req)
	case strings.Contains(p, "/Microsoft.Authorization/"):
		return authzfake.NewServerFactoryTransport(&authzfake.ServerFactory{
			RoleAssignmentsServer: authzfake.RoleAssignmentsServer{
				NewListForScopePager: func(scope string, _ *armauthorization.RoleAssignmentsClientListForScopeOptions) (resp azfake.PagerResponder[armauthorization.RoleAssignmentsClientListForScopeResponse]) {
					var out []*armauthorization.RoleAssignment
					for _, ra := range w.assignments {
						if azure.ScopeContains(*ra.Properties.Scope, "/"+scope) || azure.ScopeContains("/"+scope, *ra.Properties.Scope) {
							out = append(out, ra)
						}
					}
					resp.AddPage(http.StatusOK, armauthorization.RoleAssignmentsClientListForScopeResponse{RoleAssignmentListResult: armauthorization.RoleAssignmentListResult{Value: out}}, nil)
					return
				},
				Create: func(_ context.Context, scope, name string, p armauthorization.RoleAssignmentCreateParameters, _ *armauthorization.RoleAssignmentsClientCreateOptions) (resp azfake.Responder[armauthorization.RoleAssignmentsClientCreateResponse], errResp azfake.ErrorResponder) {
					ra := armauthorization.RoleAssignment{ID: to.Ptr(scope + "/providers/Microsoft.Authorization/roleAssignments/" + name), Name: to.Ptr(name),
						Properties: &armauthorization.RoleAssignmentProperties{Scope: to.Ptr(scope), RoleDefinitionID: p.Properties.RoleDefinitionID, PrincipalID: p.Properties.PrincipalID}}
					w.created = append(w.created, ra)
					resp.SetResponse(http.StatusCreated, armauthorization.RoleAssignmentsClientCreateResponse{RoleAssignment: ra}, nil)
					return
				}},
			RoleDefinitionsServer: authzfake.RoleDefinitionsServer{
				GetByID: func(_ context.Context, id string, _ *armauthorization.RoleDefinitionsClientGetByIDOptions) (resp azfake.Responder[armauthorization.RoleDefinitionsClientGetByIDResponse], errResp azfake.ErrorResponder) {
					guid := id[strings.LastIndex(id, "/")+1:]
					perm, ok := w.roles[guid]
					if !ok {
						errResp.SetResponseError(http.StatusNotFound, "RoleDefinitionDoesNotExist")
						return
					}
					resp.SetResponse(http.StatusOK, armauthorization.RoleDefinitionsClientGetByIDResponse{RoleDefinition: armauthorization.RoleDefinition{ID: to.Ptr(id),
						Properties: &armauthorization.RoleDefinitionProperties{RoleName: to.Ptr("role-" + guid[:8]), Permissions: []*armauthorization.Permission{&perm}}}}, nil)
					return
				}},
		}).Do(req)
	case strings.Contains(p, "/Microsoft.Storage/"):
		return storagefake.NewServerFactoryTransport(&storagefake.ServerFactory{
			AccountsServer: storagefake.AccountsServer{
				GetProperties: func(_ context.Context, rg, name string, _ *armstorage.AccountsClientGetPropertiesOptions) (resp azfake.Responder[armstorage.AccountsClientGetPropertiesResponse], errResp azfake.ErrorResponder) {
					if !strings.EqualFold(strings.TrimSuffix(p, "/"), veleroAccount) {
						errResp.SetResponseError(http.StatusNotFound, "ResourceNotFound")
						return
					}
					resp.SetResponse(http.StatusOK, armstorage.AccountsClientGetPropertiesResponse{Account: armstorage.Account{ID: to.Ptr(veleroAccount), Name: to.Ptr(name),
						Properties: &armstorage.AccountProperties{AllowSharedKeyAccess: to.Ptr(w.sharedKey), PublicNetworkAccess: to.Ptr(armstorage.PublicNetworkAccessEnabled)}}}, nil)
					return
				}},
			BlobContainersServer: storagefake.BlobContainersServer{
				Get: func(_ context.Context, _, _, container string, _ *armstorage.BlobContainersClientGetOptions) (resp azfake.Responder[armstorage.BlobContainersClientGetResponse], errResp azfake.ErrorResponder) {
					resp.SetResponse(http.StatusOK, armstorage.BlobContainersClientGetResponse{}, nil)
					return
				}},
		}).Do(req)
	}
	return nil, fmt.Errorf("no fake for %s", p)
}

func (w *sdkWorld) client(t *testing.T) azure.Client {
	t.Helper()
	cloud, err := azure.ResolveCloud("AzurePublic", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := azure.NewClient(azure.Options{Cloud: cloud, Credential: &azfake.TokenCredential{}, Transport: w,
		Retry: policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: 2 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func veleroProfile(t *testing.T) profile.Profile {
	t.Helper()
	p, err := profile.Resolve(profile.Selection{Profile: "velero"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// veleroBSL is the BSL of a plain Velero install whose storage lives in another subscription.
var veleroBSL = &Location{Name: "default", Bucket: "velero", Config: map[string]string{
	"storageAccount": "veleroacct", "resourceGroup": "backup-rg", "subscriptionId": storageSub, "useAAD": "true"}}

func gatherVelero(t *testing.T, w *sdkWorld, req Request) *Facts {
	t.Helper()
	if req.Location == nil {
		req.Location = veleroBSL
	}
	clusterRef, err := azure.ParseResourceID(veleroCluster, azure.TypeManagedCluster)
	if err != nil {
		t.Fatal(err)
	}
	f, err := GatherFor(context.Background(), w.client(t), clusterRef, veleroIssuer, req)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func countIDs(fs []findings.Finding) map[string]int {
	out := map[string]int{}
	for _, f := range fs {
		out[f.ID]++
	}
	return out
}

// TestOwnIdentityLookup: Velero's identity comes from --identity, --client-id or the service
// accounts' annotation; 0, 1 or several matches each say so, and the extension is never asked for.
func TestOwnIdentityLookup(t *testing.T) {
	storageIdentity := "/subscriptions/" + storageSub + "/resourceGroups/id-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/velero-in-storage-sub"
	tests := []struct {
		name      string
		world     func(*sdkWorld)
		req       Request
		wantID    string // identity found ("" = none)
		wantIssue string
		wantText  string
	}{
		{name: "annotation, one match", req: Request{AnnotatedClientIDs: map[string]string{"velero": strings.ToUpper(veleroClientID)}}, wantID: veleroIdentity},
		{name: "no annotation and no flag", req: Request{}, wantIssue: "identity-unknown", wantText: "no service account of the profile carries"},
		{name: "annotation matches nothing", req: Request{AnnotatedClientIDs: map[string]string{"velero": "dddddddd-0000-4000-8000-000000000004"}},
			wantIssue: "identity-not-found", wantText: "no user-assigned identity with client ID dddddddd-0000-4000-8000-000000000004 (from the client-id annotation of serviceaccount/velero) in subscription " + clusterSub + " or " + storageSub},
		{name: "client ID matches two identities", world: func(w *sdkWorld) {
			w.identities = append(w.identities, identityJSON(strings.Replace(veleroIdentity, "velero-identity", "twin", 1), veleroClientID, "other-principal"))
		}, req: Request{AnnotatedClientIDs: map[string]string{"velero": veleroClientID}}, wantIssue: "identity-ambiguous", wantText: "matches 2 identities"},
		{name: "service accounts disagree", req: Request{AnnotatedClientIDs: map[string]string{"velero": veleroClientID, "node-agent": "dddddddd-0000-4000-8000-000000000004"}},
			wantIssue: "identity-ambiguous", wantText: "annotated with different client IDs"},
		{name: "--client-id wins over the annotation", req: Request{ClientID: veleroClientID, AnnotatedClientIDs: map[string]string{"velero": "dddddddd-0000-4000-8000-000000000004"}}, wantID: veleroIdentity},
		{name: "--identity by name", req: Request{IdentityName: "velero-identity", IdentityResourceGroup: "velero-rg"}, wantID: veleroIdentity},
		{name: "--identity that does not exist", req: Request{IdentityName: "nope", IdentityResourceGroup: "velero-rg"}, wantIssue: "identity-not-found", wantText: "no user-assigned identity nope in resource group velero-rg"},
		{name: "identity in the storage subscription", world: func(w *sdkWorld) {
			w.identities = []*armmsi.Identity{identityJSON(storageIdentity, veleroClientID, veleroObjectID)}
		}, req: Request{AnnotatedClientIDs: map[string]string{"velero": veleroClientID}}, wantID: storageIdentity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newVeleroWorld()
			if tc.world != nil {
				tc.world(w)
			}
			f := gatherVelero(t, w, tc.req)
			for _, p := range w.paths {
				if strings.Contains(p, "KubernetesConfiguration") {
					t.Errorf("asked ARM for the extension: %s", p)
				}
			}
			got := Analyze(f, Input{Profile: veleroProfile(t), AnnotatedClientIDs: tc.req.AnnotatedClientIDs})
			if n := countIDs(got)["extension-missing"]; n != 0 {
				t.Errorf("extension-missing reported for the velero profile")
			}
			if tc.wantID != "" {
				if f.Identity == nil || !strings.EqualFold(f.Identity.ID, tc.wantID) || f.IdentityIssue != nil {
					t.Fatalf("identity %+v, issue %+v; want %s", f.Identity, f.IdentityIssue, tc.wantID)
				}
				if countIDs(got)["federated-credential-missing"] != 1 {
					t.Errorf("want the missing credential for serviceaccount velero, got %v", countIDs(got))
				}
				return
			}
			if f.Identity != nil || f.IdentityIssue == nil || f.IdentityIssue.Kind != tc.wantIssue || !strings.Contains(f.IdentityIssue.Detail, tc.wantText) {
				t.Fatalf("identity %+v, issue %+v; want %s %q", f.Identity, f.IdentityIssue, tc.wantIssue, tc.wantText)
			}
			if countIDs(got)[tc.wantIssue] != 1 {
				t.Errorf("findings %v lack %s", countIDs(got), tc.wantIssue)
			}
			_, err := PlanConfigure(w.client(t), f, veleroProfile(t), nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantIssue) || !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("configure must refuse naming %s: %v", tc.wantIssue, err)
			}
		})
	}
}

// TestRolesAtContainerScopeAndCustomRoles: the blob data role counts at the container, the account
// or above, never on another container; custom roles count by their dataActions minus notDataActions.
func TestRolesAtContainerScopeAndCustomRoles(t *testing.T) {
	const custom = "c0c0c0c0-0000-4000-8000-000000000001"
	const custom2 = "c0c0c0c0-0000-4000-8000-000000000002"
	rg := "/subscriptions/" + storageSub + "/resourceGroups/backup-rg"
	tests := []struct {
		name        string
		roles       map[string]armauthorization.Permission
		assign      [][2]string // scope, role GUID
		wantMissing string      // "" = granted; else a substring of the finding
	}{
		{name: "nothing assigned", wantMissing: "has no role granting " + BlobReadData + ", " + BlobWriteData + ", " + BlobDeleteData + " on " + veleroScope},
		{name: "Storage Blob Data Contributor on the container", assign: [][2]string{{veleroScope, RoleBlobDataContributor}}},
		{name: "Storage Blob Data Contributor on the account", assign: [][2]string{{veleroAccount, RoleBlobDataContributor}}},
		{name: "Storage Blob Data Contributor on another container", assign: [][2]string{{veleroAccount + "/blobServices/default/containers/other", RoleBlobDataContributor}},
			wantMissing: "which does not enclose container velero of storage account veleroacct"},
		{name: "custom role with a blobs/* wildcard on the resource group",
			roles:  map[string]armauthorization.Permission{custom: {DataActions: to.SliceOfPtrs("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*")}},
			assign: [][2]string{{rg, custom}}},
		{name: "custom role * with notDataActions */delete",
			roles:       map[string]armauthorization.Permission{custom: {DataActions: to.SliceOfPtrs("*"), NotDataActions: to.SliceOfPtrs("Microsoft.Storage/*/delete")}},
			assign:      [][2]string{{veleroScope, custom}},
			wantMissing: "has no role granting " + BlobDeleteData + " on"},
		{name: "two custom roles that together grant read, write and delete",
			roles: map[string]armauthorization.Permission{
				custom:  {DataActions: to.SliceOfPtrs("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read")},
				custom2: {DataActions: to.SliceOfPtrs("microsoft.storage/storageaccounts/blobservices/containers/blobs/write", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete")}},
			assign: [][2]string{{veleroScope, custom}, {veleroAccount, custom2}}},
		{name: "management wildcard (Owner) grants no data action",
			roles:       map[string]armauthorization.Permission{custom: {Actions: to.SliceOfPtrs("*")}},
			assign:      [][2]string{{rg, custom}},
			wantMissing: "grants no blob data action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newVeleroWorld()
			for k, v := range tc.roles {
				w.roles[k] = v
			}
			for _, a := range tc.assign {
				w.assign(a[0], a[1])
			}
			f := gatherVelero(t, w, Request{AnnotatedClientIDs: map[string]string{"velero": veleroClientID}})
			var missing *findings.Finding
			for _, fd := range Analyze(f, Input{Profile: veleroProfile(t)}) {
				if fd.ID == "blob-data-role-missing" {
					missing = &fd
				}
				if fd.ID == "storage-account-contributor-missing" {
					t.Errorf("Velero with useAAD=true never lists keys, yet: %s", fd.Message)
				}
			}
			switch {
			case tc.wantMissing == "" && missing != nil:
				t.Fatalf("unexpected: %s", missing.Message)
			case tc.wantMissing != "" && (missing == nil || !strings.Contains(missing.Message, tc.wantMissing)):
				t.Fatalf("want blob-data-role-missing with %q, got %+v", tc.wantMissing, missing)
			}
			plan, err := PlanConfigure(w.client(t), f, veleroProfile(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			roleChanges := 0
			for _, c := range plan.Changes {
				if c.Phase == PhaseRoleAssignment {
					roleChanges++
				}
			}
			if want := map[bool]int{true: 0, false: 1}[tc.wantMissing == ""]; roleChanges != want {
				t.Errorf("%d role assignment(s) planned, want %d", roleChanges, want)
			}
		})
	}
}

// TestConfigureGrantsAtTheChosenScopeInTheStorageSubscription: the role goes to the container by
// default (the account with --role-scope account), with the role definition and the reads in the
// storage account's subscription, and a name derived from that scope.
func TestConfigureGrantsAtTheChosenScopeInTheStorageSubscription(t *testing.T) {
	for scope, want := range map[string]string{"": veleroScope, RoleScopeContainer: veleroScope, RoleScopeAccount: veleroAccount} {
		t.Run("role-scope="+scope, func(t *testing.T) {
			w := newVeleroWorld()
			f := gatherVelero(t, w, Request{AnnotatedClientIDs: map[string]string{"velero": veleroClientID}})
			for _, p := range w.paths {
				if strings.Contains(p, "Microsoft.Storage/") && !strings.HasPrefix(p, "GET /subscriptions/"+storageSub+"/") {
					t.Errorf("storage read outside the storage subscription: %s", p)
				}
			}
			plan, err := PlanConfigureWith(w.client(t), f, veleroProfile(t), ConfigureOptions{RoleScope: scope})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range plan.Changes {
				if err := c.Apply(context.Background(), false); err != nil {
					t.Fatal(err)
				}
			}
			if len(w.credentials) != 1 || w.credentials[0] != "velero-rg/velero-identity/aksbackup-velero system:serviceaccount:velero:velero" {
				t.Errorf("federated credentials created: %v", w.credentials)
			}
			if len(w.created) != 1 {
				t.Fatalf("created %d role assignments", len(w.created))
			}
			ra := w.created[0]
			if !strings.EqualFold(*ra.Properties.Scope, want) && !strings.EqualFold("/"+*ra.Properties.Scope, want) {
				t.Errorf("scope %s, want %s", *ra.Properties.Scope, want)
			}
			if *ra.Properties.RoleDefinitionID != blobContrib || *ra.Properties.PrincipalID != veleroObjectID {
				t.Errorf("role %s for %s", *ra.Properties.RoleDefinitionID, *ra.Properties.PrincipalID)
			}
			if *ra.Name != AssignmentName(want, RoleBlobDataContributor, veleroObjectID) {
				t.Errorf("name %s is not derived from the scope", *ra.Name)
			}
		})
	}
}

// TestStorageFixesUseTheCloudSuffix: a storage URL in a fix names the cloud's suffix, never the
// public one, and for a BSL-based profile patches the BSL instead of the extension.
func TestStorageFixesUseTheCloudSuffix(t *testing.T) {
	w := newVeleroWorld()
	w.sharedKey = false
	bsl := &Location{Name: "default", Bucket: "velero", Config: map[string]string{"storageAccount": "veleroacct", "resourceGroup": "backup-rg", "subscriptionId": storageSub}}
	f := gatherVelero(t, w, Request{Location: bsl, AnnotatedClientIDs: map[string]string{"velero": veleroClientID}, StorageSuffix: "core.lab.example"})
	var all []string
	for _, fd := range Analyze(f, Input{Profile: veleroProfile(t)}) {
		all = append(all, fd.Message)
		all = append(all, fd.Remediation...)
	}
	text := strings.Join(all, "\n")
	if !strings.Contains(text, "https://veleroacct.blob.core.lab.example/") || !strings.Contains(text, "kubectl patch backupstoragelocation default -n velero") {
		t.Errorf("shared-key fix lacks the cloud's blob URL or the BSL patch:\n%s", text)
	}
	if strings.Contains(text, "core.windows.net") {
		t.Errorf("a public storage host in a custom cloud's findings:\n%s", text)
	}
}

// TestSharedServiceAccountIsFederatedOnce: Velero's server and node-agent run as one service
// account, which needs one federated credential, reported and created once.
func TestSharedServiceAccountIsFederatedOnce(t *testing.T) {
	p := veleroProfile(t)
	p.Pairs = []profile.Pair{{ServiceAccount: "velero", Workload: profile.Deployment("velero")},
		{ServiceAccount: "velero", Workload: profile.Workload{Kind: profile.KindDaemonSet, Name: "node-agent"}}}
	w := newVeleroWorld()
	f := gatherVelero(t, w, Request{AnnotatedClientIDs: map[string]string{"velero": veleroClientID}})
	if n := countIDs(Analyze(f, Input{Profile: p}))["federated-credential-missing"]; n != 1 {
		t.Errorf("%d federated-credential-missing findings, want 1", n)
	}
	plan, err := PlanConfigure(w.client(t), f, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	creates := 0
	for _, c := range plan.Changes {
		if c.Phase == PhaseFederatedCredential {
			creates++
		}
	}
	if creates != 1 {
		t.Errorf("%d federated credentials planned, want 1", creates)
	}
}
