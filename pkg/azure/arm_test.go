package azure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
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
)

const (
	sub        = "00000000-0000-0000-0000-000000000001"
	clusterID  = "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
	accountID  = "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/backups"
	identityID = "/subscriptions/" + sub + "/resourceGroups/MC_rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ext"
	principal  = "aaaaaaaa-0000-0000-0000-000000000001"
)

// routes sends each request to the fake server of the module that owns the resource type, and
// everything else (the generic ARM calls) to a plain handler function.
type routes struct {
	cs, msi, authz, storage policy.Transporter
	generic                 func(*http.Request) (*http.Response, error)
}

func (r *routes) Do(req *http.Request) (*http.Response, error) {
	p := req.URL.Path
	switch {
	case strings.Contains(p, "/Microsoft.KubernetesConfiguration/"), strings.Contains(p, "/Microsoft.DataProtection/"):
		return r.generic(req)
	case strings.Contains(p, "/Microsoft.ContainerService/"):
		return r.cs.Do(req)
	case strings.Contains(p, "/Microsoft.ManagedIdentity/"):
		return r.msi.Do(req)
	case strings.Contains(p, "/Microsoft.Authorization/"):
		return r.authz.Do(req)
	case strings.Contains(p, "/Microsoft.Storage/"):
		return r.storage.Do(req)
	}
	return nil, fmt.Errorf("no fake for %s", p)
}

func jsonResponse(req *http.Request, status int, body string, headers ...string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}
}

