package trustedaccess

import (
	"context"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
)

const vaultID = "/subscriptions/" + azurefake.Subscription + "/resourceGroups/lab-rg/providers/Microsoft.DataProtection/backupVaults/lab-vault"

func setup(t *testing.T) (*azurefake.Client, Input) {
	t.Helper()
	c := azurefake.AKSBackup()
	c.Vaults = map[string]*azure.BackupVault{strings.ToLower(vaultID): {ID: vaultID, Name: "lab-vault", IdentityType: "SystemAssigned", PrincipalID: "vault-principal"}}
	cluster, _ := azure.ParseResourceID(azurefake.ClusterID, azure.TypeManagedCluster)
	vault, _ := azure.ParseResourceID(vaultID, azure.TypeBackupVault)
	return c, Input{Cluster: cluster, Vault: vault, SnapshotResourceGroup: "/subscriptions/" + azurefake.Subscription + "/resourceGroups/snapshots",
		StorageAccountID: azurefake.AccountID, ClusterPrincipalID: "cluster-principal", ExtensionPrincipalID: azurefake.IdentityPrincipal}
}

func grant(c *azurefake.Client, principal, roleID, scope string) {
	c.Assignments = append(c.Assignments, azure.RoleAssignment{ID: scope + "/ra/" + roleID, Scope: scope, PrincipalID: principal,
		RoleDefinitionID: "/subscriptions/" + azurefake.Subscription + "/providers/Microsoft.Authorization/roleDefinitions/" + roleID})
}

func TestCheck(t *testing.T) {
	c, in := setup(t)
	ctx := context.Background()
	r, err := Check(ctx, c, in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Errors != 7 {
		t.Fatalf("findings %+v", r.Findings)
	}
	var missing []string
	for _, f := range r.Findings {
		if f.ID == "trusted-access-missing" {
			missing = f.Remediation
		}
	}
	if !strings.Contains(strings.Join(missing, "\n"), "kubectl aksbackup trusted-access create --vault-id "+vaultID) {
		t.Errorf("trusted-access-missing remediation %v", missing)
	}
	var disk string
	for _, f := range r.Findings {
		if strings.Contains(f.Message, "Disk Snapshot Contributor") {
			disk = f.Remediation[0]
		}
	}
	if disk != `az role assignment create --assignee-object-id vault-principal --assignee-principal-type ServicePrincipal --role "Disk Snapshot Contributor" --scope `+in.SnapshotResourceGroup {
		t.Errorf("exact command: %q", disk)
	}

	// Create the binding, grant the matrix (Owner on the RG stands in for Reader and Disk Snapshot Contributor).
	p, _, err := PlanCreate(ctx, c, in.Cluster, in.Vault, "")
	if err != nil || p == nil {
		t.Fatal(err)
	}
	if err := p.Execute(ctx, false); err != nil {
		t.Fatal(err)
	}
	grant(c, "vault-principal", RoleReader, azurefake.ClusterID)
	grant(c, "vault-principal", RoleOwner, in.SnapshotResourceGroup)
	grant(c, "vault-principal", RoleBlobDataReader, azurefake.AccountID)
	grant(c, "cluster-principal", RoleContributor, in.SnapshotResourceGroup)
	grant(c, azurefake.IdentityPrincipal, RoleBlobDataContributor, azurefake.AccountID)
	if r, err = Check(ctx, c, in); err != nil || r.Summary.Errors != 0 || len(r.Matrix) != 6 {
		t.Fatalf("after fixing: %v %+v", err, r.Findings)
	}
	if p, msg, err := PlanCreate(ctx, c, in.Cluster, in.Vault, ""); p != nil || err != nil || !strings.HasPrefix(msg, "No changes") {
		t.Fatalf("second create: %v %q %v", p, msg, err)
	}
}

func TestVaultWithoutIdentityAndNameClash(t *testing.T) {
	c, in := setup(t)
	c.Vaults[strings.ToLower(vaultID)].IdentityType, c.Vaults[strings.ToLower(vaultID)].PrincipalID = "None", ""
	r, err := Check(context.Background(), c, in)
	if err != nil || r.Findings[0].ID != "vault-identity-missing" {
		t.Fatalf("%v %+v", err, r.Findings)
	}
	c.Bindings = []azure.TrustedAccessBinding{{Name: BindingName(in.Vault), SourceResourceID: "/other", Roles: []string{"x"}}}
	if _, _, err := PlanCreate(context.Background(), c, in.Cluster, in.Vault, ""); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("name clash: %v", err)
	}
	if got := BindingName(in.Vault); got != "bv-lab-vault" {
		t.Errorf("name %q", got)
	}
}

// TestBindingWithoutTheBackupOperatorRole: a binding for the vault that grants another role is
// trusted-access-role-wrong, with the command that recreates it.
func TestBindingWithoutTheBackupOperatorRole(t *testing.T) {
	c, in := setup(t)
	c.Bindings = []azure.TrustedAccessBinding{{ID: azurefake.ClusterID + "/trustedAccessRoleBindings/" + BindingName(in.Vault), Name: BindingName(in.Vault),
		SourceResourceID: vaultID, Roles: []string{"Microsoft.DataProtection/backupVaults/reader"}}}
	r, err := Check(context.Background(), c, in)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range r.Findings {
		if f.ID == "trusted-access-missing" {
			t.Errorf("the binding exists; trusted-access-missing was reported: %+v", f)
		}
		found = found || f.ID == "trusted-access-role-wrong" && strings.Contains(f.Message, "backupVaults/reader")
	}
	if !found {
		t.Fatalf("no trusted-access-role-wrong in %+v", r.Findings)
	}
}
