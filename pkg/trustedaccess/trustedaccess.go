// Package trustedaccess checks and creates the Trusted Access role binding that lets a backup vault
// operate on an AKS cluster, and the role assignments Azure's enable-backup flow sets up around it.
package trustedaccess

import (
	"context"
	"fmt"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azurecheck"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
)

// BackupOperatorRole is the Trusted Access role AKS Backup needs.
const BackupOperatorRole = "Microsoft.DataProtection/backupVaults/backup-operator"

// Built-in role definition GUIDs of the role matrix.
const (
	RoleReader                  = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	RoleContributor             = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	RoleOwner                   = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	RoleDiskSnapshotContributor = "7efff54f-a5b4-42b5-a1c5-5411624893ce"
	RoleBlobDataReader          = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
	RoleBlobDataContributor     = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
	RoleBlobDataOwner           = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
)

var roleNames = map[string]string{
	RoleReader: "Reader", RoleContributor: "Contributor", RoleOwner: "Owner", RoleDiskSnapshotContributor: "Disk Snapshot Contributor",
	RoleBlobDataReader: "Storage Blob Data Reader", RoleBlobDataContributor: "Storage Blob Data Contributor", RoleBlobDataOwner: "Storage Blob Data Owner",
}

// satisfiedBy lists built-in roles that include a required one.
var satisfiedBy = map[string][]string{
	RoleReader:                  {RoleReader, RoleContributor, RoleOwner},
	RoleContributor:             {RoleContributor, RoleOwner},
	RoleDiskSnapshotContributor: {RoleDiskSnapshotContributor, RoleContributor, RoleOwner},
	RoleBlobDataReader:          {RoleBlobDataReader, RoleBlobDataContributor, RoleBlobDataOwner},
	RoleBlobDataContributor:     {RoleBlobDataContributor, RoleBlobDataOwner},
}

// Requirement is one row of the role matrix.
type Requirement struct {
	Who         string `json:"who"`
	PrincipalID string `json:"principalId"`
	Role        string `json:"role"`
	RoleID      string `json:"roleId"`
	Scope       string `json:"scope"`
	Satisfied   bool   `json:"satisfied"`
}

// Input names the resources of a check.
type Input struct {
	Cluster               azure.ResourceID
	Vault                 azure.ResourceID
	SnapshotResourceGroup string // ID of the resource group holding disk snapshots
	StorageAccountID      string
	ClusterPrincipalID    string
	ExtensionPrincipalID  string
}

// Report is the result of `trusted-access status`.
type Report struct {
	APIVersion string                       `json:"apiVersion"`
	Kind       string                       `json:"kind"`
	Cluster    string                       `json:"cluster"`
	Vault      string                       `json:"vault"`
	Bindings   []azure.TrustedAccessBinding `json:"bindings"`
	Matrix     []Requirement                `json:"roleMatrix"`
	Findings   []findings.Finding           `json:"findings"`
	Summary    findings.Summary             `json:"summary"`
}

