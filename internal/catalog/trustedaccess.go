package catalog

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"

// Findings about the backup vault's Trusted Access binding and the role matrix around it.
var (
	VaultIdentityMissing = findings.Define(findings.Definition{ID: "vault-identity-missing", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title: "The backup vault has no system-assigned identity", Explanation: "The vault acts on the cluster and snapshots as its system-assigned managed identity."})
	TrustedAccessMissing = findings.Define(findings.Definition{ID: "trusted-access-missing", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title: "No Trusted Access binding for the backup vault", Explanation: "Without a binding with role " + backupOperatorRole + " the vault cannot reach the cluster's backup extension.",
		ExplainedBy: []string{"vault-identity-missing"}})
	TrustedAccessRoleWrong = findings.Define(findings.Definition{ID: "trusted-access-role-wrong", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title: "The vault's Trusted Access binding lacks the backup-operator role", Explanation: "The binding exists but does not grant " + backupOperatorRole + "."})
	BackupRoleMissing = findings.Define(findings.Definition{ID: "backup-role-missing", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title: "A role assignment of the AKS Backup role matrix is missing", Explanation: "Azure's enable-backup flow grants the vault, cluster and extension identities specific roles; backups or restores fail without them.",
		ExplainedBy: []string{"vault-identity-missing"}})
)
