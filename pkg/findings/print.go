package findings

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/termtext"
)

// TextOptions controls the human-readable rendering.
type TextOptions struct {
	// Color adds ANSI colors to severities; callers enable it only on a terminal without NO_COLOR.
	Color bool
	// Wide prints the tables around the findings with their -o wide columns and rows.
	Wide bool
}

var severityLabel = map[Severity]string{SeverityError: "ERROR", SeverityWarning: "WARN", SeverityInfo: "INFO"}
var severityColor = map[Severity]string{SeverityError: "\x1b[31m", SeverityWarning: "\x1b[33m", SeverityInfo: "\x1b[36m"}

// WriteText prints findings as blocks: a headline, the message, then each fix on its own line, so a
// long remediation command stays copy-pastable. Every string is redacted and its control characters
// escaped (output.Line): findings carry log text and cluster strings.
func WriteText(w io.Writer, fs []Finding, opts TextOptions) error {
	var b strings.Builder
	for _, f := range fs {
		label := fmt.Sprintf("%-5s", severityLabel[f.Severity])
		if opts.Color {
			label = severityColor[f.Severity] + label + "\x1b[0m"
		}
		fmt.Fprintf(&b, "%s %s", label, termtext.Line(f.ID))
		if f.Object != "" {
			fmt.Fprintf(&b, "  %s", termtext.Line(f.Object))
		}
		b.WriteString("\n")
		text := f.Title
		if f.Message != "" {
			text = f.Message
		}
		fmt.Fprintf(&b, "      %s\n", termtext.Line(text))
		if f.Count > 1 {
			fmt.Fprintf(&b, "      seen %d times", f.Count)
			if f.FirstSeen != nil && f.LastSeen != nil {
				fmt.Fprintf(&b, " between %s and %s", f.FirstSeen.UTC().Format("2006-01-02T15:04:05Z"), f.LastSeen.UTC().Format("2006-01-02T15:04:05Z"))
			}
			b.WriteString("\n")
		}
		if len(f.Affected) > 0 {
			fmt.Fprintf(&b, "      affects: %s\n", lines(f.Affected))
		}
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "      | %s\n", termtext.Line(e))
		}
		if len(f.CausedBy) > 0 {
			fmt.Fprintf(&b, "      explained by: %s\n", lines(f.CausedBy))
		}
		for i, r := range f.Remediation {
			prefix := "fix: "
			if i > 0 {
				prefix = "     "
			}
			fmt.Fprintf(&b, "      %s%s\n", prefix, termtext.Line(r))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// lines joins a list for one line of a terminal.
func lines(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = termtext.Line(s)
	}
	return strings.Join(out, ", ")
}

// SummaryLine renders "2 errors, 1 warning" or "no problems found".
func SummaryLine(s Summary) string {
	if s.Errors == 0 && s.Warnings == 0 {
		return "no problems found"
	}
	parts := []string{plural(s.Errors, "error"), plural(s.Warnings, "warning")}
	if s.Infos > 0 {
		parts = append(parts, plural(s.Infos, "note"))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
