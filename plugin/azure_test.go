package plugin

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
)

// withAzure points the commands at an in-memory Azure for one test.
func withAzure(t *testing.T, c *azurefake.Client) {
	t.Helper()
	old := newAzureClient
	newAzureClient = func(*azureFlags) (azure.Client, error) { return c, nil }
	t.Cleanup(func() { newAzureClient = old })
	t.Setenv("AZURE_SUBSCRIPTION_ID", azurefake.Subscription)
}

func TestStatusWithAzure(t *testing.T) {
	withAzure(t, azurefake.AKSBackup())
	f := &fakeFactory{client: unwiredCluster(true), rg: "lab-rg", cluster: "lab-aks"}
	out, _, err := run(t, f, "", "identity", "status", "-o", "json")
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("exit %d: %v", exitcode.Code(err), err)
	}
	var st identity.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Azure == nil || st.Azure.ClusterID != azurefake.ClusterID || st.Azure.IdentityClientID != azurefake.IdentityClientID {
		t.Fatalf("azure section %+v", st.Azure)
	}
	got := map[string]int{}
	for _, f := range st.Findings {
		got[f.ID]++
	}
	if got["federated-credential-missing"] != 3 || got["blob-data-role-missing"] != 1 || got["wi-label-missing"] != 3 {
		t.Fatalf("findings %v", got)
	}

	// Without a cluster the Azure checks are skipped, with a note saying how to enable them.
	f = &fakeFactory{client: unwiredCluster(true)}
	out, _, _ = run(t, f, "", "identity", "status")
	if !strings.Contains(out, "azure-checks-skipped") {
		t.Fatalf("no skip note:\n%s", out)
	}
	out, _, _ = run(t, f, "", "identity", "status", "--no-azure")
	if strings.Contains(out, "azure-checks-skipped") {
		t.Fatalf("--no-azure still notes the skip:\n%s", out)
	}
}

// An AKS cluster that ARM does not know is bad input, named by its finding ID, for both commands
// that read Azure; nothing is changed.
func TestUnknownClusterIsClusterNotFound(t *testing.T) {
	for _, args := range [][]string{{"identity", "status"}, {"identity", "configure", "--yes"}} {
		az := azurefake.AKSBackup()
		withAzure(t, az)
		f := &fakeFactory{client: unwiredCluster(true), rg: "lab-rg", cluster: "no-such-aks"}
		_, _, err := run(t, f, "", args...)
		if exitcode.Code(err) != exitcode.InvalidInput || err == nil || !strings.Contains(err.Error(), "cluster-not-found") || !strings.Contains(err.Error(), "no-such-aks") {
			t.Fatalf("%v: exit %d: %v", args, exitcode.Code(err), err)
		}
		for call := range az.Calls {
			if strings.HasPrefix(call, "Create") || strings.HasPrefix(call, "Put") || strings.HasPrefix(call, "Assign") {
				t.Errorf("%v wrote to Azure: %v", args, az.Calls)
			}
		}
	}
}

func TestConfigureWithAzure(t *testing.T) {
	az := azurefake.AKSBackup()
	withAzure(t, az)
	f := &fakeFactory{client: unwiredCluster(true), rg: "lab-rg", cluster: "lab-aks"}
	out, _, err := run(t, f, "", "identity", "configure", "--dry-run=client")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"federated-credential", "role-assignment", "aksbackup-dataprotection-microsoft-geneva-sa", azurefake.IdentityClientID} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if az.Calls["CreateFederatedCredential"]+az.Calls["CreateRoleAssignment"] != 0 {
		t.Fatalf("dry run wrote to Azure: %v", az.Calls)
	}
	out, errOut, err := run(t, f, "", "identity", "configure", "--yes", "--wait=false")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if az.Calls["CreateFederatedCredential"] != 3 || az.Calls["CreateRoleAssignment"] != 1 || !strings.Contains(out, "Applied 10 change(s)") || !strings.Contains(errOut, "several minutes") {
		t.Fatalf("calls %v\n%s\n%s", az.Calls, out, errOut)
	}

	_, _, err = run(t, f, "", "identity", "configure", "--yes", "--client-id", "99999999-9999-9999-9999-999999999999")
	if exitcode.Code(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "is not the client ID of the backup extension's identity") {
		t.Fatalf("mismatched --client-id: %v", err)
	}

	az.Cluster.OIDCIssuerEnabled = false
	_, _, err = run(t, f, "", "identity", "configure", "--yes")
	if exitcode.Code(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "oidc-issuer-disabled") {
		t.Fatalf("blocked prerequisite: %v", err)
	}
}

func TestAzureTargetFlags(t *testing.T) {
	t.Setenv("AZURE_SUBSCRIPTION_ID", "")
	tests := []struct {
		name    string
		flags   azureFlags
		factory *fakeFactory
		ok      bool
		want    string
		wantErr string
	}{
		{name: "nothing", flags: azureFlags{}, factory: &fakeFactory{}},
		{name: "cluster ID", flags: azureFlags{ClusterID: azurefake.ClusterID}, factory: &fakeFactory{}, ok: true, want: azurefake.ClusterID},
		{name: "cluster ID and parts", flags: azureFlags{ClusterID: azurefake.ClusterID, ResourceGroup: "x"}, factory: &fakeFactory{}, wantErr: "cannot be combined"},
		{name: "wrong type", flags: azureFlags{ClusterID: azurefake.AccountID}, factory: &fakeFactory{}, wantErr: "not a Microsoft.ContainerService/managedClusters"},
		{name: "parts", flags: azureFlags{Subscription: azurefake.Subscription, ResourceGroup: "lab-rg", ClusterName: "lab-aks"}, factory: &fakeFactory{}, ok: true, want: azurefake.ClusterID},
		{name: "half the parts", flags: azureFlags{Subscription: azurefake.Subscription, ResourceGroup: "lab-rg"}, factory: &fakeFactory{}, wantErr: "go together"},
		{name: "inferred without subscription", flags: azureFlags{}, factory: &fakeFactory{rg: "lab-rg", cluster: "lab-aks"}, wantErr: "but not its subscription"},
		{name: "--no-azure wins", flags: azureFlags{ClusterID: azurefake.ClusterID, NoAzure: true}, factory: &fakeFactory{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, ok, err := tc.flags.Target(tc.factory)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || ok != tc.ok || (ok && id.String() != tc.want) {
				t.Fatalf("%v %v %v", id, ok, err)
			}
		})
	}
}
