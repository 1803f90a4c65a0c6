// Package termtext makes text from logs, clusters and Azure safe to print on a terminal. It links
// nothing but the redactor, so the in-cluster verifier can use it.
package termtext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
)

// Line makes text from a log, a cluster or Azure safe for one line of a terminal: secrets
// redacted, and every control character, terminal escape (ESC, CSI, OSC, BEL, C1 controls),
// bidirectional override and invalid byte shown as a visible escape (\x1b, \u009b, \u202e), so
// that nothing in the text can move the cursor, recolor, retitle or rewrite what was printed.
func Line(s string) string { return Escape(redact.String(s), false) }

// Text is Line for text printed over several lines: newlines stay, everything else is escaped.
func Text(s string) string { return Escape(redact.String(s), true) }

// Escape shows control characters as visible escapes, without redacting; keepNewlines keeps \n.
func Escape(s string, keepNewlines bool) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && keepNewlines:
			b.WriteByte('\n')
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