func newTestClient(t *testing.T, r *routes) Client {
	t.Helper()
	c, err := ResolveCloud("AzurePublic", "")
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(Options{Cloud: c, Credential: &azfake.TokenCredential{}, Transport: r,
		Retry: policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: 2 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func mustID(t *testing.T, id, typ string) ResourceID {
	t.Helper()
	r, err := ParseResourceID(id, typ)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGetClusterAndTrustedAccess(t *testing.T) {
	var created armcontainerservice.TrustedAccessRoleBinding
	cs := csfake.NewServerFactoryTransport(&csfake.ServerFactory{
		ManagedClustersServer: csfake.ManagedClustersServer{
			Get: func(_ context.Context, rg, name string, _ *armcontainerservice.ManagedClustersClientGetOptions) (resp azfake.Responder[armcontainerservice.ManagedClustersClientGetResponse], errResp azfake.ErrorResponder) {
				resp.SetResponse(http.StatusOK, armcontainerservice.ManagedClustersClientGetResponse{ManagedCluster: armcontainerservice.ManagedCluster{
					ID: to.Ptr(clusterID), Name: to.Ptr(name), Location: to.Ptr("eastus"),
					Identity: &armcontainerservice.ManagedClusterIdentity{Type: to.Ptr(armcontainerservice.ResourceIdentityTypeSystemAssigned), PrincipalID: to.Ptr("cluster-principal")},
					Properties: &armcontainerservice.ManagedClusterProperties{
						OidcIssuerProfile:       &armcontainerservice.ManagedClusterOIDCIssuerProfile{Enabled: to.Ptr(true), IssuerURL: to.Ptr("https://eastus.oic.prod-aks.azure.com/tenant/guid/")},
						SecurityProfile:         &armcontainerservice.ManagedClusterSecurityProfile{WorkloadIdentity: &armcontainerservice.ManagedClusterSecurityProfileWorkloadIdentity{Enabled: to.Ptr(true)}},
						ServicePrincipalProfile: &armcontainerservice.ManagedClusterServicePrincipalProfile{ClientID: to.Ptr("msi")},
						NodeResourceGroup:       to.Ptr("MC_rg"),
						HTTPProxyConfig: &armcontainerservice.ManagedClusterHTTPProxyConfig{HTTPSProxy: to.Ptr("http://proxy.corp:3128"),
							NoProxy: []*string{to.Ptr(".svc"), to.Ptr("10.0.0.0/8")}},
					},
				}}, nil)
				return
			},
		},
		TrustedAccessRoleBindingsServer: csfake.TrustedAccessRoleBindingsServer{
			BeginCreateOrUpdate: func(_ context.Context, _, _, name string, b armcontainerservice.TrustedAccessRoleBinding, _ *armcontainerservice.TrustedAccessRoleBindingsClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armcontainerservice.TrustedAccessRoleBindingsClientCreateOrUpdateResponse], errResp azfake.ErrorResponder) {
				created = b
				resp.SetTerminalResponse(http.StatusOK, armcontainerservice.TrustedAccessRoleBindingsClientCreateOrUpdateResponse{TrustedAccessRoleBinding: b}, nil)
				return
			},
		},
	})
	client := newTestClient(t, &routes{cs: cs})
	c, err := client.GetCluster(context.Background(), mustID(t, clusterID, TypeManagedCluster))
	if err != nil {
		t.Fatal(err)
	}
	if !c.OIDCIssuerEnabled || !c.WorkloadIdentityEnabled || c.IdentityType != "SystemAssigned" || c.ServicePrincipalClientID != "msi" ||
		!strings.HasSuffix(c.OIDCIssuerURL, "/") || c.NodeResourceGroup != "MC_rg" ||
		c.HTTPProxy == nil || c.HTTPProxy.HTTPSProxy != "http://proxy.corp:3128" || strings.Join(c.HTTPProxy.NoProxy, ",") != ".svc,10.0.0.0/8" {
		t.Errorf("cluster mapped wrong: %+v", c)
	}
	err = client.CreateTrustedAccessBinding(context.Background(), mustID(t, clusterID, TypeManagedCluster), TrustedAccessBinding{
		Name: "vault-binding", SourceResourceID: "/subscriptions/x/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v",
		Roles: []string{"Microsoft.DataProtection/backupVaults/backup-operator"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := *created.Properties.Roles[0]; got != "Microsoft.DataProtection/backupVaults/backup-operator" {
		t.Errorf("role sent %q", got)
	}
}

func TestIdentitiesAndFederatedCredentials(t *testing.T) {
	var created armmsi.FederatedIdentityCredential
	msi := msifake.NewServerFactoryTransport(&msifake.ServerFactory{
		UserAssignedIdentitiesServer: msifake.UserAssignedIdentitiesServer{
			NewListBySubscriptionPager: func(*armmsi.UserAssignedIdentitiesClientListBySubscriptionOptions) (resp azfake.PagerResponder[armmsi.UserAssignedIdentitiesClientListBySubscriptionResponse]) {
				resp.AddPage(http.StatusOK, armmsi.UserAssignedIdentitiesClientListBySubscriptionResponse{UserAssignedIdentitiesListResult: armmsi.UserAssignedIdentitiesListResult{Value: []*armmsi.Identity{
					{ID: to.Ptr(strings.Replace(identityID, "/ext", "/other", 1)), Name: to.Ptr("other"), Properties: &armmsi.UserAssignedIdentityProperties{PrincipalID: to.Ptr("someone-else")}},
				}}}, nil)
				resp.AddPage(http.StatusOK, armmsi.UserAssignedIdentitiesClientListBySubscriptionResponse{UserAssignedIdentitiesListResult: armmsi.UserAssignedIdentitiesListResult{Value: []*armmsi.Identity{
					{ID: to.Ptr(identityID), Name: to.Ptr("ext"), Properties: &armmsi.UserAssignedIdentityProperties{PrincipalID: to.Ptr(strings.ToUpper(principal)), ClientID: to.Ptr("client-guid"), TenantID: to.Ptr("tenant-guid")}},
				}}}, nil)
				return
			},
		},
		FederatedIdentityCredentialsServer: msifake.FederatedIdentityCredentialsServer{
			NewListPager: func(rg, name string, _ *armmsi.FederatedIdentityCredentialsClientListOptions) (resp azfake.PagerResponder[armmsi.FederatedIdentityCredentialsClientListResponse]) {
				resp.AddPage(http.StatusOK, armmsi.FederatedIdentityCredentialsClientListResponse{FederatedIdentityCredentialsListResult: armmsi.FederatedIdentityCredentialsListResult{Value: []*armmsi.FederatedIdentityCredential{
					{Name: to.Ptr("velero"), Properties: &armmsi.FederatedIdentityCredentialProperties{Issuer: to.Ptr("https://issuer/"), Subject: to.Ptr("system:serviceaccount:ns:sa"), Audiences: []*string{to.Ptr("api://AzureADTokenExchange")}}},
				}}}, nil)
				return
			},
			CreateOrUpdate: func(_ context.Context, rg, identity, name string, p armmsi.FederatedIdentityCredential, _ *armmsi.FederatedIdentityCredentialsClientCreateOrUpdateOptions) (resp azfake.Responder[armmsi.FederatedIdentityCredentialsClientCreateOrUpdateResponse], errResp azfake.ErrorResponder) {
				if rg != "MC_rg" || identity != "ext" {
					errResp.SetResponseError(http.StatusNotFound, "ResourceNotFound")
					return
				}
				created = p
				resp.SetResponse(http.StatusCreated, armmsi.FederatedIdentityCredentialsClientCreateOrUpdateResponse{FederatedIdentityCredential: p}, nil)
				return
			},
		},
	})
	client := newTestClient(t, &routes{msi: msi})
	ctx := context.Background()
	id, err := client.FindUserAssignedIdentity(ctx, sub, principal)
	if err != nil {
		t.Fatal(err)
	}
	if id.Name != "ext" || id.ResourceGroup != "MC_rg" || id.ClientID != "client-guid" {
		t.Fatalf("identity %+v", id)
	}
	if _, err := client.FindUserAssignedIdentity(ctx, sub, "missing"); !errors.As(err, new(*NotFoundError)) {
		t.Fatalf("want NotFoundError, got %v", err)
	}
	ref := mustID(t, id.ID, TypeIdentity)
	fcs, err := client.ListFederatedCredentials(ctx, ref)
	if err != nil || len(fcs) != 1 || fcs[0].Audiences[0] != "api://AzureADTokenExchange" {
		t.Fatalf("list: %v %+v", err, fcs)
	}
	err = client.CreateFederatedCredential(ctx, ref, FederatedCredential{Name: "aksbackup-x", Issuer: "https://issuer/", Subject: "system:serviceaccount:ns:x", Audiences: []string{"api://AzureADTokenExchange"}})
	if err != nil || *created.Properties.Subject != "system:serviceaccount:ns:x" {
		t.Fatalf("create: %v", err)
	}
}

func TestRoleAssignmentsAndDefinitions(t *testing.T) {
	var filter string
	authz := authzfake.NewServerFactoryTransport(&authzfake.ServerFactory{
		RoleAssignmentsServer: authzfake.RoleAssignmentsServer{
			NewListForScopePager: func(scope string, o *armauthorization.RoleAssignmentsClientListForScopeOptions) (resp azfake.PagerResponder[armauthorization.RoleAssignmentsClientListForScopeResponse]) {
				filter = *o.Filter
				resp.AddPage(http.StatusOK, armauthorization.RoleAssignmentsClientListForScopeResponse{RoleAssignmentListResult: armauthorization.RoleAssignmentListResult{Value: []*armauthorization.RoleAssignment{
					{ID: to.Ptr("ra1"), Name: to.Ptr("ra1"), Properties: &armauthorization.RoleAssignmentProperties{Scope: to.Ptr("/subscriptions/" + sub + "/resourceGroups/rg"), RoleDefinitionID: to.Ptr("/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe"), PrincipalID: to.Ptr(principal)}},
				}}}, nil)
				return
			},
			Create: func(_ context.Context, scope, name string, p armauthorization.RoleAssignmentCreateParameters, _ *armauthorization.RoleAssignmentsClientCreateOptions) (resp azfake.Responder[armauthorization.RoleAssignmentsClientCreateResponse], errResp azfake.ErrorResponder) {
				if *p.Properties.PrincipalType != armauthorization.PrincipalTypeServicePrincipal {
					errResp.SetResponseError(http.StatusBadRequest, "PrincipalTypeMissing")
					return
				}
				resp.SetResponse(http.StatusCreated, armauthorization.RoleAssignmentsClientCreateResponse{RoleAssignment: armauthorization.RoleAssignment{ID: to.Ptr(scope + "/providers/Microsoft.Authorization/roleAssignments/" + name), Name: to.Ptr(name)}}, nil)
				return
			},
		},
		RoleDefinitionsServer: authzfake.RoleDefinitionsServer{
			GetByID: func(_ context.Context, id string, _ *armauthorization.RoleDefinitionsClientGetByIDOptions) (resp azfake.Responder[armauthorization.RoleDefinitionsClientGetByIDResponse], errResp azfake.ErrorResponder) {
				resp.SetResponse(http.StatusOK, armauthorization.RoleDefinitionsClientGetByIDResponse{RoleDefinition: armauthorization.RoleDefinition{ID: to.Ptr(id), Properties: &armauthorization.RoleDefinitionProperties{
					RoleName: to.Ptr("Storage Blob Data Contributor"),
					Permissions: []*armauthorization.Permission{{Actions: []*string{to.Ptr("Microsoft.Storage/storageAccounts/blobServices/containers/read")},
						DataActions: []*string{to.Ptr("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write")}}},
				}}}, nil)
				return
			},
		},
	})
	client := newTestClient(t, &routes{authz: authz})
	ctx := context.Background()
	ras, err := client.ListRoleAssignments(ctx, accountID, principal)
	if err != nil || len(ras) != 1 || ras[0].Scope != "/subscriptions/"+sub+"/resourceGroups/rg" {
		t.Fatalf("list: %v %+v", err, ras)
	}
	if filter != "principalId eq '"+principal+"'" {
		t.Errorf("filter %q", filter)
	}
	rd, err := client.GetRoleDefinition(ctx, ras[0].RoleDefinitionID)
	if err != nil || rd.RoleName != "Storage Blob Data Contributor" || len(rd.DataActions) != 1 {
		t.Fatalf("definition: %v %+v", err, rd)
	}
	ra, err := client.CreateRoleAssignment(ctx, accountID, "11111111-1111-1111-1111-111111111111", ras[0].RoleDefinitionID, principal)
	if err != nil || !strings.HasSuffix(ra.ID, "/roleAssignments/11111111-1111-1111-1111-111111111111") {
		t.Fatalf("create: %v %+v", err, ra)
	}
}

func TestStorage(t *testing.T) {
	storage := storagefake.NewServerFactoryTransport(&storagefake.ServerFactory{
		AccountsServer: storagefake.AccountsServer{
			GetProperties: func(_ context.Context, rg, name string, _ *armstorage.AccountsClientGetPropertiesOptions) (resp azfake.Responder[armstorage.AccountsClientGetPropertiesResponse], errResp azfake.ErrorResponder) {
				resp.SetResponse(http.StatusOK, armstorage.AccountsClientGetPropertiesResponse{Account: armstorage.Account{ID: to.Ptr(accountID), Name: to.Ptr(name), Properties: &armstorage.AccountProperties{
					AllowSharedKeyAccess: to.Ptr(false), PublicNetworkAccess: to.Ptr(armstorage.PublicNetworkAccessEnabled),
					PrimaryEndpoints: &armstorage.Endpoints{Blob: to.Ptr("https://backups.blob.core.windows.net/")},
					NetworkRuleSet: &armstorage.NetworkRuleSet{DefaultAction: to.Ptr(armstorage.DefaultActionDeny), Bypass: to.Ptr(armstorage.BypassAzureServices),
						IPRules: []*armstorage.IPRule{{IPAddressOrRange: to.Ptr("203.0.113.0/24")}}},
				}}}, nil)
				return
			},
		},
		BlobContainersServer: storagefake.BlobContainersServer{
			Get: func(_ context.Context, rg, account, container string, _ *armstorage.BlobContainersClientGetOptions) (resp azfake.Responder[armstorage.BlobContainersClientGetResponse], errResp azfake.ErrorResponder) {
				if container != "velero" {
					errResp.SetResponseError(http.StatusNotFound, "ContainerNotFound")
					return
				}
				resp.SetResponse(http.StatusOK, armstorage.BlobContainersClientGetResponse{}, nil)
				return
			},
		},
	})
	client := newTestClient(t, &routes{storage: storage})
	ctx := context.Background()
	ref := mustID(t, accountID, TypeStorageAccount)
	sa, err := client.GetStorageAccount(ctx, ref)
	if err != nil || *sa.AllowSharedKeyAccess || sa.DefaultAction != "Deny" || sa.IPRules[0] != "203.0.113.0/24" || sa.BlobEndpoint == "" {
		t.Fatalf("account: %v %+v", err, sa)
	}
	for container, want := range map[string]bool{"velero": true, "missing": false} {
		if got, err := client.BlobContainerExists(ctx, ref, container); err != nil || got != want {
			t.Errorf("%s: %v %v", container, got, err)
		}
	}
}

func TestGenericCallsRetriesAndErrors(t *testing.T) {
	var calls atomic.Int32
	mode := "ok"
	generic := func(req *http.Request) (*http.Response, error) {
		n := calls.Add(1)
		switch {
		case mode == "throttle-once" && n == 1:
			return jsonResponse(req, http.StatusTooManyRequests, `{"error":{"code":"TooManyRequests","message":"slow down"}}`, "Retry-After", "0"), nil
		case mode == "forbidden":
			return jsonResponse(req, http.StatusForbidden, `{"error":{"code":"AuthorizationFailed","message":"The client 'u' with object id 'u' does not have authorization to perform action 'Microsoft.KubernetesConfiguration/extensions/read' over scope '`+clusterID+`' or the scope is invalid. If access was recently granted, please refresh your credentials."}}`), nil
		case mode == "broken":
			return jsonResponse(req, http.StatusInternalServerError, `{"error":{"code":"InternalServerError","message":"boom"}}`), nil
		case mode == "missing":
			return jsonResponse(req, http.StatusNotFound, `{"error":{"code":"ResourceNotFound","message":"The Resource was not found."}}`), nil
		}
		if strings.Contains(req.URL.Path, "backupVaults") {
			if req.URL.Query().Get("api-version") != backupVaultsAPIVersion {
				return jsonResponse(req, http.StatusBadRequest, `{"error":{"code":"NoApiVersion"}}`), nil
			}
			return jsonResponse(req, http.StatusOK, `{"id":"v","name":"vault","identity":{"type":"SystemAssigned","principalId":"vault-principal"}}`), nil
		}
		if req.URL.Query().Get("page") == "2" {
			return jsonResponse(req, http.StatusOK, `{"value":[{"id":"e2","name":"flux","properties":{"extensionType":"microsoft.flux","provisioningState":"Succeeded"}}]}`), nil
		}
		return jsonResponse(req, http.StatusOK, `{"value":[{"id":"e1","name":"azure-aks-backup","properties":{"extensionType":"microsoft.dataprotection.kubernetes","provisioningState":"Succeeded",
			"configurationSettings":{"configuration.backupStorageLocation.bucket":"velero"},"aksAssignedIdentity":{"principalId":"p","tenantId":"t","type":"SystemAssigned"}}}],
			"nextLink":"https://management.azure.com`+clusterID+`/providers/Microsoft.KubernetesConfiguration/extensions?api-version=2023-05-01&page=2"}`), nil
	}
	client := newTestClient(t, &routes{generic: generic})
	ctx := context.Background()
	cluster := mustID(t, clusterID, TypeManagedCluster)

	exts, err := client.ListExtensions(ctx, cluster)
	if err != nil {
		t.Fatal(err)
	}
	if len(exts) != 2 || exts[1].Name != "flux" || exts[0].IdentityPrincipalID != "p" || exts[0].ConfigurationValues["configuration.backupStorageLocation.bucket"] != "velero" {
		t.Fatalf("extensions %+v", exts)
	}
	vault, err := client.GetBackupVault(ctx, mustID(t, "/subscriptions/"+sub+"/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/vault", TypeBackupVault))
	if err != nil || vault.PrincipalID != "vault-principal" {
		t.Fatalf("vault %v %+v", err, vault)
	}

	mode, calls = "throttle-once", atomic.Int32{}
	if _, err := client.GetBackupVault(ctx, mustID(t, "/subscriptions/"+sub+"/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/vault", TypeBackupVault)); err != nil || calls.Load() != 2 {
		t.Fatalf("429 must be retried: %v after %d calls", err, calls.Load())
	}

	mode = "forbidden"
	_, err = client.ListExtensions(ctx, cluster)
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Action != "Microsoft.KubernetesConfiguration/extensions/read" || pe.Scope != clusterID ||
		!strings.Contains(err.Error(), "you need Microsoft.KubernetesConfiguration/extensions/read on "+clusterID) {
		t.Fatalf("403: %v", err)
	}

	mode, calls = "broken", atomic.Int32{}
	_, err = client.ListExtensions(ctx, cluster)
	if err == nil || !strings.Contains(err.Error(), "answered 500") || calls.Load() < 2 {
		t.Fatalf("500: %v after %d calls", err, calls.Load())
	}

	mode = "missing"
	_, err = client.ListExtensions(ctx, cluster)
	if !errors.As(err, new(*NotFoundError)) || !strings.Contains(err.Error(), "404 ResourceNotFound") {
		t.Fatalf("404: %v", err)
	}
}

func TestParseResourceIDAndScopes(t *testing.T) {
	if _, err := ParseResourceID(accountID, TypeManagedCluster); err == nil || !strings.Contains(err.Error(), "not a Microsoft.ContainerService/managedClusters") {
		t.Errorf("type check: %v", err)
	}
	if _, err := ParseResourceID("aks", TypeManagedCluster); err == nil {
		t.Error("a bare name is not an ID")
	}
	id, err := NewResourceID(sub, "rg", TypeManagedCluster, "aks")
	if err != nil || id.String() != clusterID || id.Name != "aks" {
		t.Fatalf("%v %v", id, err)
	}
	tests := []struct {
		outer, inner string
		want         bool
	}{
		{accountID, accountID, true},
		{"/subscriptions/" + sub + "/resourceGroups/RG", accountID, true},
		{"/subscriptions/" + sub, accountID, true},
		{"/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/backups2", accountID, false},
		{"/subscriptions/" + sub + "/resourceGroups/r", accountID, false},
		{accountID + "/blobServices/default/containers/velero", accountID, false},
	}
	for _, tc := range tests {
		if got := ScopeContains(tc.outer, tc.inner); got != tc.want {
			t.Errorf("ScopeContains(%s, %s) = %v", tc.outer, tc.inner, got)
		}
	}
}

func FuzzParseResourceID(f *testing.F) {
	f.Add(clusterID)
	f.Add(accountID + "/blobServices/default")
	f.Add("/subscriptions//resourceGroups/")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseResourceID(s, "")
		if err == nil && (id.SubscriptionID == "" || id.ResourceGroup == "") {
			t.Fatalf("accepted %q without subscription or resource group", s)
		}
	})
}
