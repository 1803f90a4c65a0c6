package catalog

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"

// Findings about Velero's BackupStorageLocations as Velero reports them.
var (
	BSLMissing = findings.Define(findings.Definition{ID: "bsl-missing", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title: "No BackupStorageLocation", Explanation: "Velero needs at least one BackupStorageLocation; the AKS Backup extension creates it from its storage settings."})
	BSLNotValidated = findings.Define(findings.Definition{ID: "bsl-not-validated", Severity: findings.SeverityWarning, Layer: findings.LayerPlatform,
		Title: "BackupStorageLocation not validated yet", Explanation: "The location has no phase: Velero is not running, or has not reached it yet."})
	BSLValidationStale = findings.Define(findings.Definition{ID: "bsl-validation-stale", Severity: findings.SeverityWarning, Layer: findings.LayerPlatform,
		Title: "BackupStorageLocation validation is stale", Explanation: "Velero validates every validationFrequency; a much older last validation means Velero is not running or cannot update the object, so the phase may be out of date."})
	BSLSyncStale = findings.Define(findings.Definition{ID: "bsl-sync-stale", Severity: findings.SeverityWarning, Layer: findings.LayerPlatform,
		Title: "Backups have not been synced from the location recently", Explanation: "Velero syncs backup metadata from the bucket every backupSyncPeriod; an old lastSyncedTime means the sync is failing."})
	BSLAzureConfigMissing = findings.Define(findings.Definition{ID: "bsl-azure-config-missing", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title: "Azure BSL config lacks a required key", Explanation: "velero-plugin-for-microsoft-azure needs storageAccount; resourceGroup and subscriptionId let it read the account's endpoint."})
	BSLNotUsingAAD = findings.Define(findings.Definition{ID: "bsl-not-using-aad", Severity: findings.SeverityWarning, Layer: findings.LayerConfig,
		Title: "BSL does not use Entra ID for blob access", Explanation: "Without useAAD=true the plugin tries storage account keys; with workload identity set useAAD=true so it uses the pod's token."})
)
