package catalog

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"

// Findings about doctor's own run.
var (
	ReadAccessDenied = findings.Define(findings.Definition{ID: "read-access-denied", Severity: findings.SeverityWarning, Layer: findings.LayerPlatform,
		Title: "Your RBAC denies some reads the checks need", Explanation: "Doctor runs every check it can; the ones that need a denied read are skipped, so their part of the chain is unverified."})
)
