package output

import (
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/termtext"
)

// Line makes text from a log, a cluster or Azure safe for one line of a terminal (see termtext.Line).
func Line(s string) string { return termtext.Line(s) }

// Text is Line for text printed over several lines: newlines stay, everything else is escaped.
func Text(s string) string { return termtext.Text(s) }

func escape(s string, keepNewlines bool) string { return termtext.Escape(s, keepNewlines) }

// ErrorLine renders a command's error for stderr: errors quote Azure responses, URLs and object
// names, so they are redacted and escaped like any other printed text.
func ErrorLine(err error) string { return "error: " + Text(err.Error()) + "\n" }
