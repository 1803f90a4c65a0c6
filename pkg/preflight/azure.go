package preflight

import (
	"context"
	"fmt"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/shellquote"
)

// ClusterFacts is what preflight reads about the AKS cluster in ARM.
type ClusterFacts struct {
	ID            string
	ResourceGroup string
	Name          string
	// IdentityType is SystemAssigned, UserAssigned or "" (a service principal cluster).
	IdentityType             string
	ServicePrincipalClientID string
	OIDCIssuerEnabled        bool
	WorkloadIdentityEnabled  bool
	NodeResourceGroup        string
	// HTTPProxy is the cluster's httpProxyConfig; nil when none is set or it was not read.
	HTTPProxy *ProxyConfig
}

func quote(s string) string { return shellquote.Quote(s) }

func (r *runner) checkAzure(context.Context) error {
	const name = "azure-cluster"
	c := r.in.Cluster
	if c == nil {
		if r.in.AzureSkipped != "" {
			r.add(Check{Name: name, Status: StatusSkipped, Detail: r.in.AzureSkipped},
				catalog.AzureChecksSkipped.New("", r.in.AzureSkipped))
		}
		return nil
	}
	var fs []findings.Finding
	if c.IdentityType == "" || (c.ServicePrincipalClientID != "" && !strings.EqualFold(c.ServicePrincipalClientID, "msi")) {
		fs = append(fs, catalog.ClusterIdentityUnsupported.New(c.ID, "the cluster authenticates with a service principal, not a managed identity",
			r.azAKS("update", "--enable-managed-identity")))
	}
	if !c.OIDCIssuerEnabled {
		fs = append(fs, catalog.OIDCIssuerDisabled.New(c.ID, "the cluster publishes no OIDC issuer", r.azAKS("update", "--enable-oidc-issuer")))
	}
	if !c.WorkloadIdentityEnabled {
		fs = append(fs, catalog.WorkloadIdentityDisabled.New(c.ID, "securityProfile.workloadIdentity is not enabled", r.azAKS("update", "--enable-workload-identity")))
	}
	detail := "managed identity (" + c.IdentityType + "), OIDC issuer and workload identity enabled"
	if len(fs) > 0 {
		var parts []string
		for _, f := range fs {
			parts = append(parts, f.ID)
		}
		detail = strings.Join(parts, ", ")
	}
	r.add(Check{Name: name, Status: statusOf(fs), Detail: detail}, fs...)
	if r.in.ProvidersChecked {
		detail := "registered"
		if len(r.in.Providers) > 0 {
			detail = fmt.Sprintf("%d not registered or unreadable", len(r.in.Providers))
		}
		r.add(Check{Name: "resource-providers", Status: statusOf(r.in.Providers), Detail: detail}, r.in.Providers...)
	}
	return nil
}
