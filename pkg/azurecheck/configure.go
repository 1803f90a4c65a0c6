package azurecheck

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// Phase names of the Azure half of `identity configure`; they run before the in-cluster phases.
const (
	PhaseFederatedCredential = "federated-credential"
	PhaseRoleAssignment      = "role-assignment"
)

// Phases lists the Azure phases in order.
var Phases = []plan.Phase{
	{Name: PhaseFederatedCredential, Description: "create a federated credential on the identity (the extension's, or the workload's own) for each service account"},
	{Name: PhaseRoleAssignment, Description: "grant the identity Storage Blob Data Contributor on the BSL's container (or, with --role-scope account, the storage account)"},
}

// Prerequisites that configure cannot create: it refuses to start while any is missing.
var blocking = map[string]bool{
	"oidc-issuer-disabled": true, "workload-identity-disabled": true, "cluster-identity-unsupported": true,
	"extension-missing": true, "extension-identity-missing": true, "extension-identity-not-found": true,
	"storage-account-not-found": true, "extension-config-incomplete": true, "issuer-mismatch": true,
	"identity-unknown": true, "identity-not-found": true, "identity-ambiguous": true, "bsl-missing": true, "bsl-azure-config-missing": true,
}

// Where configure grants the blob data role (--role-scope).
const (
	RoleScopeContainer = "container"
	RoleScopeAccount   = "account"
)

// ConfigureOptions tune PlanConfigureWith.
type ConfigureOptions struct {
	Skip map[string]bool
	// RoleScope is RoleScopeContainer (the default when the container is known) or RoleScopeAccount.
	RoleScope string
	// Overwrite replaces a credential of configure's own name whose issuer, subject or audience
	// differ (--overwrite); without it configure refuses and names the credential.
	Overwrite bool
}

// GrantScope is the scope configure grants the role at: the container unless scope is
// RoleScopeAccount or no container is named.
func (f *Facts) GrantScope(scope string) string {
	if c := f.ContainerScope(); c != "" && scope != RoleScopeAccount {
		return c
	}
	return f.AccountID
}

// AzurePlan is the Azure part of a configure plan.
type AzurePlan struct {
	Changes  []*plan.Change
	Warnings []string
	// ClientID is the extension identity's client ID, which the service accounts must carry.
	ClientID string
	// NewRoleAssignment reports whether a role assignment will be created (propagation takes minutes).
	NewRoleAssignment bool
	// Needs are the ARM actions the changes need, by scope, checked before the first write.
	Needs []Need
}

// PlanConfigure computes the Azure changes from gathered facts. It refuses, naming every blocker and
// its fix, when a prerequisite it cannot create is missing, and never edits a credential it finds.
func PlanConfigure(client azure.Client, f *Facts, p profile.Profile, skip map[string]bool) (*AzurePlan, error) {
	return PlanConfigureWith(client, f, p, ConfigureOptions{Skip: skip})
}

