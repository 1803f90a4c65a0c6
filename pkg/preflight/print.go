package preflight

import (
	"fmt"
	"io"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
)

// WriteText prints the verdict, the checks, the volume inventory and the findings with their fixes.
func WriteText(w io.Writer, r *Report, opts findings.TextOptions) error {
	verdict := "READY: AKS Backup can be installed on this cluster"
	if !r.Ready {
		verdict = "NOT READY"
		if len(r.Findings) > 0 {
			verdict += ": first fix " + r.Findings[0].ID
		}
	}
	if _, err := fmt.Fprintf(w, "%s (%s)\n\n", verdict, findings.SummaryLine(r.Summary)); err != nil {
		return err
	}
	if err := output.PrintTable(w, CheckTable(r), false); err != nil {
		return err
	}
	if r.Volumes.Pages > 0 {
		fmt.Fprintf(w, "\nPERSISTENT VOLUMES: %d\n", r.Volumes.Total)
		if err := output.PrintTable(w, VolumeTable(r), false); err != nil {
			return err
		}
	}
	if len(r.Findings) == 0 {
		return nil
	}
	if _, err := fmt.Fprintln(w, "\nFINDINGS (fix from the top)"); err != nil {
		return err
	}
	return findings.WriteText(w, r.Findings, opts)
}

// CheckTable is the check table: one row per check.
func CheckTable(r *Report) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Check", Type: "string"}, {Name: "Status", Type: "string"}, {Name: "Detail", Type: "string"}}}
	for _, c := range r.Checks {
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{c.Name, string(c.Status), c.Detail}})
	}
	return t
}

// VolumeTable is the inventory: one row per class of persistent volume, with what AKS Backup does with it.
func VolumeTable(r *Report) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Class", Type: "string"}, {Name: "Count", Type: "integer"}, {Name: "AKS Backup", Type: "string"}, {Name: "Examples", Type: "string"}}}
	for _, c := range r.Volumes.Classes {
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{string(c.Class), int64(c.Count), string(c.Coverage), strings.Join(c.Examples, ", ")}})
	}
	return t
}
