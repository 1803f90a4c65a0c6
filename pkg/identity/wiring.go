// Package identity inspects and configures the cluster side of Azure Workload Identity for a backup
// component: the service-account annotations, the pod-template label, and what the webhook actually
// injected into the running pods.
package identity

import (
	"regexp"
	"strings"
)

// The contract of the Azure Workload Identity webhook.
const (
	AnnotationClientID       = "azure.workload.identity/client-id"
	AnnotationTenantID       = "azure.workload.identity/tenant-id"
	AnnotationSkipContainers = "azure.workload.identity/skip-containers"
	LabelUse                 = "azure.workload.identity/use"
	TokenAudience            = "api://AzureADTokenExchange"

	EnvClientID      = "AZURE_CLIENT_ID"
	EnvTenantID      = "AZURE_TENANT_ID"
	EnvTokenFile     = "AZURE_FEDERATED_TOKEN_FILE"
	EnvAuthorityHost = "AZURE_AUTHORITY_HOST"
)

// TokenPaths are the token files the webhook has mounted: up to v1.5, and from v1.6 on.
var TokenPaths = []string{
	"/var/run/secrets/azure/tokens/azure-identity-token",
	"/var/run/secrets/azure/wi/token/azure-identity-token",
}

// InjectedEnv lists the variables the webhook adds to every container it mutates.
var InjectedEnv = []string{EnvClientID, EnvTenantID, EnvTokenFile, EnvAuthorityHost}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID in the 8-4-4-4-12 form Entra uses for client and tenant IDs.
func IsGUID(s string) bool { return guidPattern.MatchString(s) }

// Helm ownership markers.
const (
	helmReleaseAnnotation = "meta.helm.sh/release-name"
	managedByLabel        = "app.kubernetes.io/managed-by"
)

// helmRelease returns the Helm release that owns an object, "" if none.
func helmRelease(labels, annotations map[string]string) string {
	if r := annotations[helmReleaseAnnotation]; r != "" {
		return r
	}
	if strings.EqualFold(labels[managedByLabel], "Helm") {
		return "(unknown release)"
	}
	return ""
}

func skippedContainers(annotations map[string]string) map[string]bool {
	skip := map[string]bool{}
	for _, name := range strings.Split(annotations[AnnotationSkipContainers], ";") {
		if name = strings.TrimSpace(name); name != "" {
			skip[name] = true
		}
	}
	return skip
}
