package catalog

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"

// Findings that only log triage recognises; the IDs it shares with other checks are defined with them.
var (
	TokenFileUnreadable = findings.Define(findings.Definition{ID: "token-file-unreadable", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "The projected service account token cannot be read",
		Explanation: "AZURE_FEDERATED_TOKEN_FILE names a file the container cannot open: the projected volume is missing, mounted elsewhere, or not readable by the container's user."})
	ClientAssertionExpired = findings.Define(findings.Definition{ID: "client-assertion-expired", Severity: findings.SeverityError, Layer: findings.LayerEntra,
		Title:       "Entra refused an expired service account token",
		Explanation: "The token presented as client assertion is outside its validity window (AADSTS700024): the projected token was not refreshed, or the node's clock is off."})
	TenantNotFound = findings.Define(findings.Definition{ID: "tenant-not-found", Severity: findings.SeverityError, Layer: findings.LayerEntra,
		Title:       "The tenant ID is wrong",
		Explanation: "Entra does not know the tenant the pod asks for (AADSTS90002/900023); AZURE_TENANT_ID or the azure.workload.identity/tenant-id annotation is wrong, or the cloud is."})
	OIDCIssuerUnreachable = findings.Define(findings.Definition{ID: "oidc-issuer-unreachable", Severity: findings.SeverityError, Layer: findings.LayerEntra,
		Title:       "Entra cannot fetch the cluster's OIDC discovery document",
		Explanation: "Entra validates the token against the issuer's discovery document and keys (AADSTS50166/90061); the issuer URL in the federated credential does not serve them."})
	ApplicationNotFound = findings.Define(findings.Definition{ID: "application-not-found", Severity: findings.SeverityError, Layer: findings.LayerEntra,
		Title:       "The client ID is not an identity in this tenant",
		Explanation: "Entra has no application or managed identity with the client ID the pod uses (AADSTS700016): the annotation names a deleted identity or one in another tenant."})
	ClientSecretInvalid = findings.Define(findings.Definition{ID: "client-secret-invalid", Severity: findings.SeverityError, Layer: findings.LayerEntra,
		Title:       "The client secret is wrong or expired",
		Explanation: "Velero authenticates with a client secret from its credentials file, and Entra refuses it (AADSTS7000215/7000222); workload identity needs no secret at all."})
	PodIdentityIntercept = findings.Define(findings.Definition{ID: "pod-identity-intercept", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "AAD Pod Identity intercepts the token request",
		Explanation: "The deprecated aad-pod-identity NMI answers IMDS requests for this pod and has no AzureIdentity binding for it; remove pod identity or exempt the namespace."})
	ManagedIdentityAmbiguous = findings.Define(findings.Definition{ID: "managed-identity-ambiguous", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Several managed identities and none chosen",
		Explanation: "The node has more than one user-assigned identity and the request named none, so IMDS refuses it; the pod is not using workload identity."})
	StorageURIInvalid = findings.Define(findings.Definition{ID: "storage-uri-invalid", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title:       "The storage account endpoint does not resolve",
		Explanation: "The blob endpoint built from storageAccount (or storageAccountURI) has no DNS record: a typo in the account name, a wrong cloud, or a private endpoint without its DNS zone."})
	StorageAccountReadDenied = findings.Define(findings.Definition{ID: "storage-account-read-denied", Severity: findings.SeverityInfo, Layer: findings.LayerConfig,
		Title:       "Velero cannot read the storage account's properties and uses the default endpoint",
		Explanation: "Velero logs this at info level and falls back to https://<account>.blob.<suffix>, which works for public endpoints. Usually the identity lacks Microsoft.Storage/storageAccounts/read; when the token itself failed, another finding names why."})
	BSLConfigIncomplete = findings.Define(findings.Definition{ID: "bsl-config-incomplete", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title:       "The BackupStorageLocation's config is incomplete or invalid",
		Explanation: "The Azure plugin needs storageAccount (and resourceGroup and subscriptionId to read the account) and refuses unknown config keys."})
	StorageKeyMisconfigured = findings.Define(findings.Definition{ID: "storage-key-misconfigured", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title:       "The storage account key settings are wrong",
		Explanation: "storageAccountKeyEnvVar names a key missing from the credentials, the key is wrong (403 AuthenticationFailed), or listing keys is not allowed; with workload identity set useAAD=true and drop the key."})
	SubscriptionInvalid = findings.Define(findings.Definition{ID: "subscription-invalid", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title:       "The subscription ID is wrong",
		Explanation: "ARM does not know the subscription in the BSL config or credentials (SubscriptionNotFound/InvalidSubscriptionId)."})
	CredentialsFileUnreadable = findings.Define(findings.Definition{ID: "credentials-file-unreadable", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Velero cannot read its credentials file",
		Explanation: "The BSL's credential (or AZURE_CREDENTIALS_FILE) points to a file that is not mounted; the secret or its key is missing."})
	PluginMissing = findings.Define(findings.Definition{ID: "plugin-missing", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The Azure object store plugin is not installed",
		Explanation: "Velero found no plugin for provider azure: the velero-plugin-for-microsoft-azure init container is missing or failed to copy the binary."})
	PluginOOM = findings.Define(findings.Definition{ID: "plugin-oom", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "Velero or its plugin was killed for memory",
		Explanation: "The container hit its memory limit (OOMKilled); backups and validation fail while it restarts. Raise the limit."})
	ExtensionEgressBlocked = findings.Define(findings.Definition{ID: "extension-egress-blocked", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "Outbound traffic to Azure endpoints is blocked",
		Explanation: "The pod cannot reach Entra, ARM or the storage endpoint (timeouts, refused connections): a firewall, NSG, proxy or egress policy drops it. AKS Backup needs the FQDNs listed in its network requirements."})
	APIServerUnreachable = findings.Define(findings.Definition{ID: "apiserver-unreachable", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "Velero cannot reach the Kubernetes API server",
		Explanation: "Velero's watches and lists fail, so it cannot read or update BackupStorageLocations; check the API server's health and any network policy on the namespace."})
	InsufficientResources = findings.Define(findings.Definition{ID: "insufficient-resources", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The backup pods cannot be scheduled",
		Explanation: "No node has enough CPU or memory for the extension's pods, or none they may run on (FailedScheduling: Insufficient cpu/memory, an untolerated taint such as CriticalAddonsOnly, node affinity)."})
	BSLUnavailable = findings.Define(findings.Definition{ID: "bsl-unavailable", Severity: findings.SeverityError, Layer: findings.LayerSymptom, Title: "BackupStorageLocation is Unavailable",
		Explanation: "Velero validates the location every validationFrequency and marks it Unavailable when the check fails; no backup runs against it until it is Available again."})
	CredentialsIncomplete = findings.Define(findings.Definition{ID: "credentials-incomplete", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Velero's credentials lack a required value",
		Explanation: "Velero reads its credentials file (the BSL's credential or AZURE_CREDENTIALS_FILE) but a value the Azure plugin needs is empty: AZURE_TENANT_ID or AZURE_CLIENT_ID beside a secret, AZURE_SUBSCRIPTION_ID, or an AZURE_CLOUD_NAME it does not know. With workload identity and useAAD=true the file needs none of them."})
	StorageAccountDisabled = findings.Define(findings.Definition{ID: "storage-account-disabled", Severity: findings.SeverityError, Layer: findings.LayerStorage,
		Title:       "The storage account is disabled",
		Explanation: "Azure Storage answers every request with 403 AccountIsDisabled, for example when its subscription is disabled; nothing can be written until the account is enabled again."})
	StorageTokenRejected = findings.Define(findings.Definition{ID: "storage-token-rejected", Severity: findings.SeverityError, Layer: findings.LayerStorage,
		Title:       "The storage account rejects the identity's token",
		Explanation: "Entra issued a token but Blob Storage answers 401 InvalidAuthenticationInfo: the token is for another tenant or audience, typically an identity in a different tenant from the storage account."})
	BackupStoreForeignContent = findings.Define(findings.Definition{ID: "backup-store-foreign-content", Severity: findings.SeverityError, Layer: findings.LayerConfig,
		Title:       "The blob container holds data that is not Velero's",
		Explanation: "Velero refuses a backup store whose top level has directories other than its own (backups, restores, kopia, ...): the container or prefix is shared with another tool or another Velero. Give the location its own container or a prefix."})
	ExtensionHelmFailed = findings.Define(findings.Definition{ID: "extension-helm-failed", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The backup extension's Helm release failed",
		Explanation: "The AKS extension manager installs azure-aks-backup as a Helm release with atomic set; when its pods or jobs do not become ready in time the release is rolled back or uninstalled and the extension stays Failed. Pods that cannot be scheduled, blocked images and admission policies are the usual reasons.",
		ExplainedBy: []string{"insufficient-resources", "extension-admission-denied", "extension-dataplane-denied", "extension-egress-blocked", "apiserver-unreachable"}})
	ExtensionAdmissionDenied = findings.Define(findings.Definition{ID: "extension-admission-denied", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "An admission policy blocks the backup extension's pods",
		Explanation: "An admission webhook (Azure Policy/Gatekeeper, Kyverno) denies the extension's pods or jobs, for example because images from mcr.microsoft.com/azurebackup are not on an allowed list."})
	ExtensionDataPlaneDenied = findings.Define(findings.Definition{ID: "extension-dataplane-denied", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The extension agent's data plane calls are refused",
		Explanation: "The extension agent gets 403 This traffic is not authorized from <region>.dp.kubernetesconfiguration.azure.com: the name resolves to a private endpoint (an Azure Arc private link scope sharing the VNet or private DNS), so the extension cannot be installed or updated."})
)
