package catalog

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"

// Findings about Velero's credentials secret (cloud-credentials, key cloud), judged by its key names only.
var (
	VeleroCredentialsMissing = findings.Define(findings.Definition{
		ID: "velero-credentials-missing", Severity: findings.SeverityWarning, Layer: findings.LayerConfig,
		Title:       "Velero's credentials secret is missing",
		Explanation: "velero-plugin-for-microsoft-azure reads AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and AZURE_CLOUD_NAME from the credentials file Velero mounts from this secret; without it the BSL config must name everything.",
	})
	VeleroCredentialsIncomplete = findings.Define(findings.Definition{
		ID: "velero-credentials-incomplete", Severity: findings.SeverityWarning, Layer: findings.LayerConfig,
		Title:       "Velero's credentials secret lacks a key the Azure plugin reads",
		Explanation: "The Azure plugin takes the subscription, resource group and cloud from the credentials file when the BSL config does not name them; a missing key makes it look in the wrong place.",
	})
	VeleroCredentialsClientSecret = findings.Define(findings.Definition{
		ID: "velero-credentials-client-secret", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Velero's credentials secret holds a client secret while the pods use workload identity",
		Explanation: "The Azure SDK's credential chain uses AZURE_CLIENT_SECRET before the federated token, so Velero authenticates as that app registration, not as the workload identity, and an expired or wrong secret fails every backup.",
	})
)
