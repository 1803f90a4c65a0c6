// Package fleet judges many AKS clusters at once from one Azure Resource Graph query (the ARM half of
// doctor: OIDC issuer, workload identity, the backup extension and Trusted Access), joins each with
// the in-cluster doctor report of its kubeconfig context when there is one, and makes one row each.
package fleet

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azurecheck"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/doctor"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/shellquote"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/trustedaccess"
)

// Assess turns one cluster's Resource Graph row into ranked findings. Trusted Access is judged only
// where the backup extension is installed: without it the binding has nothing to reach.
func Assess(c azure.FleetCluster) []findings.Finding {
	var fs []findings.Finding
	aks := func(flag string) string {
		return fmt.Sprintf("az aks update --subscription %s --resource-group %s --name %s %s", shellquote.Quote(c.SubscriptionID), shellquote.Quote(c.ResourceGroup), shellquote.Quote(c.Name), flag)
	}
	if !c.OIDCIssuerEnabled {
		fs = append(fs, catalog.OIDCIssuerDisabled.New(c.ID, "the cluster publishes no OIDC issuer", aks("--enable-oidc-issuer")))
	}
	if !c.WorkloadIdentityEnabled {
		fs = append(fs, catalog.WorkloadIdentityDisabled.New(c.ID, "securityProfile.workloadIdentity is not enabled", aks("--enable-workload-identity")))
	}
	clusterFlags := fmt.Sprintf("--cluster-type managedClusters --subscription %s --resource-group %s --cluster-name %s", shellquote.Quote(c.SubscriptionID), shellquote.Quote(c.ResourceGroup), shellquote.Quote(c.Name))
	if len(c.BackupExtensions) == 0 {
		fs = append(fs, catalog.ExtensionMissing.New(c.ID, "no extension of type "+azurecheck.BackupExtensionType+" on the cluster",
			fmt.Sprintf("az k8s-extension create --name azure-aks-backup --extension-type %s --scope cluster %s --release-train stable --configuration-settings blobContainer=<CONTAINER> storageAccount=<ACCOUNT> storageAccountResourceGroup=<RG> storageAccountSubscriptionId=<SUB>",
				azurecheck.BackupExtensionType, clusterFlags)))
		return findings.Rank(fs)
	}
	for _, ext := range c.BackupExtensions {
		if !strings.EqualFold(ext.ProvisioningState, "Succeeded") {
			fs = append(fs, catalog.ExtensionNotSucceeded.New(c.ID+"/providers/Microsoft.KubernetesConfiguration/extensions/"+ext.Name,
				fmt.Sprintf("extension %s is in provisioning state %q", ext.Name, ext.ProvisioningState),
				fmt.Sprintf("az k8s-extension show --name %s %s --query provisioningState", shellquote.Quote(ext.Name), clusterFlags),
				fmt.Sprintf("az k8s-extension update --name %s %s", shellquote.Quote(ext.Name), clusterFlags)))
		}
	}
	fs = append(fs, trustedAccessFindings(c)...)
	return findings.Rank(fs)
}

// trustedAccessFindings: some backup vault must hold a binding with the backup-operator role. Without
// --vault-id per cluster, any vault's binding counts; a vault's binding without the role is named.
func trustedAccessFindings(c azure.FleetCluster) []findings.Finding {
	var wrong []azure.TrustedAccessBinding
	for _, b := range c.TrustedAccessBindings {
		if !strings.Contains(strings.ToLower(b.SourceResourceID), "/providers/microsoft.dataprotection/backupvaults/") {
			continue
		}
		for _, r := range b.Roles {
			if strings.EqualFold(r, trustedaccess.BackupOperatorRole) {
				return nil
			}
		}
		wrong = append(wrong, b)
	}
	clusterFlags := fmt.Sprintf("--subscription %s --resource-group %s --cluster-name %s", shellquote.Quote(c.SubscriptionID), shellquote.Quote(c.ResourceGroup), shellquote.Quote(c.Name))
	if len(wrong) > 0 {
		b := wrong[0]
		return []findings.Finding{catalog.TrustedAccessRoleWrong.New(c.ID+"/trustedAccessRoleBindings/"+b.Name, fmt.Sprintf("binding %s of vault %s has roles %v", b.Name, lastSegment(b.SourceResourceID), b.Roles),
			fmt.Sprintf("az aks trustedaccess rolebinding update %s --name %s --roles %s", clusterFlags, shellquote.Quote(b.Name), trustedaccess.BackupOperatorRole))}
	}
	return []findings.Finding{catalog.TrustedAccessMissing.New(c.ID, "no backup vault has a Trusted Access binding on the cluster",
		fmt.Sprintf("kubectl aksbackup trusted-access create --vault-id <VAULT-ID> --cluster-id %s", shellquote.Quote(c.ID)),
		fmt.Sprintf("az aks trustedaccess rolebinding create %s --name <NAME> --source-resource-id <VAULT-ID> --roles %s", clusterFlags, trustedaccess.BackupOperatorRole))}
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }

