package azurecheck

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

func aksProfile(t *testing.T) profile.Profile {
	p, err := profile.Resolve(profile.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func serviceAccounts(p profile.Profile) []string {
	var out []string
	for _, pair := range p.Pairs {
		out = append(out, pair.ServiceAccount)
	}
	return out
}

func TestAnalyzeFaults(t *testing.T) {
	p := aksProfile(t)
	key := strings.ToLower(azurefake.IdentityID)
	tests := []struct {
		name  string
		setup func(c *azurefake.Client)
		// want is the ID that must rank first; wantFix must appear in its remediation.
		want    string
		wantMsg string
		wantFix string
		count   int
		also    map[string]int
	}{
		// The token exchange fails before storage is reached, so the missing credentials lead.
		{name: "unwired: credentials and role missing", setup: func(c *azurefake.Client) {}, want: "federated-credential-missing", count: 3,
			also: map[string]int{"blob-data-role-missing": 1, "storage-account-contributor-missing": 1}},
		{name: "issuer without trailing slash", setup: func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Credentials[key][0].Issuer = strings.TrimSuffix(azurefake.Issuer, "/")
		}, want: "federated-credential-mismatch", wantMsg: "only the trailing slash differs", wantFix: "kubectl aksbackup identity configure --yes"},
		{name: "subject with the wrong namespace", setup: func(c *azurefake.Client) {
			c.Wire("velero", serviceAccounts(p)...)
		}, want: "federated-credential-mismatch", count: 3, wantMsg: `subject: have "system:serviceaccount:velero:`},
		{name: "wrong audience", setup: func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Credentials[key][1].Audiences = []string{"api://AzureADTokenExchangeX"}
		}, want: "federated-credential-mismatch", wantMsg: "audiences"},
		{name: "role at a sibling scope", setup: func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Assignments[0].Scope = azurefake.SiblingAccountID
		}, want: "blob-data-role-missing", wantMsg: "which does not enclose container velero of storage account labstorage", wantFix: "--role \"Storage Blob Data Contributor\" --scope " + azurefake.AccountID},
		{name: "only Storage Account Contributor", setup: func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Assignments = c.Assignments[1:]
		}, want: "blob-data-role-missing", wantMsg: "Storage Account Contributor at " + azurefake.AccountID + " grants no blob data action"},
		{name: "Owner on the resource group grants no data access", setup: func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Assignments[0].RoleDefinitionID = azurefake.RoleDefPrefix + azurefake.Owner
			c.Assignments[0].Scope = "/subscriptions/" + azurefake.Subscription + "/resourceGroups/lab-rg"
		}, want: "blob-data-role-missing", wantMsg: "Owner at"},
		{name: "OIDC issuer disabled", setup: func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Cluster.OIDCIssuerEnabled, c.Cluster.OIDCIssuerURL = false, ""
		}, want: "oidc-issuer-disabled", wantFix: "az aks update --resource-group lab-rg --name lab-aks --enable-oidc-issuer"},
		{name: "workload identity disabled", setup: func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Cluster.WorkloadIdentityEnabled = false
		}, want: "workload-identity-disabled", wantFix: "--enable-workload-identity"},
		{name: "extension not Succeeded", setup: func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Extensions[0].ProvisioningState = "Failed"
		}, want: "extension-not-succeeded", wantMsg: `"Failed"`},
		{name: "network rule denies", setup: func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Accounts[strings.ToLower(azurefake.AccountID)].DefaultAction = "Deny"
		}, want: "storage-network-blocked", wantFix: "network-rule add"},
		{name: "shared key disabled while useAAD=false", setup: func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			no := false
			c.Accounts[strings.ToLower(azurefake.AccountID)].AllowSharedKeyAccess = &no
			c.Extensions[0].ConfigurationValues["useAAD"] = "false"
		}, want: "shared-key-disabled", wantFix: "useAAD=true"},
		{name: "container missing", setup: func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Containers = nil
		}, want: "container-not-found", wantFix: "az storage container create --name velero --account-name labstorage"},
		{name: "service principal cluster", setup: func(c *azurefake.Client) {
			c.Cluster.IdentityType, c.Cluster.ServicePrincipalClientID = "", "app-id"
			c.Extensions = nil
		}, want: "cluster-identity-unsupported"},
		{name: "extension missing", setup: func(c *azurefake.Client) { c.Extensions = nil }, want: "extension-missing", wantFix: "az k8s-extension create --name azure-aks-backup"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := azurefake.AKSBackup()
			tc.setup(c)
			cluster, _ := azure.ParseResourceID(azurefake.ClusterID, azure.TypeManagedCluster)
			facts, err := Gather(context.Background(), c, cluster, c.Cluster.OIDCIssuerURL)
			if err != nil {
				t.Fatal(err)
			}
			fs := Analyze(facts, Input{Profile: p})
			if len(fs) == 0 || fs[0].ID != tc.want {
				t.Fatalf("first finding %v, want %s", ids(fs), tc.want)
			}
			if tc.count > 0 && count(fs, tc.want) != tc.count {
				t.Errorf("%s found %d times, want %d", tc.want, count(fs, tc.want), tc.count)
			}
			for id, n := range tc.also {
				if count(fs, id) != n {
					t.Errorf("%s found %d times, want %d (all: %v)", id, count(fs, id), n, ids(fs))
				}
			}
			first := fs[0]
			if tc.wantMsg != "" && !strings.Contains(first.Message, tc.wantMsg) {
				t.Errorf("message %q lacks %q", first.Message, tc.wantMsg)
			}
			if tc.wantFix != "" && !strings.Contains(strings.Join(first.Remediation, "\n"), tc.wantFix) {
				t.Errorf("remediation %q lacks %q", first.Remediation, tc.wantFix)
			}
		})
	}
}