// PlanConfigureWith is PlanConfigure with the role scope chosen.
func PlanConfigureWith(client azure.Client, f *Facts, p profile.Profile, o ConfigureOptions) (*AzurePlan, error) {
	skip := o.Skip
	var problems []string
	for _, fd := range Analyze(f, Input{Profile: p}) {
		if blocking[fd.ID] || fd.ID == catalog.AzureReadFailed.ID {
			problems = append(problems, describe(fd))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the Azure prerequisites are not met, so nothing was changed:\n  %s", strings.Join(problems, "\n  "))
	}
	out := &AzurePlan{ClientID: f.Identity.ClientID}
	idRef, err := azure.ParseResourceID(f.Identity.ID, azure.TypeIdentity)
	if err != nil {
		return nil, err
	}

	if !skip[PhaseFederatedCredential] {
		for _, pair := range onePairPerServiceAccount(p) {
			want := azure.FederatedCredential{Name: CredentialName(pair.ServiceAccount), Issuer: f.Cluster.OIDCIssuerURL,
				Subject: Subject(p.Namespace, pair.ServiceAccount), Audiences: []string{TokenAudience}}
			exact, replace := false, false
			var differs []string // how the credential of configure's name differs, replaced with --overwrite
			for _, fc := range f.Credentials {
				d := credentialDiff(want, fc, pair.ServiceAccount)
				if d != nil && len(d) == 0 {
					exact = true
				}
				if fc.Name != want.Name || (d != nil && len(d) == 0) {
					continue
				}
				if o.Overwrite {
					replace, differs = true, d
					continue
				}
				problems = append(problems, fmt.Sprintf("federated credential %s exists on %s with other values; replace it with --overwrite, or delete it: az identity federated-credential delete --name %s --identity-name %s --resource-group %s",
					fc.Name, f.Identity.Name, fc.Name, f.Identity.Name, f.Identity.ResourceGroup))
			}
			if exact {
				continue // another credential already matches; Azure refuses a second one with its issuer and subject
			}
			action, reason := "create", "issuer "+want.Issuer+", audience "+TokenAudience
			if replace {
				action, reason = "replace", strings.Join(differs, "; ")
			}
			out.Changes = append(out.Changes, &plan.Change{
				Phase: PhaseFederatedCredential, Action: action, Object: "federatedIdentityCredential/" + want.Name,
				Field: "subject", To: want.Subject, Reason: reason, State: plan.Planned,
				Apply: func(ctx context.Context, dryRun bool) error {
					if dryRun {
						return nil // ARM has no server-side dry run; the plan was validated against live reads
					}
					return client.CreateFederatedCredential(ctx, idRef, want)
				},
			})
		}
		if len(out.Changes) > 0 {
			out.Needs = append(out.Needs, Need{Action: ActionWriteFederatedCredential, Scope: f.Identity.ID})
		}
		if n := len(f.Credentials) + len(out.Changes); n > 20 {
			problems = append(problems, fmt.Sprintf("identity %s would hold %d federated credentials; Azure allows 20 per identity", f.Identity.Name, n))
		}
	}

	if !skip[PhaseRoleAssignment] && !hasBlobWrite(f) {
		// Role definitions are addressed in the subscription of the scope, which may not be the cluster's.
		scope, principal := f.GrantScope(o.RoleScope), f.Identity.PrincipalID
		accountRef, err := azure.ParseResourceID(f.AccountID, azure.TypeStorageAccount)
		if err != nil {
			return nil, err
		}
		roleID := "/subscriptions/" + accountRef.SubscriptionID + "/providers/Microsoft.Authorization/roleDefinitions/" + RoleBlobDataContributor
		name := AssignmentName(scope, RoleBlobDataContributor, principal)
		out.Changes = append(out.Changes, &plan.Change{
			Phase: PhaseRoleAssignment, Action: "create", Object: "roleAssignment/" + name,
			Field: "Storage Blob Data Contributor", To: "principal " + principal, Reason: "scope " + scope, State: plan.Planned,
			Apply: func(ctx context.Context, dryRun bool) error {
				if dryRun {
					return nil
				}
				_, err := client.CreateRoleAssignment(ctx, scope, name, roleID, principal)
				var respErr *azcore.ResponseError
				if errors.As(err, &respErr) && respErr.ErrorCode == "RoleAssignmentExists" {
					return nil // the same grant exists under another name: the goal is met
				}
				return err
			},
		})
		out.NewRoleAssignment = true
		out.Needs = append(out.Needs, Need{Action: ActionWriteRoleAssignment, Scope: scope})
		out.Warnings = append(out.Warnings, "a new role assignment can take several minutes to reach the storage data plane; until then blob writes answer 403 AuthorizationPermissionMismatch")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("nothing was changed:\n  %s", strings.Join(problems, "\n  "))
	}
	for _, c := range out.Changes {
		c.NoServerDryRun = true // ARM has no dry run; a server dry run checks permissions and conflicts instead
	}
	return out, nil
}

// hasBlobWrite reports whether the identity's roles grant every blob data action Velero uses on
// the container (or, without one, the account).
func hasBlobWrite(f *Facts) bool {
	granted := map[string]bool{}
	for _, ra := range f.Assignments {
		if rd := f.Definitions[strings.ToLower(ra.RoleDefinitionID)]; rd != nil && azure.ScopeContains(ra.Scope, f.dataScope()) {
			for _, a := range GrantedDataActions(rd) {
				granted[a] = true
			}
		}
	}
	return len(granted) == len(BlobDataActions)
}

// AssignmentName derives the role assignment's GUID name from scope, role and principal, so a rerun
// addresses the same assignment instead of creating a duplicate.
func AssignmentName(scope, roleID, principalID string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(scope + "|" + roleID + "|" + principalID)))
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x50 // version 5 layout (name-based)
	b[8] = (b[8] & 0x3f) | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func describe(f findings.Finding) string {
	s := f.ID + ": " + f.Message
	if len(f.Remediation) > 0 {
		s += " (fix: " + f.Remediation[0] + ")"
	}
	return s
}
