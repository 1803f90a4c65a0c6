// Package output handles the -o flag (PrintFlags) and the terminal-dependent parts of printing (color, progress).
package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"
	"sigs.k8s.io/yaml"
)

// Format is a value of -o/--output (see PrintFlags); Write encodes documents as JSON or YAML.
type Format string

const (
	Table Format = "table"
	JSON  Format = "json"
	YAML  Format = "yaml"
)

// Structured reports whether the format is machine-readable.
func (f Format) Structured() bool { return f == JSON || f == YAML }

// Write encodes doc as JSON or YAML, with every string in it redacted (see redacted). The text is
// otherwise faithful: control characters are written as escapes that decode to the same string
// (JSON's \u001b, YAML's "\e"), C1 controls, DEL and bidi overrides included, so that neither a
// terminal nor a YAML parser meets them raw.
func Write(w io.Writer, f Format, doc any) error {
	if !f.Structured() {
		return fmt.Errorf("format %q is not a structured format", f)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if f == JSON {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(redacted(doc)); err != nil {
		return fmt.Errorf("encoding %s: %w", f, err)
	}
	data := escapeJSONRunes(b.Bytes())
	if f == YAML {
		var err error
		if data, err = yaml.JSONToYAML(data); err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
	}
	_, err := w.Write(data)
	return err
}

// escapeJSONRunes writes as \uXXXX the characters encoding/json leaves raw that a terminal may obey
// or a YAML reader refuses: DEL, C1 controls, bidi controls and the non-characters U+FFFE/U+FFFF.
// In JSON text such characters can only stand inside strings, so the escape keeps each string.
func escapeJSONRunes(data []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Bidi_Control, r) || r == 0xfffe || r == 0xffff {
			out = append(out, data[last:i]...)
			out = fmt.Appendf(out, `\u%04x`, r)
			last = i + size
		}
		i += size
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

// IsTerminal reports whether w is a terminal (an *os.File attached to a TTY).
func IsTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ColorEnabled colors only terminals, and follows no-color.org: NO_COLOR with any non-empty value
// turns color off (an empty one does not), and so does TERM=dumb.
func ColorEnabled(w io.Writer) bool {
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" && IsTerminal(w)
}
