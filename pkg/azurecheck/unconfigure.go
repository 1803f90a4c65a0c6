package azurecheck

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// UnconfigurePhases are the Azure phases of `identity unconfigure`, named as configure's so that
// --skip-phases means the same in both commands; they run after the in-cluster phases.
var UnconfigurePhases = []plan.Phase{
	{Name: PhaseRoleAssignment, Description: "delete the role assignment configure created (its deterministic name at its scope)"},
	{Name: PhaseFederatedCredential, Description: "delete the federated credentials configure created, where issuer, subject and audience still hold its values"},
}

// ARM actions of unconfigure's deletions.
const (
	ActionDeleteFederatedCredential = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete"
	ActionDeleteRoleAssignment      = "Microsoft.Authorization/roleAssignments/delete"
)

// UnconfigurePlan is the Azure part of an unconfigure plan.
type UnconfigurePlan struct {
	Changes  []*plan.Change
	Warnings []string
	// Needs are the ARM actions the deletions need, by scope, checked before the first write.
	Needs []Need
	// ClientID is the identity's client ID: the value of the annotation the cluster side removes.
	ClientID string
}

// PlanUnconfigure plans the deletion of exactly what configure created in Azure, read from gathered
// facts: each pair's credential named CredentialName whose issuer, subject and audience are still
// configure's, and every assignment to the identity whose name is AssignmentName of its own scope,
// role and principal (configure's deterministic name, whichever scope it granted at). A credential
// with that name but other values is kept and reported. It refuses when a read failed, since it
// cannot then know what configure created.
func PlanUnconfigure(client azure.Client, f *Facts, p profile.Profile, skip map[string]bool) (*UnconfigurePlan, error) {
	if len(f.Unreadable) > 0 {
		var reasons []string
		for _, err := range f.Unreadable {
			reasons = append(reasons, err.Error())
		}
		return nil, fmt.Errorf("some Azure objects could not be read, so what configure created is unknown and nothing was changed:\n  %s", strings.Join(reasons, "\n  "))
	}
	out := &UnconfigurePlan{}
	if f.Identity == nil {
		out.Warnings = append(out.Warnings, "no managed identity was found for the backup component, so there are no federated credentials or role assignments of configure's to remove in Azure")
		return out, nil
	}
	out.ClientID = f.Identity.ClientID
	idRef, err := azure.ParseResourceID(f.Identity.ID, azure.TypeIdentity)
	if err != nil {
		return nil, err
	}

	var credentials, assignments []*plan.Change
	if !skip[PhaseFederatedCredential] {
		seen := map[string]bool{}
		for _, pair := range p.Pairs {
			name := CredentialName(pair.ServiceAccount)
			i := slices.IndexFunc(f.Credentials, func(fc azure.FederatedCredential) bool { return fc.Name == name })
			if i < 0 || seen[name] {
				continue // none, or already planned for another workload running as the same service account
			}
			seen[name] = true
			have := f.Credentials[i]
			object := "federatedIdentityCredential/" + name
			if diff := credentialChanges(f, p.Namespace, pair.ServiceAccount, have); len(diff) > 0 {
				credentials = append(credentials, &plan.Change{Phase: PhaseFederatedCredential, Action: plan.ActionKeep, Object: object,
					Reason: "changed since configure created it (" + strings.Join(diff, "; ") + ")", State: plan.Planned})
				continue
			}
			out.Needs = append(out.Needs, Need{Action: ActionDeleteFederatedCredential, Scope: f.Identity.ID})
			credentials = append(credentials, &plan.Change{
				Phase: PhaseFederatedCredential, Action: "delete", Object: object,
				Field: "subject", From: have.Subject, Reason: "identity " + f.Identity.Name + ", issuer " + have.Issuer, State: plan.Planned,
				// ARM has no server-side dry run: a server dry run reports this change not-sent.
				NoServerDryRun: true,
				Apply: func(ctx context.Context, _ bool) error {
					return client.DeleteFederatedCredential(ctx, idRef, name)
				},
			})
		}
	}

	if !skip[PhaseRoleAssignment] {
		for _, ra := range f.Assignments {
			if !CreatedByConfigure(ra, f.Identity.PrincipalID) {
				continue
			}
			scope, name := ra.Scope, ra.Name
			role := ra.RoleDefinitionID[strings.LastIndex(ra.RoleDefinitionID, "/")+1:]
			if rd := f.Definitions[strings.ToLower(ra.RoleDefinitionID)]; rd != nil && rd.RoleName != "" {
				role = rd.RoleName
			}
			out.Needs = append(out.Needs, Need{Action: ActionDeleteRoleAssignment, Scope: scope})
			assignments = append(assignments, &plan.Change{
				Phase: PhaseRoleAssignment, Action: "delete", Object: "roleAssignment/" + name,
				Field: role, From: "principal " + ra.PrincipalID, Reason: "scope " + scope, State: plan.Planned,
				NoServerDryRun: true,
				Apply: func(ctx context.Context, _ bool) error {
					return client.DeleteRoleAssignment(ctx, scope, name)
				},
			})
		}
	}
	// The role goes before the credentials: once a credential is gone the identity cannot be used
	// from the cluster anyway, so a failure between the two leaves the least access behind.
	out.Changes = append(assignments, credentials...)
	return out, nil
}

// CreatedByConfigure reports whether an assignment to principal carries configure's deterministic
// name for its own scope and role, which only configure (or a rerun of it) gives an assignment.
func CreatedByConfigure(ra azure.RoleAssignment, principal string) bool {
	if !strings.EqualFold(ra.PrincipalID, principal) || ra.Scope == "" || ra.RoleDefinitionID == "" {
		return false
	}
	role := ra.RoleDefinitionID[strings.LastIndex(ra.RoleDefinitionID, "/")+1:]
	return strings.EqualFold(ra.Name, AssignmentName(ra.Scope, role, principal))
}

// credentialChanges lists how a credential differs from what configure would create for the service
// account today; empty when it still holds configure's values.
func credentialChanges(f *Facts, namespace, serviceAccount string, have azure.FederatedCredential) []string {
	var diff []string
	if f.Cluster != nil && have.Issuer != f.Cluster.OIDCIssuerURL {
		diff = append(diff, fmt.Sprintf("issuer %q, configure sets %q", have.Issuer, f.Cluster.OIDCIssuerURL))
	}
	if want := Subject(namespace, serviceAccount); have.Subject != want {
		diff = append(diff, fmt.Sprintf("subject %q, configure sets %q", have.Subject, want))
	}
	if len(have.Audiences) != 1 || have.Audiences[0] != TokenAudience {
		diff = append(diff, fmt.Sprintf("audiences %q, configure sets [%q]", have.Audiences, TokenAudience))
	}
	return diff
}
