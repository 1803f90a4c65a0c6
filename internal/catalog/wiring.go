package catalog

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"

// Findings about the cluster-side wiring: service accounts, pod templates and what the webhook injected.
var (
	ServiceAccountMissing = findings.Define(findings.Definition{
		ID: "serviceaccount-missing", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Service account not found",
		Explanation: "The backup component's service account does not exist, so nothing can carry the workload identity annotation.",
	})
	DeploymentMissing = findings.Define(findings.Definition{
		ID: "deployment-missing", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "Deployment not found",
		Explanation: "The backup component's deployment does not exist in the namespace: the product is not installed there, or the profile or -n is wrong.",
	})
	DeploymentServiceAccountMismatch = findings.Define(findings.Definition{
		ID: "deployment-serviceaccount-mismatch", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Deployment runs as another service account",
		Explanation: "The webhook reads the client ID from the service account the pod runs as; annotating a different one has no effect.",
		ExplainedBy: []string{"serviceaccount-missing"},
	})
	WIClientIDMissing = findings.Define(findings.Definition{
		ID: "wi-client-id-missing", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Service account has no workload identity client ID",
		Explanation: "Without the azure.workload.identity/client-id annotation the webhook injects no AZURE_CLIENT_ID, and the Azure SDK cannot exchange the pod's token.",
		ExplainedBy: []string{"serviceaccount-missing"},
	})
	WIClientIDInvalid = findings.Define(findings.Definition{
		ID: "wi-client-id-invalid", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Client ID annotation is not a GUID",
		Explanation: "Entra rejects token requests whose client ID is not the GUID of an application or managed identity (AADSTS700016).",
	})
	WITenantIDInvalid = findings.Define(findings.Definition{
		ID: "wi-tenant-id-invalid", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Tenant ID annotation is not a GUID",
		Explanation: "The webhook passes the annotation on as AZURE_TENANT_ID; a malformed tenant makes every token request fail (AADSTS90002).",
	})
	WIClientIDInconsistent = findings.Define(findings.Definition{
		ID: "wi-client-id-inconsistent", Severity: findings.SeverityWarning, Layer: findings.LayerCredential,
		Title:       "Service accounts use different client IDs",
		Explanation: "The component's service accounts normally share one managed identity; a different ID usually means a stale or mistyped annotation, and that identity needs its own federated credentials and role.",
	})
	WILabelMissing = findings.Define(findings.Definition{
		ID: "wi-label-missing", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Pod template lacks the workload identity label",
		Explanation: "The webhook only mutates pods labelled azure.workload.identity/use: \"true\"; the label must be on the deployment's pod template, not on the deployment or the service account.",
		ExplainedBy: []string{"deployment-missing"},
	})
	WIContainerSkipped = findings.Define(findings.Definition{
		ID: "wi-container-skipped", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Storage container excluded from injection",
		Explanation: "The pod annotation azure.workload.identity/skip-containers names the container that talks to Blob Storage, so it gets no identity.",
	})
	WIWebhookNotInjecting = findings.Define(findings.Definition{
		ID: "wi-webhook-not-injecting", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "Labelled pods were not mutated by the workload identity webhook",
		Explanation: "Pods carry the label but none of the webhook's variables: the webhook is not installed (AKS: --enable-workload-identity) or was down when the pods were created.",
	})
	WIRestartNeeded = findings.Define(findings.Definition{
		ID: "wi-restart-needed", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Pods predate the current wiring",
		Explanation: "The webhook injects only when a pod is created; pods started before the label or annotation changed keep the old (or no) identity until they are restarted.",
	})
	WINotInjected = findings.Define(findings.Definition{
		ID: "wi-not-injected", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "Running pods lack the workload identity injection",
		Explanation: "The pods have no AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST or projected token with audience api://AzureADTokenExchange, so Velero cannot authenticate to Blob Storage and the BackupStorageLocation turns Unavailable.",
		ExplainedBy: []string{"wi-label-missing", "wi-client-id-missing", "wi-restart-needed", "wi-webhook-not-injecting", "wi-container-skipped", "serviceaccount-missing", "deployment-serviceaccount-mismatch"},
	})
	RolloutIncomplete = findings.Define(findings.Definition{
		ID: "rollout-incomplete", Severity: findings.SeverityWarning, Layer: findings.LayerPlatform,
		Title:       "Rollout has not finished",
		Explanation: "Old and new pods run side by side, or new pods are not available yet; the injection state can still change.",
	})
	DeploymentNoPods = findings.Define(findings.Definition{
		ID: "deployment-no-pods", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "Deployment wants replicas but has no running pods",
		Explanation: "No pod of the deployment is running (not schedulable, crashing, or blocked by a failing webhook), so no backups run and the injection cannot be verified.",
	})
	DeploymentScaledDown = findings.Define(findings.Definition{
		ID: "deployment-scaled-down", Severity: findings.SeverityWarning, Layer: findings.LayerPlatform,
		Title:       "Deployment is scaled to zero",
		Explanation: "With zero replicas nothing runs backups and the injection cannot be verified.",
	})
	BackupServerScaledDown = findings.Define(findings.Definition{
		ID: "backup-server-scaled-down", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The workload that runs Velero is scaled to zero",
		Explanation: "The workload whose container talks to Blob Storage runs the backups; with zero replicas no backup or BSL validation runs, while the BSL may still show its last Available phase.",
	})
	HelmManaged = findings.Define(findings.Definition{
		ID: "helm-managed", Severity: findings.SeverityInfo, Layer: findings.LayerConfig,
		Title:       "Objects are managed by Helm",
		Explanation: "Live patches to Helm-managed objects are reverted by the next upgrade; keep the wiring in the release's values.",
	})
)
