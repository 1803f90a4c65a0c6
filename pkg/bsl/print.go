package bsl

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
)

// WriteText prints a table of locations, then each location's config, message and findings. Every
// string from the cluster is redacted and its control characters escaped (output.Line), so that a
// tab cannot shift a column nor an escape sequence rewrite the terminal.
func WriteText(w io.Writer, r *Report, now time.Time, opts findings.TextOptions) error {
	if len(r.Locations) == 0 {
		fmt.Fprintf(w, "No BackupStorageLocation in namespace %s.\n\n", output.Line(r.Namespace))
		return findings.WriteText(w, r.Findings, opts)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPHASE\tDEFAULT\tPROVIDER\tBUCKET\tLAST VALIDATED\tLAST SYNCED")
	for _, l := range r.Locations {
		phase := l.Phase
		if phase == "" {
			phase = "<none>"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", output.Line(l.Name), output.Line(phase), yesNo(l.Default), output.Line(l.Provider), output.Line(bucket(l)),
			ago(l.LastValidationTime, now, l.ValidationStale), ago(l.LastSyncedTime, now, l.SyncStale))
	}
	if err := tw.Flush(); err != nil {
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
