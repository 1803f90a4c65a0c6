package findings_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact/redacttest"
)

// FuzzPrinters puts planted secrets and terminal control text into every string of a finding and
// prints it as a table, JSON and YAML: no secret survives any format, the table holds no control
// character, and JSON and YAML decode back to the redacted strings exactly.
func FuzzPrinters(f *testing.F) {
	for form := range uint8(redacttest.Forms) {
		f.Add("level=error msg=x", form, []byte{form, 1}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
	}
	f.Fuzz(func(t *testing.T, text string, form uint8, seed, controls []byte) {
		p := redacttest.Plant(form, seed)
		ctl := redacttest.ControlText(controls)
		carry := func(i int) string { return []string{text, ctl, p.Text, ctl + "\n" + p.Text + "\n" + ctl}[i%4] }
		fs := []findings.Finding{{
			ID: "bsl-unavailable", Severity: findings.SeverityError, Title: carry(0), Message: carry(3),
			Object: carry(1), Remediation: []string{"kubectl get bsl -n velero", carry(3)}, Evidence: []string{carry(2), carry(3)},
			Affected: []string{carry(1)}, CausedBy: []string{carry(3)}, Count: 2,
		}}

		var table bytes.Buffer
		if err := findings.WriteText(&table, fs, findings.TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if r, bad := redacttest.TerminalUnsafe(table.String()); bad {
			t.Fatalf("control character %U reached the table:\n%q", r, table.String())
		}
		for _, format := range []output.Format{output.JSON, output.YAML} {
			var b bytes.Buffer
			if err := output.Write(&b, format, map[string]any{"findings": fs}); err != nil {
				t.Fatal(err)
			}
			var back struct{ Findings []findings.Finding }
			var err error
			if format == output.JSON {
				err = json.Unmarshal(b.Bytes(), &back)
			} else {
				err = yaml.Unmarshal(b.Bytes(), &back)
			}
			if err != nil || len(back.Findings) != 1 {
				t.Fatalf("%s does not decode: %v\n%s", format, err, b.String())
			}
			// JSON carries only UTF-8: each invalid byte comes back as U+FFFD, all else byte for byte.
			if got, want := back.Findings[0].Message, validUTF8(redact.String(fs[0].Message)); got != want {
				t.Fatalf("%s is not faithful:\n got %q\nwant %q", format, got, want)
			}
			assertNoSecret(t, string(format), b.String(), p, text)
			assertNoSecret(t, string(format)+" decoded", strings.Join(append(back.Findings[0].Evidence, back.Findings[0].Message), "\n"), p, text)
		}
		assertNoSecret(t, "table", table.String(), p, text)

		// The kubectl printers: a metav1.Table through cli-runtime's table printer (normal and
		// wide), and the document through jsonpath, go-template and name.
		cells := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{{Name: "A", Type: "string"}, {Name: "B", Type: "string"}, {Name: "C", Type: "string", Priority: 1}},
			Rows: []metav1.TableRow{{Cells: []any{carry(0), carry(1), carry(2)}}, {Cells: []any{carry(3), carry(2), carry(1)}}}}
		doc := fuzzDoc{APIVersion: "aksbackup.kubectl.io/v1alpha1", Kind: "FuzzReport", Findings: fs, Names: []string{carry(1), carry(2), carry(3)}}
		var outs []string
		for _, wide := range []bool{false, true} {
			var b bytes.Buffer
			if err := output.PrintTable(&b, cells, wide); err != nil {
				t.Fatal(err)
			}
			outs = append(outs, b.String())
		}
		for _, format := range []string{`jsonpath={range .findings[*]}{.message}{"\t"}{.evidence}{"\n"}{end}`, `go-template={{range .findings}}{{.object}} {{.remediation}}{{end}}`, "name"} {
			flags := output.NewPrintFlags()
			flags.Output = format
			printer, err := flags.ToPrinter()
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := printer.PrintDocument(&b, doc); err != nil {
				t.Fatal(err)
			}
			outs = append(outs, b.String())
		}
		for i, out := range outs {
			if r, bad := redacttest.TerminalUnsafe(strings.ReplaceAll(out, "\t", " ")); bad {
				t.Fatalf("printer %d: control character %U reached the terminal:\n%q", i, r, out)
			}
			assertNoSecret(t, fmt.Sprintf("printer %d", i), out, p, text)
		}
	})
}

// fuzzDoc is a document for the kubectl printers; -o name prints Names as pods.
type fuzzDoc struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Findings   []findings.Finding `json:"findings"`
	Names      []string           `json:"names"`
}

func (d fuzzDoc) ObjectNames() []output.ObjectName {
	var out []output.ObjectName
	for _, n := range d.Names {
		out = append(out, output.ObjectName{APIVersion: "v1", Kind: "Pod", Name: n})
	}
	return out
}

func assertNoSecret(t *testing.T, where, out string, p redacttest.Planted, around string) {
	t.Helper()
	const piece = 12
	for _, secret := range p.Secrets {
		for i := 0; i+piece <= len(secret); i++ {
			if s := secret[i : i+piece]; strings.Contains(out, s) && !strings.Contains(around, s) && !strings.Contains(redacttest.ControlText(nil), s) {
				t.Fatalf("%s: %s: %q of secret %q survived in\n%s", where, p.Form, s, secret, out)
			}
		}
	}
}

// validUTF8 replaces each invalid byte of s with U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
