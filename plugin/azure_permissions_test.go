package plugin

import (
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
)

const labVaultID = "/subscriptions/" + azurefake.Subscription + "/resourceGroups/lab-rg/providers/Microsoft.DataProtection/backupVaults/lab-vault"

func azureWrites(c *azurefake.Client) int {
	n := 0
	for call, count := range c.Calls {
		if strings.HasPrefix(call, "Create") || strings.HasPrefix(call, "Delete") {
			n += count
		}
	}
	return n
}

func kubeWrites(f *fakeFactory) []string {
	var out []string
	for _, a := range f.client.Actions() {
		switch a.GetVerb() {
		case "get", "list", "watch":
		default:
			out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
		}
	}
	return out
}

// A caller that may create federated credentials but not role assignments (Contributor) is refused
// before the first write, with the missing action, its scope and the command that grants it.
func TestConfigureRefusesMissingAzureRightsBeforeAnyWrite(t *testing.T) {
	az := azurefake.AKSBackup()
	az.Permissions = map[string][]azure.Permission{"/subscriptions/" + azurefake.Subscription: {{Actions: []string{"*"},
		NotActions: []string{"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"}}}}
	withAzure(t, az)
	f := &fakeFactory{client: unwiredCluster(true), rg: "lab-rg", cluster: "lab-aks"}
	for _, dryRun := range []string{"none", "server"} {
		f.client.ClearActions()
		_, _, err := run(t, f, "", "identity", "configure", "--yes", "--wait=false", "--dry-run="+dryRun)
		if exitcode.Code(err) != exitcode.InvalidInput || err == nil {
			t.Fatalf("--dry-run=%s: exit %d: %v", dryRun, exitcode.Code(err), err)
		}
		for _, want := range []string{"Microsoft.Authorization/roleAssignments/write on " + azurefake.AccountID, "nothing was changed", "az role assignment create"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("--dry-run=%s: error lacks %q:\n%v", dryRun, want, err)
			}
		}
		if strings.Contains(err.Error(), "federatedIdentityCredentials/write") {
			t.Errorf("a Contributor may create federated credentials; the error says otherwise:\n%v", err)
		}
		if n := azureWrites(az); n != 0 || len(kubeWrites(f)) != 0 {
			t.Fatalf("--dry-run=%s wrote: Azure %v, cluster %v", dryRun, az.Calls, kubeWrites(f))
		}
	}
}

// When the permissions API cannot be read, configure says so and goes on: ARM enforces each write.
func TestConfigureWarnsWhenPermissionsAreUnreadable(t *testing.T) {
	az := azurefake.AKSBackup()
	az.Errors = map[string]error{"ListPermissions": &azure.PermissionError{Operation: "read your permissions", Action: "Microsoft.Authorization/permissions/read", Scope: azurefake.IdentityID, Code: "AuthorizationFailed"}}
	withAzure(t, az)
	f := &fakeFactory{client: unwiredCluster(true), rg: "lab-rg", cluster: "lab-aks"}
	out, errOut, err := run(t, f, "", "identity", "configure", "--dry-run=client")
	if err != nil || !strings.Contains(errOut, "Warning: could not read your permissions on") || !strings.Contains(errOut, "Azure will refuse any write") {
		t.Fatalf("%v\n%s\n%s", err, out, errOut)
	}
}