func TestAnalyzeWiredIsClean(t *testing.T) {
	p := aksProfile(t)
	c := azurefake.AKSBackup().Wire(p.Namespace, serviceAccounts(p)...)
	cluster, _ := azure.ParseResourceID(azurefake.ClusterID, azure.TypeManagedCluster)
	facts, err := Gather(context.Background(), c, cluster, azurefake.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	annotated := map[string]string{}
	for _, sa := range serviceAccounts(p) {
		annotated[sa] = azurefake.IdentityClientID
	}
	if fs := Analyze(facts, Input{Profile: p, AnnotatedClientIDs: annotated}); len(fs) != 0 {
		t.Fatalf("a wired setup has findings: %v", ids(fs))
	}
	annotated[serviceAccounts(p)[0]] = "99999999-9999-9999-9999-999999999999"
	facts.APIServerIssuer = "https://127.0.0.1:6443"
	fs := Analyze(facts, Input{Profile: p, AnnotatedClientIDs: annotated})
	if !slices.Contains(ids(fs), "wi-client-id-wrong-identity") || !slices.Contains(ids(fs), "issuer-mismatch") {
		t.Fatalf("cross checks: %v", ids(fs))
	}
}

func TestParseSettingsAliases(t *testing.T) {
	short := ParseSettings(map[string]string{"blobContainer": "c", "storageAccount": "a", "storageAccountResourceGroup": "rg", "storageAccountSubscriptionId": "s", "useAAD": "true", "storageAccountURI": "https://a/"})
	long := ParseSettings(map[string]string{"configuration.backupStorageLocation.bucket": "c", "configuration.backupStorageLocation.config.storageAccount": "a",
		"configuration.backupStorageLocation.config.resourceGroup": "rg", "configuration.backupStorageLocation.config.subscriptionId": "s",
		"configuration.backupStorageLocation.config.useAAD": "true", "configuration.backupStorageLocation.config.storageAccountURI": "https://a/"})
	if short != long || short.Container != "c" || short.AccountURI != "https://a/" {
		t.Fatalf("short %+v long %+v", short, long)
	}
}

func TestActionMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{BlobWriteData, true},
		{"microsoft.storage/storageaccounts/blobservices/containers/blobs/WRITE", true},
		{"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*", true},
		{"Microsoft.Storage/*", true},
		{"*", true},
		{"Microsoft.Storage/*/blobs/write", true},
		{"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", false},
		{"Microsoft.Storage/*/read", false},
	} {
		if got := actionMatches(tc.pattern, BlobWriteData); got != tc.want {
			t.Errorf("actionMatches(%q) = %v", tc.pattern, got)
		}
	}
	rd := &azure.RoleDefinition{DataActions: []string{"Microsoft.Storage/*"}, NotDataActions: []string{"*/blobs/write"}}
	if Grants(rd, BlobWriteData) {
		t.Error("notDataActions must subtract")
	}
}

func TestCredentialName(t *testing.T) {
	if got := CredentialName("velero"); got != "aksbackup-velero" {
		t.Error(got)
	}
	if got := CredentialName("a.b:c"); got != "aksbackup-a-b-c" {
		t.Error(got)
	}
	if got := CredentialName(strings.Repeat("x", 300)); len(got) != 120 {
		t.Error(len(got))
	}
}

func ids(fs []findings.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func count(fs []findings.Finding, id string) int {
	n := 0
	for _, f := range fs {
		if f.ID == id {
			n++
		}
	}
	return n
}

// TestAnalyzeReportsExtensionAndNetworkDetails: the extension's own gaps and a restricted (not closed)
// network each produce their finding, whatever ranks first.
func TestAnalyzeReportsExtensionAndNetworkDetails(t *testing.T) {
	p := aksProfile(t)
	tests := []struct {
		name  string
		setup func(c *azurefake.Client)
		want  string
	}{
		{"settings without the storage account", func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			for k := range c.Extensions[0].ConfigurationValues {
				if strings.Contains(strings.ToLower(k), "storageaccount") && !strings.Contains(strings.ToLower(k), "uri") {
					delete(c.Extensions[0].ConfigurationValues, k)
				}
			}
		}, "extension-config-incomplete"},
		{"no AKS-assigned identity", func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Extensions[0].IdentityPrincipalID = ""
		}, "extension-identity-missing"},
		{"the identity is gone", func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			c.Identities = nil
		}, "extension-identity-not-found"},
		{"only listed networks", func(c *azurefake.Client) {
			c.Wire(p.Namespace, serviceAccounts(p)...)
			a := c.Accounts[strings.ToLower(azurefake.AccountID)]
			a.DefaultAction, a.IPRules = "Deny", []string{"203.0.113.0/24"}
		}, "storage-network-restricted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := azurefake.AKSBackup()
			tc.setup(c)
			cluster, _ := azure.ParseResourceID(azurefake.ClusterID, azure.TypeManagedCluster)
			facts, err := Gather(context.Background(), c, cluster, c.Cluster.OIDCIssuerURL)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(Analyze(facts, Input{Profile: p})); count(Analyze(facts, Input{Profile: p}), tc.want) == 0 {
				t.Fatalf("findings %v lack %s", got, tc.want)
			}
		})
	}
}