// Check lists the cluster's bindings, checks the vault's, and checks every role of the matrix.
func Check(ctx context.Context, client azure.Client, in Input) (*Report, error) {
	r := &Report{APIVersion: "aksbackup.kubectl.io/v1alpha1", Kind: "TrustedAccessStatus", Cluster: in.Cluster.String(), Vault: in.Vault.String()}
	vault, err := client.GetBackupVault(ctx, in.Vault)
	if err != nil {
		return nil, err
	}
	if r.Bindings, err = client.ListTrustedAccessBindings(ctx, in.Cluster); err != nil {
		return nil, err
	}
	var fs []findings.Finding
	clusterFlags := fmt.Sprintf("--resource-group %s --cluster-name %s", in.Cluster.ResourceGroup, in.Cluster.Name)
	if vault.PrincipalID == "" || !strings.Contains(strings.ToLower(vault.IdentityType), "systemassigned") {
		fs = append(fs, catalog.VaultIdentityMissing.New(in.Vault.String(), "vault "+vault.Name+" has identity type "+quoteOr(vault.IdentityType, "None"),
			fmt.Sprintf("az dataprotection backup-vault update --resource-group %s --vault-name %s --type SystemAssigned", in.Vault.ResourceGroup, in.Vault.Name)))
	}
	var binding *azure.TrustedAccessBinding
	for i := range r.Bindings {
		if strings.EqualFold(r.Bindings[i].SourceResourceID, in.Vault.String()) {
			binding = &r.Bindings[i]
		}
	}
	create := fmt.Sprintf("kubectl aksbackup trusted-access create --vault-id %s --cluster-id %s", in.Vault, in.Cluster)
	azCreate := fmt.Sprintf("az aks trustedaccess rolebinding create %s --name %s --source-resource-id %s --roles %s", clusterFlags, BindingName(in.Vault), in.Vault, BackupOperatorRole)
	switch {
	case binding == nil:
		fs = append(fs, catalog.TrustedAccessMissing.New(in.Cluster.String(), "no Trusted Access binding for vault "+in.Vault.Name, create, azCreate))
	case !containsFold(binding.Roles, BackupOperatorRole):
		fs = append(fs, catalog.TrustedAccessRoleWrong.New(binding.ID, fmt.Sprintf("binding %s has roles %v", binding.Name, binding.Roles),
			fmt.Sprintf("az aks trustedaccess rolebinding update %s --name %s --roles %s", clusterFlags, binding.Name, BackupOperatorRole)))
	}

	var want []Requirement
	if vault.PrincipalID != "" {
		want = append(want,
			Requirement{Who: "backup vault " + vault.Name, PrincipalID: vault.PrincipalID, RoleID: RoleReader, Scope: in.Cluster.String()},
			Requirement{Who: "backup vault " + vault.Name, PrincipalID: vault.PrincipalID, RoleID: RoleReader, Scope: in.SnapshotResourceGroup},
			Requirement{Who: "backup vault " + vault.Name, PrincipalID: vault.PrincipalID, RoleID: RoleDiskSnapshotContributor, Scope: in.SnapshotResourceGroup},
			Requirement{Who: "backup vault " + vault.Name, PrincipalID: vault.PrincipalID, RoleID: RoleBlobDataReader, Scope: in.StorageAccountID})
	}
	want = append(want,
		Requirement{Who: "cluster identity", PrincipalID: in.ClusterPrincipalID, RoleID: RoleContributor, Scope: in.SnapshotResourceGroup},
		Requirement{Who: "extension identity", PrincipalID: in.ExtensionPrincipalID, RoleID: RoleBlobDataContributor, Scope: in.StorageAccountID})
	for _, req := range want {
		req.Role = roleNames[req.RoleID]
		if req.PrincipalID == "" || req.Scope == "" {
			continue // the resource is unknown (no snapshot RG given, no storage account): nothing to check
		}
		assignments, err := client.ListRoleAssignments(ctx, req.Scope, req.PrincipalID)
		if err != nil {
			return nil, err
		}
		req.Satisfied = satisfied(assignments, req)
		r.Matrix = append(r.Matrix, req)
		if !req.Satisfied {
			fs = append(fs, catalog.BackupRoleMissing.New(req.Scope, fmt.Sprintf("%s (principal %s) lacks %s on %s", req.Who, req.PrincipalID, req.Role, req.Scope),
				fmt.Sprintf("az role assignment create --assignee-object-id %s --assignee-principal-type ServicePrincipal --role %q --scope %s", req.PrincipalID, req.Role, req.Scope)))
		}
	}
	// The enable-backup flow needs the extension and vault providers registered on the cluster's subscription.
	providers, err := azurecheck.CheckProviders(ctx, client, in.Cluster.SubscriptionID)
	if err != nil {
		return nil, err
	}
	fs = append(fs, providers...)
	r.Findings = findings.Rank(fs)
	if r.Findings == nil {
		r.Findings = []findings.Finding{}
	}
	r.Summary = findings.Summarize(r.Findings)
	return r, nil
}

func satisfied(assignments []azure.RoleAssignment, req Requirement) bool {
	for _, ra := range assignments {
		if !azure.ScopeContains(ra.Scope, req.Scope) {
			continue
		}
		for _, ok := range satisfiedBy[req.RoleID] {
			if strings.HasSuffix(strings.ToLower(ra.RoleDefinitionID), ok) {
				return true
			}
		}
	}
	return false
}

// BindingName is the deterministic name `trusted-access create` gives a vault's binding (ARM allows
// 1 to 24 characters: letters, digits, hyphens and underscores).
func BindingName(vault azure.ResourceID) string {
	var b strings.Builder
	for _, r := range strings.ToLower(vault.Name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	name := "bv-" + b.String()
	if len(name) > 24 {
		name = name[:24]
	}
	return name
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func quoteOr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// PlanCreate plans the vault's binding: nil plan and a message when one with the backup-operator role
// exists; an error when the name is taken by another binding (nothing is ever edited).
func PlanCreate(ctx context.Context, client azure.Client, cluster, vault azure.ResourceID, name string) (*plan.Plan, string, error) {
	if _, err := client.GetBackupVault(ctx, vault); err != nil {
		return nil, "", fmt.Errorf("backup vault: %w", err)
	}
	bindings, err := client.ListTrustedAccessBindings(ctx, cluster)
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		name = BindingName(vault)
	}
	for _, b := range bindings {
		if strings.EqualFold(b.SourceResourceID, vault.String()) && containsFold(b.Roles, BackupOperatorRole) {
			return nil, fmt.Sprintf("No changes: binding %s already grants %s to vault %s.", b.Name, BackupOperatorRole, vault.Name), nil
		}
		if strings.EqualFold(b.Name, name) {
			return nil, "", fmt.Errorf("binding %s exists for %s with roles %v; nothing was changed. Choose another --name, or fix that binding", b.Name, b.SourceResourceID, b.Roles)
		}
	}
	binding := azure.TrustedAccessBinding{Name: name, SourceResourceID: vault.String(), Roles: []string{BackupOperatorRole}}
	p := &plan.Plan{}
	p.Add(&plan.Change{Phase: "trusted-access", Action: "create", Object: "trustedAccessRoleBinding/" + name, Field: "roles", To: BackupOperatorRole,
		Reason: "source " + vault.String(), State: plan.Planned, NoServerDryRun: true,
		Apply: func(ctx context.Context, dryRun bool) error {
			if dryRun {
				return nil // ARM has no server-side dry run
			}
			return client.CreateTrustedAccessBinding(ctx, cluster, binding)
		}})
	return p, "", nil
}