// --dry-run=server sends the Kubernetes changes with dryRun=All and says plainly that the Azure
// changes were not sent, and what was checked instead, in the table and in JSON.
func TestConfigureServerDryRunIsHonestAboutAzure(t *testing.T) {
	az := azurefake.AKSBackup()
	withAzure(t, az)
	f := &fakeFactory{client: unwiredCluster(true), rg: "lab-rg", cluster: "lab-aks"}
	out, _, err := run(t, f, "", "identity", "configure", "--dry-run=server")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"RESULT", "not-sent", "dry-run", "ARM has no server-side dry run", "Checked instead: your permissions on each scope", "sent with dryRun=All"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "accepted every change") {
		t.Errorf("claims the server accepted the Azure changes:\n%s", out)
	}
	if azureWrites(az) != 0 || az.Calls["ListPermissions"] == 0 {
		t.Fatalf("calls %v: a server dry run checks permissions and writes nothing to Azure", az.Calls)
	}
	patches := 0
	for _, a := range f.client.Actions() {
		if p, ok := a.(k8stesting.PatchActionImpl); ok {
			patches++
			if len(p.PatchOptions.DryRun) != 1 || p.PatchOptions.DryRun[0] != metav1.DryRunAll {
				t.Errorf("patch of %s %s sent without dryRun=All: %v", p.GetResource().Resource, p.GetName(), p.PatchOptions.DryRun)
			}
		}
	}
	if patches == 0 {
		t.Fatal("no Kubernetes change was sent to the server")
	}

	out, errOut, err := run(t, f, "", "identity", "configure", "--dry-run=server", "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var doc struct {
		Plan identity.ConfigurePlan `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	states := map[string]map[string]int{}
	for _, c := range doc.Plan.Changes {
		if states[c.Phase] == nil {
			states[c.Phase] = map[string]int{}
		}
		states[c.Phase][string(c.State)]++
	}
	kubeDryRun := 0
	for phase, byState := range states {
		if phase != "federated-credential" && phase != "role-assignment" {
			kubeDryRun += byState["dry-run"]
		}
	}
	if states["federated-credential"]["not-sent"] != 3 || states["role-assignment"]["not-sent"] != 1 || kubeDryRun == 0 {
		t.Fatalf("states by phase %v", states)
	}
	if !strings.Contains(errOut, "ARM has no server-side dry run") {
		t.Errorf("JSON mode does not say so on stderr:\n%s", errOut)
	}
}

func TestTrustedAccessCreateChecksPermissionAndDryRun(t *testing.T) {
	az := azurefake.AKSBackup()
	az.Vaults = map[string]*azure.BackupVault{strings.ToLower(labVaultID): {ID: labVaultID, Name: "lab-vault", IdentityType: "SystemAssigned", PrincipalID: "vault-principal"}}
	withAzure(t, az)
	f := &fakeFactory{client: unwiredCluster(true), rg: "lab-rg", cluster: "lab-aks"}

	out, _, err := run(t, f, "", "trusted-access", "create", "--vault-id", labVaultID, "--dry-run=server")
	if err != nil || !strings.Contains(out, "not-sent") || !strings.Contains(out, "ARM has no server-side dry run") || !strings.Contains(out, "Trusted Access role bindings on the cluster") {
		t.Fatalf("%v\n%s", err, out)
	}
	if azureWrites(az) != 0 {
		t.Fatalf("server dry run wrote: %v", az.Calls)
	}

	az.Permissions = map[string][]azure.Permission{"/subscriptions/" + azurefake.Subscription: {{Actions: []string{"*/read"}}}}
	_, _, err = run(t, f, "", "trusted-access", "create", "--vault-id", labVaultID, "--yes")
	if exitcode.Code(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings/write on "+azurefake.ClusterID) {
		t.Fatalf("exit %d: %v", exitcode.Code(err), err)
	}
	if azureWrites(az) != 0 {
		t.Fatalf("refused create wrote: %v", az.Calls)
	}
}

func TestStatusReportsUnregisteredProviders(t *testing.T) {
	az := azurefake.AKSBackup()
	az.Providers = map[string]string{"microsoft.dataprotection": "NotRegistered"}
	withAzure(t, az)
	f := &fakeFactory{client: unwiredCluster(true), rg: "lab-rg", cluster: "lab-aks"}
	out, _, _ := run(t, f, "", "identity", "status", "-o", "json")
	var st identity.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, fd := range st.Findings {
		if fd.ID == "resource-provider-not-registered" {
			found = len(fd.Remediation) > 0 && fd.Remediation[0] == "az provider register --namespace Microsoft.DataProtection --subscription "+azurefake.Subscription
		}
	}
	if !found {
		t.Fatalf("no resource-provider-not-registered with its fix:\n%s", out)
	}
}
