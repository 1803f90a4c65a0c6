package azurecheck

import (
	"context"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
)

func gather(t *testing.T, c *azurefake.Client) *Facts {
	t.Helper()
	cluster, _ := azure.ParseResourceID(azurefake.ClusterID, azure.TypeManagedCluster)
	f, err := Gather(context.Background(), c, cluster, azurefake.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPlanConfigureCreatesThenIsIdempotent(t *testing.T) {
	p := aksProfile(t)
	c := azurefake.AKSBackup()
	ap, err := PlanConfigure(c, gather(t, c), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	creates := map[string]int{}
	for _, ch := range ap.Changes {
		creates[ch.Phase]++
	}
	if creates[PhaseFederatedCredential] != 3 || creates[PhaseRoleAssignment] != 1 || !ap.NewRoleAssignment || ap.ClientID != azurefake.IdentityClientID {
		t.Fatalf("plan %v, client %s", creates, ap.ClientID)
	}
	pl := &plan.Plan{Changes: ap.Changes}
	if err := pl.Execute(context.Background(), true); err != nil || c.Calls["CreateFederatedCredential"] != 0 {
		t.Fatalf("dry run wrote: %v %v", err, c.Calls)
	}
	if err := pl.Execute(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	again, err := PlanConfigure(c, gather(t, c), p, nil)
	if err != nil || len(again.Changes) != 0 {
		t.Fatalf("second plan: %v, %d changes", err, len(again.Changes))
	}
	if fs := Analyze(gather(t, c), Input{Profile: p}); count(fs, "federated-credential-missing")+count(fs, "blob-data-role-missing") != 0 {
		t.Fatalf("after configure: %v", ids(fs))
	}
}

func TestPlanConfigureRefusals(t *testing.T) {
	p := aksProfile(t)
	tests := []struct {
		name  string
		setup func(*azurefake.Client)
		want  string
	}{
		{"OIDC issuer disabled", func(c *azurefake.Client) { c.Cluster.OIDCIssuerEnabled, c.Cluster.OIDCIssuerURL = false, "" }, "oidc-issuer-disabled"},
		{"extension missing", func(c *azurefake.Client) { c.Extensions = nil }, "extension-missing"},
		{"a credential of ours was edited", func(c *azurefake.Client) {
			c.Wire(p.Namespace, "dataprotection-microsoft-controller-sa")
			c.Credentials[strings.ToLower(azurefake.IdentityID)][0].Subject = "system:serviceaccount:other:x"
		}, "exists on azure-aks-backup with other values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := azurefake.AKSBackup()
			tc.setup(c)
			_, err := PlanConfigure(c, gather(t, c), p, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestPlanConfigureSkipsPhases(t *testing.T) {
	p := aksProfile(t)
	c := azurefake.AKSBackup()
	ap, err := PlanConfigure(c, gather(t, c), p, map[string]bool{PhaseRoleAssignment: true})
	if err != nil || len(ap.Changes) != 3 || ap.NewRoleAssignment {
		t.Fatalf("%v %d", err, len(ap.Changes))
	}
}

func TestAssignmentNameIsStableGUID(t *testing.T) {
	a := AssignmentName(azurefake.AccountID, RoleBlobDataContributor, azurefake.IdentityPrincipal)
	b := AssignmentName(strings.ToUpper(azurefake.AccountID), RoleBlobDataContributor, azurefake.IdentityPrincipal)
	if a != b || len(a) != 36 || a[14] != '5' {
		t.Fatalf("%s %s", a, b)
	}
	if a == AssignmentName(azurefake.SiblingAccountID, RoleBlobDataContributor, azurefake.IdentityPrincipal) {
		t.Fatal("different scopes must give different names")
	}
}

// With --overwrite, a credential of configure's own name whose values differ is replaced in place
// (one PUT of the same name), and a second plan has nothing left to do.
func TestPlanConfigureOverwriteReplacesItsOwnCredential(t *testing.T) {
	p := aksProfile(t)
	c := azurefake.AKSBackup()
	c.Wire(p.Namespace, "dataprotection-microsoft-controller-sa")
	creds := c.Credentials[strings.ToLower(azurefake.IdentityID)]
	creds[0].Issuer += "/"
	name := creds[0].Name
	ap, err := PlanConfigureWith(c, gather(t, c), p, ConfigureOptions{Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	var replaced []*plan.Change
	for _, ch := range ap.Changes {
		if ch.Action == "replace" {
			replaced = append(replaced, ch)
		}
	}
	if len(replaced) != 1 || replaced[0].Object != "federatedIdentityCredential/"+name || !strings.Contains(replaced[0].Reason, "only the trailing slash differs") {
		t.Fatalf("replacements %+v", replaced)
	}
	if err := (&plan.Plan{Changes: ap.Changes}).Execute(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	again, err := PlanConfigureWith(c, gather(t, c), p, ConfigureOptions{Overwrite: true})
	if err != nil || len(again.Changes) != 0 {
		t.Fatalf("second plan: %v, %d changes", err, len(again.Changes))
	}
	if n := len(c.Credentials[strings.ToLower(azurefake.IdentityID)]); n != 3 {
		t.Errorf("%d credentials after the replacement, want 3 (replaced in place, not added)", n)
	}
}
