package plugin

import (
	"context"
	"fmt"
	"io"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azurecheck"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// What a command checked, in place of the server-side dry run ARM does not have.
const (
	configureAzureChecks     = "your permissions on each scope (Microsoft.Authorization/permissions), that the cluster, identity, storage account and container exist, and that no federated credential or role assignment conflicts"
	trustedAccessAzureChecks = "your permission to create Trusted Access role bindings on the cluster (Microsoft.Authorization/permissions), that the backup vault exists, and that no binding conflicts"
)

// checkAzureWrites runs before the first write: it asks ARM whether the caller may make every Azure
// change of the plan. Missing rights are bad input (exit 2) and nothing is changed; permissions that
// cannot be read become warnings, since ARM still enforces them at each write.
func checkAzureWrites(ctx context.Context, azc azure.Client, needs []azurecheck.Need, warnings *[]string) error {
	if len(needs) == 0 {
		return nil
	}
	check, err := azurecheck.CheckPermissions(ctx, azc, needs)
	if err != nil {
		return err
	}
	*warnings = append(*warnings, check.Unreadable...)
	if err := check.Err(); err != nil {
		return exitcode.Invalid(err)
	}
	return nil
}

// writeServerDryRun prints a server dry run's outcome: what each change became (dry-run: the API
// server validated it; not-sent: ARM has no dry run) and what was checked instead.
func writeServerDryRun(w io.Writer, p *plan.Plan, checked string) error {
	fmt.Fprintln(w, "Dry run (server):")
	if err := p.WriteTable(w, true); err != nil {
		return err
	}
	counts := p.Counts()
	if n := counts[plan.DryRun]; n > 0 {
		fmt.Fprintf(w, "Kubernetes: the API server accepted %d change(s), sent with dryRun=All; nothing was persisted.\n", n)
	}
	writeAzureDryRunNote(w, p, checked)
	return nil
}

// writeAzureDryRunNote says plainly that the Azure changes were not sent, and what was checked instead.
func writeAzureDryRunNote(w io.Writer, p *plan.Plan, checked string) {
	if n := p.Counts()[plan.NotSent]; n > 0 {
		fmt.Fprintf(w, "Azure: %d change(s) not sent (not-sent): ARM has no server-side dry run. Checked instead: %s.\n", n, checked)
	}
}

// providerFindings checks, for the AKS Backup profile only, that the subscription has the resource
// providers the enable-backup flow needs (other profiles install nothing through them).
func providerFindings(ctx context.Context, azc azure.Client, p profile.Profile, cluster azure.ResourceID) ([]findings.Finding, error) {
	if p.Name != profile.Default {
		return nil, nil
	}
	return azurecheck.CheckProviders(ctx, azc, cluster.SubscriptionID)
}
