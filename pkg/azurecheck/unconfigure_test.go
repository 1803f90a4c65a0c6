package azurecheck

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
)

// azureState renders what configure and unconfigure touch in the fake, for byte comparison.
func azureState(t *testing.T, c *azurefake.Client) string {
	t.Helper()
	var creds []azure.FederatedCredential
	for _, list := range c.Credentials {
		creds = append(creds, list...)
	}
	data, err := json.Marshal(map[string]any{"credentials": creds, "assignments": c.Assignments})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func execute(t *testing.T, changes []*plan.Change, dryRun bool) {
	t.Helper()
	if err := (&plan.Plan{Changes: changes}).Execute(context.Background(), dryRun); err != nil {
		t.Fatal(err)
	}
}

func byAction(changes []*plan.Change) map[string]int {
	out := map[string]int{}
	for _, ch := range changes {
		out[ch.Phase+" "+ch.Action]++
	}
	return out
}

// TestUnconfigureUndoesConfigure: configure then unconfigure leaves the Azure objects as they were,
// including an unrelated credential and hand-made assignments the identity already had; a dry run
// and a rerun delete nothing.
func TestUnconfigureUndoesConfigure(t *testing.T) {
	p := aksProfile(t)
	c := azurefake.AKSBackup()
	idKey := strings.ToLower(azurefake.IdentityID)
	c.Credentials = map[string][]azure.FederatedCredential{idKey: {{ID: azurefake.IdentityID + "/federatedIdentityCredentials/other", Name: "other",
		Issuer: azurefake.Issuer, Subject: "system:serviceaccount:other:app", Audiences: []string{TokenAudience}}}}
	// The account contributor grant the identity already had; configure still adds the blob role.
	c.Assignments = []azure.RoleAssignment{{ID: azurefake.AccountID + "/providers/Microsoft.Authorization/roleAssignments/manual", Name: "manual",
		Scope: azurefake.AccountID, RoleDefinitionID: azurefake.RoleDefPrefix + azurefake.AccountContrib, PrincipalID: azurefake.IdentityPrincipal}}
	before := azureState(t, c)

	ap, err := PlanConfigure(c, gather(t, c), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	execute(t, ap.Changes, false)
	if azureState(t, c) == before {
		t.Fatal("configure changed nothing: the round trip would prove nothing")
	}

	up, err := PlanUnconfigure(c, gather(t, c), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := byAction(up.Changes); got[PhaseFederatedCredential+" delete"] != 3 || got[PhaseRoleAssignment+" delete"] != 1 || len(up.Changes) != 4 {
		t.Fatalf("plan %v", got)
	}
	if len(up.Needs) != 4 || up.Needs[0].Action != ActionDeleteFederatedCredential || up.Needs[3].Action != ActionDeleteRoleAssignment {
		t.Errorf("needs %+v", up.Needs)
	}
	if up.Changes[0].Phase != PhaseRoleAssignment || up.ClientID != azurefake.IdentityClientID {
		t.Errorf("the role goes first and the client ID is the identity's: %+v %s", up.Changes[0], up.ClientID)
	}
	execute(t, up.Changes, true)
	if c.Calls["DeleteFederatedCredential"]+c.Calls["DeleteRoleAssignment"] != 0 || (&plan.Plan{Changes: up.Changes}).Counts()[plan.NotSent] != 4 {
		t.Fatalf("a server dry run must send no delete and say so: %v", c.Calls)
	}
	for _, ch := range up.Changes {
		ch.State = plan.Planned
	}
	execute(t, up.Changes, false)
	if after := azureState(t, c); after != before {
		t.Fatalf("round trip differs:\nbefore %s\nafter  %s", before, after)
	}
	again, err := PlanUnconfigure(c, gather(t, c), p, nil)
	if err != nil || len(again.Changes) != 0 {
		t.Fatalf("rerun: %v %v", err, byAction(again.Changes))
	}
}

// TestUnconfigureKeepsWhatItDidNotCreate: a credential with configure's name but another subject,
// an assignment named by hand and one with configure's name for another principal stay, and the
// changed credential is reported as kept with the difference.
func TestUnconfigureKeepsWhatItDidNotCreate(t *testing.T) {
	p := aksProfile(t)
	c := azurefake.AKSBackup()
	ap, err := PlanConfigure(c, gather(t, c), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	execute(t, ap.Changes, false)
	sa := p.Pairs[0].ServiceAccount
	idKey := strings.ToLower(azurefake.IdentityID)
	for i, fc := range c.Credentials[idKey] {
		if fc.Name == CredentialName(sa) {
			c.Credentials[idKey][i].Subject = "system:serviceaccount:elsewhere:" + sa
		}
	}
	other := "dddddddd-0000-4000-8000-000000000001"
	c.Assignments = append(c.Assignments,
		azure.RoleAssignment{Name: "manual", Scope: azurefake.AccountID, RoleDefinitionID: azurefake.RoleDefPrefix + azurefake.BlobDataContrib, PrincipalID: azurefake.IdentityPrincipal},
		azure.RoleAssignment{Name: AssignmentName(azurefake.AccountID, azurefake.BlobDataContrib, other), Scope: azurefake.AccountID, RoleDefinitionID: azurefake.RoleDefPrefix + azurefake.BlobDataContrib, PrincipalID: other})

	up, err := PlanUnconfigure(c, gather(t, c), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := byAction(up.Changes)
	if got[PhaseFederatedCredential+" delete"] != 2 || got[PhaseFederatedCredential+" keep"] != 1 || got[PhaseRoleAssignment+" delete"] != 1 {
		t.Fatalf("plan %v", got)
	}
	for _, ch := range up.Changes {
		if ch.Action == plan.ActionKeep && (ch.Apply != nil || ch.Object != "federatedIdentityCredential/"+CredentialName(sa) || !strings.Contains(ch.Reason, `subject "system:serviceaccount:elsewhere:`)) {
			t.Errorf("kept row %+v", ch)
		}
	}
	execute(t, up.Changes, false)
	if len(c.Credentials[idKey]) != 1 || len(c.Assignments) != 2 {
		t.Fatalf("left %+v and %+v", c.Credentials[idKey], c.Assignments)
	}
	for _, ra := range c.Assignments {
		if ra.Name != "manual" && ra.PrincipalID != other {
			t.Errorf("configure's assignment survived: %+v", ra)
		}
	}
}

func TestUnconfigureSkipsPhasesAndRefusesUnreadable(t *testing.T) {
	p := aksProfile(t)
	c := azurefake.AKSBackup()
	ap, err := PlanConfigure(c, gather(t, c), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	execute(t, ap.Changes, false)

	up, err := PlanUnconfigure(c, gather(t, c), p, map[string]bool{PhaseRoleAssignment: true})
	if err != nil || byAction(up.Changes)[PhaseRoleAssignment+" delete"] != 0 || len(up.Changes) != 3 {
		t.Fatalf("skip role-assignment: %v %v", err, byAction(up.Changes))
	}

	c.Errors = map[string]error{"ListRoleAssignments": errors.New("403 listing")}
	if _, err := PlanUnconfigure(c, gather(t, c), p, nil); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("an unreadable fact must refuse: %v", err)
	}
}

func TestCreatedByConfigure(t *testing.T) {
	container := azurefake.AccountID + "/blobServices/default/containers/velero"
	tests := []struct {
		name string
		ra   azure.RoleAssignment
		want bool
	}{
		{"account scope", azure.RoleAssignment{Name: AssignmentName(azurefake.AccountID, azurefake.BlobDataContrib, azurefake.IdentityPrincipal), Scope: azurefake.AccountID}, true},
		{"container scope", azure.RoleAssignment{Name: AssignmentName(container, azurefake.BlobDataContrib, azurefake.IdentityPrincipal), Scope: container}, true},
		{"other casing from ARM", azure.RoleAssignment{Name: strings.ToUpper(AssignmentName(azurefake.AccountID, azurefake.BlobDataContrib, azurefake.IdentityPrincipal)), Scope: strings.ToLower(azurefake.AccountID)}, true},
		{"name of another scope", azure.RoleAssignment{Name: AssignmentName(azurefake.SiblingAccountID, azurefake.BlobDataContrib, azurefake.IdentityPrincipal), Scope: azurefake.AccountID}, false},
		{"hand-made name", azure.RoleAssignment{Name: "11111111-1111-1111-1111-111111111111", Scope: azurefake.AccountID}, false},
	}
	for _, tc := range tests {
		tc.ra.RoleDefinitionID, tc.ra.PrincipalID = azurefake.RoleDefPrefix+azurefake.BlobDataContrib, azurefake.IdentityPrincipal
		if got := CreatedByConfigure(tc.ra, azurefake.IdentityPrincipal); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
}
