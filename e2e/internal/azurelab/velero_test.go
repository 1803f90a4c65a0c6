package azurelab

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestVeleroIdentityAndCrossSubscriptionAccount: ARM lists each identity in its own subscription,
// reads Velero's identity by ID, keeps its federated credentials apart from the extension's, and
// serves the second subscription's storage account.
func TestVeleroIdentityAndCrossSubscriptionAccount(t *testing.T) {
	s, err := Scenario("unwired", "", nil, "t", "https://issuer/", "https://front/devstoreaccount1/", "")
	if err != nil {
		t.Fatal(err)
	}
	a := &ARM{Store: &Store{s: s}}
	get := func(path string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodGet, path+"?api-version=2023-01-31", nil)
		req.Header.Set("Authorization", armToken(AdminObjectID))
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body
	}
	names := func(body map[string]any) string {
		var out []string
		for _, v := range body["value"].([]any) {
			out = append(out, v.(map[string]any)["name"].(string))
		}
		return strings.Join(out, ",")
	}
	if code, body := get("/subscriptions/" + Subscription + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities"); code != 200 || names(body) != IdentityName+","+VeleroIdentityName {
		t.Fatalf("sub 1 identities: %d %v", code, body)
	}
	if code, body := get("/subscriptions/" + Subscription2 + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities"); code != 200 || names(body) != "" {
		t.Fatalf("sub 2 identities: %d %v", code, body)
	}
	if code, body := get(VeleroIdentityID); code != 200 || body["properties"].(map[string]any)["clientId"] != VeleroClientID {
		t.Fatalf("velero identity: %d %v", code, body)
	}
	if code, _ := get(strings.Replace(VeleroIdentityID, VeleroIdentityName, "nope", 1)); code != 404 {
		t.Fatalf("a missing identity answers %d", code)
	}
	req := httptest.NewRequest(http.MethodPut, VeleroIdentityID+"/federatedIdentityCredentials/aksbackup-velero?api-version=2023-01-31",
		strings.NewReader(`{"properties":{"issuer":"https://issuer/","subject":"system:serviceaccount:velero:velero","audiences":["api://AzureADTokenExchange"]}}`))
	req.Header.Set("Authorization", armToken(AdminObjectID))
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != 201 || len(s.VeleroCredentials) != 1 || len(s.Credentials) != 0 {
		t.Fatalf("PUT credential: %d, velero %v, extension %v", rec.Code, s.VeleroCredentials, s.Credentials)
	}
	if code, body := get(XSubAccountID); code != 200 || body["id"] != XSubAccountID {
		t.Fatalf("cross-subscription account: %d %v", code, body)
	}
}

// TestBlobFrontChecksTheContainerScope: a role on the container admits writes to it, a role on
// another container does not, and the account is chosen by the request's host.
func TestBlobFrontChecksTheContainerScope(t *testing.T) {
	s, err := Scenario("unwired", "", nil, "t", "https://issuer/", "", "")
	if err != nil {
		t.Fatal(err)
	}
	azurite := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) }))
	defer azurite.Close()
	target, _ := url.Parse(azurite.URL)
	front := NewBlobFront(&Store{s: s}, target, http.DefaultTransport)
	put := func(host string) int {
		req := httptest.NewRequest(http.MethodPut, "https://"+host+"/devstoreaccount1/velero/blob", strings.NewReader("x"))
		req.Host = host
		req.Header.Set("Authorization", armToken(VeleroPrincipal))
		rec := httptest.NewRecorder()
		front.ServeHTTP(rec, req)
		return rec.Code
	}
	grant := func(scope string) {
		s.Assignments = append(s.Assignments, Assignment{Name: "g", Scope: scope, RoleID: RoleDefPrefix + BlobDataContrib, PrincipalID: VeleroPrincipal})
	}
	grant(XSubAccountID + "/blobServices/default/containers/other")
	if code := put(XSubAccountName + ".blob.core.windows.net"); code != 403 {
		t.Fatalf("a role on another container admitted the write: %d", code)
	}
	grant(XSubAccountID + "/blobServices/default/containers/velero")
	if code := put(XSubAccountName + ".blob.core.windows.net"); code != 201 {
		t.Fatalf("a role on the container was refused: %d", code)
	}
	if code := put("127.0.0.1:8443"); code != 403 {
		t.Fatalf("the role on the other subscription's account admitted a write to the lab account: %d", code)
	}
}

// TestCustomCloudAudienceAndSuffix: a custom-cloud ARM refuses the public audience from loopback
// clients and accepts its own; public-host clients (the velero double) keep the public audience and
// are told blob endpoints in the cloud's suffix.
func TestCustomCloudAudienceAndSuffix(t *testing.T) {
	s, err := Scenario("unwired", "", nil, "t", "https://issuer/", "https://front/devstoreaccount1/", "")
	if err != nil {
		t.Fatal(err)
	}
	a := &ARM{Store: &Store{s: s}, Audience: "https://arm.aksbackup-lab.example/", StorageSuffix: "core.aksbackup-lab.example"}
	call := func(host, aud string) (int, string) {
		claims, _ := json.Marshal(map[string]string{"aud": aud, "oid": AdminObjectID})
		req := httptest.NewRequest(http.MethodGet, AccountID+"?api-version=2023-01-01", nil)
		req.Host = host
		req.Header.Set("Authorization", "Bearer e30."+base64.RawURLEncoding.EncodeToString(claims)+".sig")
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, _ := call("127.0.0.1:9443", "https://management.azure.com/"); code != http.StatusUnauthorized {
		t.Errorf("the public audience on loopback: %d, want 401", code)
	}
	if code, body := call("127.0.0.1:9443", "https://arm.aksbackup-lab.example"); code != 200 || !strings.Contains(body, "https://front/devstoreaccount1/") {
		t.Errorf("the cloud's audience on loopback: %d %s", code, body)
	}
	if code, body := call("management.azure.com", "https://management.azure.com/"); code != 200 || !strings.Contains(body, "https://labstorage.blob.core.aksbackup-lab.example/") {
		t.Errorf("public host: %d %s", code, body)
	}
}
