package bsl

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
)

// WriteText prints a table of locations (with opts.Wide, also the storage account, resource group,
// subscription and validation frequency), then each location's config, message and findings. Every
// string from the cluster is redacted and its control characters escaped (output.PrintTable,
// output.Line), so that a tab cannot shift a column nor an escape sequence rewrite the terminal.
func WriteText(w io.Writer, r *Report, now time.Time, opts findings.TextOptions) error {
	if len(r.Locations) == 0 {
		fmt.Fprintf(w, "No BackupStorageLocation in namespace %s.\n\n", output.Line(r.Namespace))
		return findings.WriteText(w, r.Findings, opts)
	}
	if err := output.PrintTable(w, Table(r, now), opts.Wide); err != nil {
		return err
	}
	for _, l := range r.Locations {
		fmt.Fprintf(w, "\n%s/%s  (validated every %s)\n", output.Line(l.Namespace), output.Line(l.Name), output.Line(l.ValidationFrequency))
		fmt.Fprintf(w, "  config: %s\n", configLine(l.Config))
		if l.Message != "" {
			fmt.Fprintf(w, "  message: %s\n", indent(output.Text(l.Message), "           "))
		}
		if len(l.Findings) > 0 {
			if err := findings.WriteText(w, l.Findings, opts); err != nil {
				return err
			}
		}
	}
	return nil
}

// Table is the locations as kubectl get would show them; the Azure config keys and the validation
// frequency are -o wide's columns.
func Table(r *Report, now time.Time) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name"}, {Name: "Phase", Type: "string"}, {Name: "Default", Type: "string"},
		{Name: "Provider", Type: "string"}, {Name: "Bucket", Type: "string"}, {Name: "Last Validated", Type: "string"}, {Name: "Last Synced", Type: "string"},
		{Name: "Storage Account", Type: "string", Priority: 1}, {Name: "Resource Group", Type: "string", Priority: 1},
		{Name: "Subscription", Type: "string", Priority: 1}, {Name: "Validation Frequency", Type: "string", Priority: 1},
	}}
	for _, l := range r.Locations {
		phase := l.Phase
		if phase == "" {
			phase = "<none>"
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{l.Name, phase, yesNo(l.Default), l.Provider, bucket(l),
			ago(l.LastValidationTime, now, l.ValidationStale), ago(l.LastSyncedTime, now, l.SyncStale),
			configOrUnset(l.Config, "storageAccount"), configOrUnset(l.Config, "resourceGroup"), configOrUnset(l.Config, "subscriptionId"), l.ValidationFrequency}})
	}
	return t
}

func configOrUnset(cfg map[string]string, key string) string {
	if v, ok := cfg[key]; ok && v != "" {
		return redact.Value(key, v)
	}
	return "<unset>"
}

func bucket(l Location) string {
	if l.Prefix != "" {
		return l.Bucket + "/" + l.Prefix
	}
	return l.Bucket
}

func ago(t *time.Time, now time.Time, stale bool) string {
	if t == nil {
		return "never"
	}
	s := age(now.Sub(*t)) + " ago"
	if stale {
		s += " (stale)"
	}
	return s
}

// configLine shows the Azure keys in a fixed order, then any others, and marks unset Azure keys; a
// value under a secret's key name is masked whole.
func configLine(cfg map[string]string) string {
	var parts []string
	seen := map[string]bool{}
	for _, k := range AzureConfigKeys[:5] {
		seen[k] = true
		v, ok := cfg[k]
		if !ok {
			v = "<unset>"
		}
		parts = append(parts, output.Line(k+"="+redact.Value(k, v)))
	}
	var rest []string
	for k := range cfg {
		if !seen[k] {
			rest = append(rest, output.Line(k+"="+redact.Value(k, cfg[k])))
		}
	}
	sort.Strings(rest)
	return strings.Join(append(parts, rest...), " ")
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// ObjectNames lists the locations, for -o name.
func (r *Report) ObjectNames() []output.ObjectName {
	out := make([]output.ObjectName, 0, len(r.Locations))
	for _, l := range r.Locations {
		out = append(out, output.ObjectName{APIVersion: Resource.GroupVersion().String(), Kind: "BackupStorageLocation", Name: l.Name})
	}
	return out
}
