package catalog

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"

// Findings about the subscription's resource providers.
var ResourceProviderNotRegistered = findings.Define(findings.Definition{ID: "resource-provider-not-registered", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
	Title: "A resource provider AKS Backup needs is not registered", Explanation: "Enabling AKS Backup installs a cluster extension (Microsoft.KubernetesConfiguration) and uses a backup vault (Microsoft.DataProtection); ARM refuses both until their providers are registered on the cluster's subscription."})
