package fleet

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/doctor"
)

func cluster(rg, name string) azure.FleetCluster {
	return azure.FleetCluster{ID: fmt.Sprintf("/subscriptions/s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s", rg, name),
		Name: name, ResourceGroup: rg, SubscriptionID: "s"}
}

// TestMatchContexts: the get-credentials user (resource group and name) wins over a context named
// after the cluster; a name shared by two clusters joins neither by name; a context joins one cluster.
func TestMatchContexts(t *testing.T) {
	prod, stage, twinA, twinB := cluster("rg-a", "prod"), cluster("rg-a", "stage"), cluster("rg-a", "twin"), cluster("rg-b", "twin")
	tests := []struct {
		name     string
		clusters []azure.FleetCluster
		contexts []Context
		want     map[string]string // cluster name@rg -> context
	}{
		{name: "by user", clusters: []azure.FleetCluster{prod}, contexts: []Context{{Name: "p", ResourceGroup: "RG-A", Cluster: "Prod"}}, want: map[string]string{"prod@rg-a": "p"}},
		{name: "by name", clusters: []azure.FleetCluster{prod}, contexts: []Context{{Name: "prod"}}, want: map[string]string{"prod@rg-a": "prod"}},
		{name: "the user wins over the name", clusters: []azure.FleetCluster{prod},
			contexts: []Context{{Name: "prod"}, {Name: "zz-admin", ResourceGroup: "rg-a", Cluster: "prod"}}, want: map[string]string{"prod@rg-a": "zz-admin"}},
		{name: "a context of another cluster's user does not join by its name", clusters: []azure.FleetCluster{prod, stage},
			contexts: []Context{{Name: "prod", ResourceGroup: "rg-a", Cluster: "stage"}}, want: map[string]string{"stage@rg-a": "prod"}},
		{name: "an ambiguous name joins nothing", clusters: []azure.FleetCluster{twinA, twinB}, contexts: []Context{{Name: "twin"}}, want: map[string]string{}},
		{name: "users tell twins apart", clusters: []azure.FleetCluster{twinA, twinB},
			contexts: []Context{{Name: "t1", ResourceGroup: "rg-b", Cluster: "twin"}, {Name: "t2", ResourceGroup: "rg-a", Cluster: "twin"}}, want: map[string]string{"twin@rg-a": "t2", "twin@rg-b": "t1"}},
		{name: "no context", clusters: []azure.FleetCluster{prod}, want: map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			byID := MatchContexts(tc.clusters, tc.contexts)
			got := map[string]string{}
			for _, c := range tc.clusters {
				if ctx := byID[strings.ToLower(c.ID)]; ctx != "" {
					got[c.Name+"@"+c.ResourceGroup] = ctx
				}
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("joins %v, want %v", got, tc.want)
			}
		})
	}
}

// TestNewRowVerdicts: the Azure side's root cause comes first; without Azure findings the in-cluster
// verdict is the row's; without a context a clean Azure side is healthy and says what did not run.
func TestNewRowVerdicts(t *testing.T) {
	clean := cluster("rg", "c")
	clean.OIDCIssuerEnabled, clean.WorkloadIdentityEnabled = true, true
	clean.BackupExtensions = []azure.FleetExtension{{Name: "azure-aks-backup", ProvisioningState: "Succeeded"}}
	clean.TrustedAccessBindings = []azure.TrustedAccessBinding{{Name: "b", SourceResourceID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v",
		Roles: []string{"Microsoft.DataProtection/backupVaults/backup-operator"}}}
	broken := clean
	broken.WorkloadIdentityEnabled = false
	sick := &doctor.Report{Verdict: doctor.Unhealthy, Summary: "backups cannot be written"}
	tests := []struct {
		name        string
		c           azure.FleetCluster
		in          *doctor.Report
		wantVerdict doctor.Verdict
		wantSummary string
		wantRoot    string
	}{
		{"clean, no context", clean, nil, doctor.Healthy, "no kubeconfig context", "-"},
		{"clean, sick inside", clean, sick, doctor.Unhealthy, "in cluster: backups cannot be written", "-"},
		{"broken Azure side first", broken, sick, doctor.Unhealthy, "root cause workload-identity-disabled", "workload-identity-disabled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := NewRow(tc.c, "ctx", tc.in)
			if row.Verdict != tc.wantVerdict || !strings.Contains(row.Summary, tc.wantSummary) || row.RootCause() != tc.wantRoot {
				t.Errorf("row %s %q root %s", row.Verdict, row.Summary, row.RootCause())
			}
		})
	}
	rep := NewReport([]string{"s"}, []*Row{NewRow(clean, "", nil), NewRow(broken, "", nil), NewRow(clean, "x", &doctor.Report{Verdict: doctor.CouldNotRun})}, 2)
	if got := []int{rep.Healthy, rep.Unhealthy, rep.Failed, rep.Queries}; !slices.Equal(got, []int{1, 1, 1, 2}) {
		t.Errorf("counts %v", got)
	}
}
