package azurelab

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// armToken is an unsigned token with the claims the ARM double reads (it trusts the Entra double).
func armToken(oid string) string {
	claims, _ := json.Marshal(map[string]string{"aud": "https://management.azure.com", "oid": oid})
	return "Bearer e30." + base64.RawURLEncoding.EncodeToString(claims) + ".sig"
}

func serve(t *testing.T, a *ARM, method, path, oid string) int {
	t.Helper()
	req := httptest.NewRequest(method, path+"?api-version=2022-04-01", nil)
	req.Header.Set("Authorization", armToken(oid))
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec.Code
}

// TestDeletesAreAuthorizedAndIdempotent: DELETE removes exactly the named credential or assignment
// (200), answers 204 once it is gone, and refuses with 403 a caller whose roles lack the delete action.
func TestDeletesAreAuthorizedAndIdempotent(t *testing.T) {
	s, err := Scenario("wired", "ns", nil, "t", "https://issuer/", "", "")
	if err != nil {
		t.Fatal(err)
	}
	a := &ARM{Store: &Store{s: s}}
	credentials, assignments := len(s.Credentials), len(s.Assignments)
	fic := IdentityID + "/federatedIdentityCredentials/" + s.Credentials[0].Name
	ra := AccountID + "/providers/Microsoft.Authorization/roleAssignments/lab-blob"

	if code := serve(t, a, http.MethodDelete, fic, IdentityPrincipal); code != http.StatusForbidden || len(s.Credentials) != credentials {
		t.Fatalf("the extension identity may not delete credentials: %d, %d left", code, len(s.Credentials))
	}
	for i, want := range []int{http.StatusOK, http.StatusNoContent} {
		if code := serve(t, a, http.MethodDelete, fic, AdminObjectID); code != want {
			t.Errorf("credential delete %d: %d, want %d", i+1, code, want)
		}
		if code := serve(t, a, http.MethodDelete, ra, AdminObjectID); code != want {
			t.Errorf("assignment delete %d: %d, want %d", i+1, code, want)
		}
	}
	if len(s.Credentials) != credentials-1 || len(s.Assignments) != assignments-1 || len(s.Writes) != 4 {
		t.Fatalf("left %d credentials, %d assignments, writes %v", len(s.Credentials), len(s.Assignments), s.Writes)
	}

	if err := s.apply("caller-contributor"); err != nil {
		t.Fatal(err)
	}
	other := AccountID + "/providers/Microsoft.Authorization/roleAssignments/lab-account"
	if code := serve(t, a, http.MethodDelete, other, AdminObjectID); code != http.StatusForbidden || len(s.Assignments) != assignments-1 {
		t.Fatalf("Contributor's notActions must refuse role assignment deletes: %d", code)
	}
}
