// Package output handles the -o flag and the terminal-dependent parts of printing (color, progress).
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
	"sigs.k8s.io/yaml"
)

// Format is a value of -o/--output.
type Format string

const (
	Table Format = "table"
	JSON  Format = "json"
	YAML  Format = "yaml"
)

// Formats lists the accepted -o values, for help text and completion.
var Formats = []string{string(Table), string(JSON), string(YAML)}

// ParseFormat validates an -o value; "" and "wide" read as table, as kubectl users type them.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "table", "wide":
		return Table, nil
	case "json":
		return JSON, nil
	case "yaml":
		return YAML, nil
	}
	return "", fmt.Errorf("unsupported output format %q: use one of %s", s, strings.Join(Formats, "|"))
}

// Structured reports whether the format is machine-readable.
func (f Format) Structured() bool { return f == JSON || f == YAML }

// Write encodes doc as JSON or YAML, with every string in it redacted (see redacted); the
// encoders escape control characters themselves, so the text is otherwise faithful.
func Write(w io.Writer, f Format, doc any) error {
	if f.Structured() {
		doc = redacted(doc)
	}
	switch f {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(doc)
	case YAML:
		data, err := yaml.Marshal(doc)
		if err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
		_, err = w.Write(data)
		return err
	}
	return fmt.Errorf("format %q is not a structured format", f)
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
