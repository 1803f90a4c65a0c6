package azurecheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/shellquote"
)

// ARM actions of the writes the tool makes, and the built-in role that grants each.
const (
	ActionWriteFederatedCredential = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"
	ActionWriteRoleAssignment      = "Microsoft.Authorization/roleAssignments/write"
	ActionWriteTrustedAccess       = "Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings/write"
)

var roleForAction = map[string]string{
	ActionWriteFederatedCredential: "Managed Identity Contributor",
	ActionWriteRoleAssignment:      "Role Based Access Control Administrator",
	ActionWriteTrustedAccess:       "Contributor",
	// unconfigure's deletions
	ActionDeleteFederatedCredential: "Managed Identity Contributor",
	ActionDeleteRoleAssignment:      "Role Based Access Control Administrator",
}

// Need is one ARM action a plan needs on a scope before it may write.
type Need struct {
	Action string `json:"action"`
	Scope  string `json:"scope"`
}

// PermissionCheck is the outcome of asking ARM what the caller may do on each scope a plan writes.
type PermissionCheck struct {
	Missing []Need
	// Unreadable describes scopes whose permissions could not be read; ARM still enforces them at
	// each write.
	Unreadable []string
	// Assignee is the caller's object ID for the fix commands ("" when the client cannot tell).
	Assignee string
}

// callerIdentifier is implemented by clients that can name the principal they sign in as.
type callerIdentifier interface {
	CallerObjectID(ctx context.Context) (string, error)
}

// CheckPermissions asks ARM (Microsoft.Authorization/permissions) for the caller's rights once per
// scope and lists every needed action it does not grant. It only reads.
func CheckPermissions(ctx context.Context, client azure.Client, needs []Need) (*PermissionCheck, error) {
	out := &PermissionCheck{}
	byScope := map[string][]azure.Permission{}
	failed := map[string]bool{}
	for _, n := range needs {
		key := strings.ToLower(n.Scope)
		if failed[key] {
			continue
		}
		perms, seen := byScope[key]
		if !seen {
			var err error
			perms, err = client.ListPermissions(ctx, n.Scope)
			if err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				failed[key] = true
				out.Unreadable = append(out.Unreadable, fmt.Sprintf("could not read your permissions on %s (%v); continuing, and Azure will refuse any write you lack the rights for", n.Scope, err))
				continue
			}
			byScope[key] = perms
		}
		if !azure.Allows(perms, n.Action) && !containsNeed(out.Missing, n) {
			out.Missing = append(out.Missing, n)
		}
	}
	if ci, ok := client.(callerIdentifier); ok && len(out.Missing) > 0 {
		out.Assignee, _ = ci.CallerObjectID(ctx) // only improves the fix command; a placeholder serves otherwise
	}
	return out, nil
}

func containsNeed(list []Need, n Need) bool {
	for _, m := range list {
		if strings.EqualFold(m.Action, n.Action) && strings.EqualFold(m.Scope, n.Scope) {
			return true
		}
	}
	return false
}

// Err is nil when nothing is missing; otherwise it names every missing action, its scope and the
// az command that grants a role with it.
func (c *PermissionCheck) Err() error {
	if c == nil || len(c.Missing) == 0 {
		return nil
	}
	assignee, note := c.Assignee, ""
	if assignee == "" {
		assignee = "<your-object-id>"
		note = "\n(your object ID: az ad signed-in-user show --query id -o tsv, or the service principal's)"
	}
	lines := make([]string, 0, len(c.Missing))
	for _, m := range c.Missing {
		role := roleForAction[m.Action]
		if role == "" {
			role = "Owner"
		}
		lines = append(lines, fmt.Sprintf("you lack %s on %s; an Owner or User Access Administrator can grant it: az role assignment create --assignee %s --role %s --scope %s",
			m.Action, m.Scope, assignee, shellquote.Quote(role), shellquote.Quote(m.Scope)))
	}
	return fmt.Errorf("your Azure permissions do not allow this plan, so nothing was changed:\n  %s%s", strings.Join(lines, "\n  "), note)
}

// RequiredProviders are the resource providers AKS Backup's enable flow needs on the cluster's subscription.
var RequiredProviders = []string{"Microsoft.KubernetesConfiguration", "Microsoft.DataProtection"}

// CheckProviders reports each required resource provider that is not registered on the subscription.
// A provider whose state cannot be read is reported as azure-read-failed, not as unregistered.
func CheckProviders(ctx context.Context, client azure.Client, subscriptionID string) ([]findings.Finding, error) {
	var out []findings.Finding
	for _, ns := range RequiredProviders {
		state, err := client.ProviderState(ctx, subscriptionID, ns)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			out = append(out, catalog.AzureReadFailed.New("/subscriptions/"+subscriptionID+"/providers/"+ns, err.Error()))
			continue
		}
		if strings.EqualFold(state, "Registered") {
			continue
		}
		out = append(out, catalog.ResourceProviderNotRegistered.New("/subscriptions/"+subscriptionID+"/providers/"+ns,
			fmt.Sprintf("resource provider %s is %s on subscription %s", ns, orNone(state), subscriptionID),
			fmt.Sprintf("az provider register --namespace %s --subscription %s", ns, shellquote.Quote(subscriptionID))))
	}
	return out, nil
}

func orNone(s string) string {
	if s == "" {
		return "in no known state"
	}
	return s
}
