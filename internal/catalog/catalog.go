// Package catalog is the one catalog of findings: every ID the tool can report, with its severity,
// layer, title, explanation and the IDs that explain it. Every command reports from it, so an ID means
// the same thing everywhere and one ranking (findings.Rank) orders them all.
//
// It imports nothing but the findings model: a log parser, a printer or a test can know every
// finding without linking the Azure SDK or client-go. IDs are a public contract: never rename one.
package catalog

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"

// backupOperatorRole is the Trusted Access role AKS Backup's vault needs.
const backupOperatorRole = "Microsoft.DataProtection/backupVaults/backup-operator"

// All returns every definition, sorted by ID.
func All() []findings.Definition { return findings.Catalog() }
