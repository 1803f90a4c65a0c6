package preflight

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

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
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Status, output.Line(c.Detail))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Volumes.Pages > 0 {
		fmt.Fprintf(w, "\nPERSISTENT VOLUMES: %d\n", r.Volumes.Total)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLASS\tCOUNT\tAKS BACKUP\tEXAMPLES")
		for _, c := range r.Volumes.Classes {
			examples := make([]string, len(c.Examples))
			for i, e := range c.Examples {
				examples[i] = output.Line(e)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", c.Class, c.Count, c.Coverage, strings.Join(examples, ", "))
		}
		if err := tw.Flush(); err != nil {
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
