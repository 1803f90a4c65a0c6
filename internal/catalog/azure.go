package catalog

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"

// Findings about the Azure half: the cluster, the extension and its identity, federated credentials, roles and storage.
var (
	ClusterNotFound = findings.Define(findings.Definition{ID: "cluster-not-found", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title: "AKS cluster not found", Explanation: "The cluster ID does not resolve in ARM: wrong subscription, resource group, name or cloud."})
	OIDCIssuerDisabled = findings.Define(findings.Definition{ID: "oidc-issuer-disabled", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title: "The cluster's OIDC issuer is disabled", Explanation: "Entra can only trust service-account tokens from a cluster that publishes an OIDC issuer."})
	WorkloadIdentityDisabled = findings.Define(findings.Definition{ID: "workload-identity-disabled", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title: "Workload identity is disabled on the cluster", Explanation: "Without it AKS runs no workload identity webhook, so no pod gets AZURE_* variables or the projected token."})
	ClusterIdentityUnsupported = findings.Define(findings.Definition{ID: "cluster-identity-unsupported", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title: "The cluster uses a service principal", Explanation: "AKS Backup and cluster extensions need a cluster with a managed (system-assigned) identity."})
	IssuerMismatch = findings.Define(findings.Definition{ID: "issuer-mismatch", Severity: findings.SeverityError, Layer: findings.LayerEntra,
		Title: "The API server's issuer differs from ARM's", Explanation: "Tokens carry the API server's issuer; federated credentials built from ARM's URL would never match them.",
		ExplainedBy: []string{"oidc-issuer-disabled"}})
	ExtensionMissing = findings.Define(findings.Definition{ID: "extension-missing", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title: "The AKS Backup extension is not installed", Explanation: "No microsoft.dataprotection.kubernetes extension is installed on the cluster.",
		ExplainedBy: []string{"cluster-identity-unsupported"}})
	ExtensionNotSucceeded = findings.Define(findings.Definition{ID: "extension-not-succeeded", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title: "The backup extension is not in provisioning state Succeeded", Explanation: "A failed or stuck extension install leaves the backup agent missing or half configured."})
	ExtensionConfigIncomplete = findings.Define(findings.Definition{ID: "extension-config-incomplete", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title: "The extension's storage settings are incomplete", Explanation: "The extension needs the blob container, storage account, its resource group and subscription to create the BackupStorageLocation."})
	ExtensionIdentityMissing = findings.Define(findings.Definition{ID: "extension-identity-missing", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title: "The extension has no AKS-assigned identity", Explanation: "The backup agent authenticates as the extension's managed identity; without one nothing can be federated."})
	ExtensionIdentityNotFound = findings.Define(findings.Definition{ID: "extension-identity-not-found", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title: "The extension's managed identity cannot be found", Explanation: "No user-assigned identity in the cluster's subscription has the extension identity's principal ID, or you cannot read it."})
	WIClientIDWrongIdentity = findings.Define(findings.Definition{ID: "wi-client-id-wrong-identity", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title: "Service account points at another identity", Explanation: "The client-id annotation is not the extension identity's client ID, so token exchanges use an identity without the federated credentials and role."})
	IdentityUnknown = findings.Define(findings.Definition{ID: "identity-unknown", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title: "No managed identity is named for the workload", Explanation: "Without the AKS Backup extension the identity comes from the service accounts' azure.workload.identity/client-id annotation, --client-id or --identity; none names one."})
	IdentityNotFound = findings.Define(findings.Definition{ID: "identity-not-found", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title: "The named managed identity cannot be found", Explanation: "No user-assigned identity with that client ID (or name) exists in the subscriptions searched, or you cannot read it."})
	IdentityAmbiguous = findings.Define(findings.Definition{ID: "identity-ambiguous", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title: "More than one managed identity is named", Explanation: "The service accounts are annotated with different client IDs, or one client ID matches several identities; the wiring needs exactly one."})
	FederatedCredentialMissing = findings.Define(findings.Definition{ID: "federated-credential-missing", Severity: findings.SeverityError, Layer: findings.LayerEntra,
		Title: "No federated credential for the service account", Explanation: "Entra rejects the pod's token (AADSTS70021) unless the identity trusts this issuer and subject with audience api://AzureADTokenExchange.",
		ExplainedBy: []string{"oidc-issuer-disabled", "extension-identity-not-found"}})
	FederatedCredentialMismatch = findings.Define(findings.Definition{ID: "federated-credential-mismatch", Severity: findings.SeverityError, Layer: findings.LayerEntra,
		Title: "A federated credential is close but wrong", Explanation: "Issuer, subject and audience must match the token exactly; a missing trailing slash or another namespace is enough to fail (AADSTS700211/700213/70021).",
		ExplainedBy: []string{"issuer-mismatch"}})
	BlobDataRoleMissing = findings.Define(findings.Definition{ID: "blob-data-role-missing", Severity: findings.SeverityError, Layer: findings.LayerStorage,
		Title: "The identity cannot write blobs", Explanation: "Writing backups needs a data action (Storage Blob Data Contributor or a role with .../blobs/write) on the storage account or an enclosing scope; management roles such as Owner or Storage Account Contributor grant none."})
	StorageAccountContributorMissing = findings.Define(findings.Definition{ID: "storage-account-contributor-missing", Severity: findings.SeverityWarning, Layer: findings.LayerStorage,
		Title: "Storage Account Contributor is not assigned", Explanation: "The AKS Backup documentation also grants the extension identity Storage Account Contributor on the storage account."})
	StorageAccountNotFound = findings.Define(findings.Definition{ID: "storage-account-not-found", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title: "The backup storage account was not found", Explanation: "The extension's storage settings name an account that does not exist or that you cannot read.",
		ExplainedBy: []string{"extension-config-incomplete"}})
	ContainerNotFound = findings.Define(findings.Definition{ID: "container-not-found", Severity: findings.SeverityError, Layer: findings.LayerStorage,
		Title: "The blob container does not exist", Explanation: "Velero does not create the container; the BackupStorageLocation stays Unavailable until it exists.",
		ExplainedBy: []string{"storage-account-not-found"}})
	SharedKeyDisabled = findings.Define(findings.Definition{ID: "shared-key-disabled", Severity: findings.SeverityError, Layer: findings.LayerStorage,
		Title: "Shared key access is disabled but the extension uses keys", Explanation: "With allowSharedKeyAccess=false only Entra tokens work, but the extension is not configured with useAAD=true."})
	StorageNetworkBlocked = findings.Define(findings.Definition{ID: "storage-network-blocked", Severity: findings.SeverityError, Layer: findings.LayerStorage,
		Title: "The storage account's network rules deny access", Explanation: "Public network access is disabled, or the default action is Deny with no IP or virtual-network rule, so the cluster cannot reach the account (403 AuthorizationFailure)."})
	StorageNetworkRestricted = findings.Define(findings.Definition{ID: "storage-network-restricted", Severity: findings.SeverityWarning, Layer: findings.LayerStorage,
		Title: "The storage account only admits listed networks", Explanation: "The default action is Deny; the cluster's egress IP or subnet must be among the rules, or a private endpoint used."})
	AzureReadFailed = findings.Define(findings.Definition{ID: "azure-read-failed", Severity: findings.SeverityWarning, Layer: findings.LayerConfig,
		Title: "An Azure read failed", Explanation: "A permission or service error hid part of the Azure setup; the checks that depend on it did not run."})
	AzureChecksSkipped = findings.Define(findings.Definition{ID: "azure-checks-skipped", Severity: findings.SeverityInfo, Layer: findings.LayerConfig,
		Title: "Azure checks were skipped", Explanation: "No AKS cluster was given or inferable, so only the in-cluster wiring was checked."})
)