// Context is a kubeconfig context, with the AKS cluster its `az aks get-credentials` user names.
type Context struct {
	Name string
	// ResourceGroup and Cluster are set when the context's user is clusterUser_<rg>_<cluster>.
	ResourceGroup, Cluster string
}

// MatchContexts joins clusters with kubeconfig contexts the way `az aks get-credentials` writes them:
// a context whose user names the cluster's resource group and name, else a context named after the
// cluster (its default name) when that name is unique among the clusters. It returns context names by
// cluster ID (lower case); each context joins at most one cluster.
func MatchContexts(clusters []azure.FleetCluster, contexts []Context) map[string]string {
	names := map[string]int{}
	for _, c := range clusters {
		names[strings.ToLower(c.Name)]++
	}
	out := map[string]string{}
	used := map[string]bool{}
	sorted := append([]Context(nil), contexts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, byUser := range []bool{true, false} {
		for _, c := range clusters {
			key := strings.ToLower(c.ID)
			if out[key] != "" {
				continue
			}
			for _, ctx := range sorted {
				if used[ctx.Name] {
					continue
				}
				var match bool
				if byUser {
					match = strings.EqualFold(ctx.Cluster, c.Name) && strings.EqualFold(ctx.ResourceGroup, c.ResourceGroup)
				} else {
					match = ctx.Cluster == "" && names[strings.ToLower(c.Name)] == 1 && strings.EqualFold(ctx.Name, c.Name)
				}
				if match {
					out[key], used[ctx.Name] = ctx.Name, true
					break
				}
			}
		}
	}
	return out
}

// Row is one cluster of the fleet: the Resource Graph facts, their findings, and the in-cluster
// doctor report of its context when it has one.
type Row struct {
	Cluster        string             `json:"cluster"`
	ID             string             `json:"id"`
	SubscriptionID string             `json:"subscriptionId"`
	ResourceGroup  string             `json:"resourceGroup"`
	Context        string             `json:"context,omitempty"`
	Verdict        doctor.Verdict     `json:"verdict"`
	Summary        string             `json:"summary"`
	Azure          azure.FleetCluster `json:"azure"`
	// Findings are the Azure side's, ranked.
	Findings []findings.Finding `json:"findings,omitempty"`
	// InCluster is the context's doctor report (its Azure half skipped: the query above is it).
	InCluster *doctor.Report `json:"inCluster,omitempty"`
}

// RootCause is the row's first root cause ID, or "-".
func (r *Row) RootCause() string {
	if len(r.Findings) > 0 {
		return r.Findings[0].ID
	}
	if r.InCluster != nil && len(r.InCluster.RootCauses) > 0 {
		return r.InCluster.RootCauses[0].ID
	}
	return "-"
}

// InClusterVerdict is the context's verdict, or "-" without a context.
func (r *Row) InClusterVerdict() string {
	if r.InCluster == nil {
		return "-"
	}
	return string(r.InCluster.Verdict)
}

// NewRow judges a cluster: the Azure side's findings come first (they sit below everything the
// cluster side checks), then the in-cluster verdict.
func NewRow(c azure.FleetCluster, context string, inCluster *doctor.Report) *Row {
	r := &Row{Cluster: c.Name, ID: c.ID, SubscriptionID: c.SubscriptionID, ResourceGroup: c.ResourceGroup, Context: context, Azure: c,
		Findings: Assess(c), InCluster: inCluster}
	switch {
	case len(r.Findings) > 0:
		top := r.Findings[0]
		r.Verdict, r.Summary = doctor.Unhealthy, "root cause "+top.ID+" ("+top.Message+")"
		if n := len(doctor.RootCauses(r.Findings)) - 1; n > 0 {
			r.Summary += fmt.Sprintf("; %d more root cause(s)", n)
		}
	case inCluster != nil:
		r.Verdict, r.Summary = inCluster.Verdict, "in cluster: "+inCluster.Summary
	default:
		r.Verdict, r.Summary = doctor.Healthy, "Azure side healthy; no kubeconfig context, so the in-cluster checks did not run"
	}
	return r
}

// Report is `doctor --fleet -o json`.
type Report struct {
	APIVersion    string   `json:"apiVersion"`
	Kind          string   `json:"kind"`
	Subscriptions []string `json:"subscriptions"`
	Clusters      []*Row   `json:"clusters"`
	Healthy       int      `json:"healthy"`
	Unhealthy     int      `json:"unhealthy"`
	Failed        int      `json:"couldNotRun"`
	// Queries is how many Resource Graph requests (pages) the Azure side took.
	Queries int `json:"resourceGraphQueries"`
}

// NewReport counts the rows by verdict.
func NewReport(subscriptions []string, rows []*Row, queries int) *Report {
	r := &Report{APIVersion: doctor.APIVersion, Kind: "DoctorFleetResourceGraphReport", Subscriptions: subscriptions, Clusters: rows, Queries: queries}
	for _, row := range rows {
		switch row.Verdict {
		case doctor.Healthy:
			r.Healthy++
		case doctor.CouldNotRun:
			r.Failed++
		default:
			r.Unhealthy++
		}
	}
	return r
}
