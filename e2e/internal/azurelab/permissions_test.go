package azurelab

import "testing"

func TestCallerPermissionsFollowTheScenario(t *testing.T) {
	const (
		ficWrite  = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"
		roleWrite = "Microsoft.Authorization/roleAssignments/write"
	)
	owner, err := Scenario("unwired", "", nil, "t", "https://issuer/", "", "")
	if err != nil {
		t.Fatal(err)
	}
	contributor, err := Scenario("unwired", "", []string{"caller-contributor", "provider-dataprotection-unregistered"}, "t", "https://issuer/", "", "")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		s         *State
		principal string
		scope     string
		action    string
		want      bool
	}{
		{"the admin owns the subscription", owner, AdminObjectID, AccountID, roleWrite, true},
		{"contributor creates credentials", contributor, AdminObjectID, IdentityID, ficWrite, true},
		{"contributor's notActions remove role writes", contributor, AdminObjectID, AccountID + "/blobServices/default/containers/velero", roleWrite, false},
		{"the extension identity may not write ARM", owner, IdentityPrincipal, IdentityID, ficWrite, false},
	}
	for _, tc := range cases {
		if got := allowed(tc.s, tc.principal, tc.scope, tc.action); got != tc.want {
			t.Errorf("%s: allowed = %v, want %v", tc.name, got, tc.want)
		}
	}
	if owner.Providers["microsoft.dataprotection"] != "" || contributor.Providers["microsoft.dataprotection"] != "NotRegistered" {
		t.Errorf("providers: %v / %v", owner.Providers, contributor.Providers)
	}
}
