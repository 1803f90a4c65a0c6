package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
)

type testDoc struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Name       string   `json:"name"`
	Message    string   `json:"message"`
	Password   string   `json:"password"`
	Objects    []string `json:"objects"`
}

func (d testDoc) ObjectNames() []ObjectName {
	var out []ObjectName
	for _, o := range d.Objects {
		out = append(out, ObjectName{APIVersion: "velero.io/v1", Kind: "BackupStorageLocation", Name: o})
	}
	return out
}

var doc = testDoc{APIVersion: "aksbackup.kubectl.io/v1alpha1", Kind: "Test", Name: "a\x1b[2J\u009bb\u202e", Message: "line\tone\nBearer abcdefghijklmnopqrstuvwxyz0123",
	Password: "hunter2hunter2", Objects: []string{"default", "evil\x1b]0;t\x07"}}

func printerFor(t *testing.T, flags *PrintFlags, args ...string) (*Printer, error) {
	t.Helper()
	cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
	flags.AddFlags(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return flags.ToPrinter()
}

func print(t *testing.T, args ...string) string {
	t.Helper()
	p, err := printerFor(t, NewPrintFlags(), args...)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.PrintDocument(&b, doc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPrintFlagsChooseAndRefuse(t *testing.T) {
	tests := []struct {
		args       []string
		flags      *PrintFlags
		human      bool
		wide       bool
		structured bool
		extra      bool
		err        string
	}{
		{args: nil, flags: NewPrintFlags(), human: true},
		{args: []string{"-o", "table"}, flags: NewPrintFlags(), human: true},
		{args: []string{"-o", "wide"}, flags: NewPrintFlags(), err: "-o wide is not available"},
		{args: []string{"-o", "wide"}, flags: NewPrintFlags().WithoutWide("the version has no columns"), err: "the version has no columns"},
		{args: []string{"-o", "wide"}, flags: NewPrintFlags().WithWide(), human: true, wide: true},
		{args: []string{"-o", "json"}, flags: NewPrintFlags(), structured: true},
		{args: []string{"-o", "YAML"}, flags: NewPrintFlags(), structured: true},
		{args: []string{"-o", "name"}, flags: NewPrintFlags(), structured: true},
		{args: []string{"-o", "name"}, flags: NewPrintFlags().WithoutName("a log report names no object"), err: "a log report names no object"},
		{args: []string{"-o", "jsonpath={.name}"}, flags: NewPrintFlags(), structured: true},
		{args: []string{"-o", "jsonpath={.name"}, flags: NewPrintFlags(), err: "error parsing jsonpath"},
		{args: []string{"-o", "jsonpath-file=/nonexistent/x"}, flags: NewPrintFlags(), err: "/nonexistent/x"},
		{args: []string{"-o", "go-template={{.name}}"}, flags: NewPrintFlags(), structured: true},
		{args: []string{"--template", "{{.name}}"}, flags: NewPrintFlags(), structured: true},
		{args: []string{"-o", "helm-values"}, flags: NewPrintFlags().WithExtra("helm-values"), extra: true},
		{args: []string{"-o", "helm-values"}, flags: NewPrintFlags(), err: "unsupported output format \"helm-values\""},
		{args: []string{"-o", "xml"}, flags: NewPrintFlags(), err: "use one of table|json|yaml|name|jsonpath=..."},
		{args: []string{"-o", "kyaml"}, flags: NewPrintFlags(), err: "unsupported output format"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			p, err := printerFor(t, tt.flags, tt.args...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("want error %q, got %v", tt.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Human() != tt.human || p.Wide() != tt.wide || p.Structured() != tt.structured || p.Extra() != tt.extra {
				t.Errorf("human %v wide %v structured %v extra %v", p.Human(), p.Wide(), p.Structured(), p.Extra())
			}
		})
	}
}

func TestPrintDocumentJSONAndYAMLAreFaithfulAndRedacted(t *testing.T) {
	for _, format := range []string{"json", "yaml"} {
		out := print(t, "-o", format)
		var back testDoc
		var err error
		if format == "json" {
			err = json.Unmarshal([]byte(out), &back)
		} else {
			err = yaml.Unmarshal([]byte(out), &back)
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, out)
		}
		if back.Name != doc.Name || back.Password != redact.Mask || strings.Contains(out, "abcdefghijklmnopqrstuvwxyz0123") || back.Kind != "Test" {
			t.Errorf("%s: got %+v\n%s", format, back, out)
		}
		if strings.ContainsAny(out, "\x1b\u009b") {
			t.Errorf("%s: a raw control character was printed: %q", format, out)
		}
	}
	if out := print(t, "-o", "json"); !strings.HasPrefix(out, "{\n    \"apiVersion\": \"aksbackup.kubectl.io/v1alpha1\",\n    \"kind\": \"Test\",") {
		t.Errorf("json keeps the document's field order:\n%s", out)
	}
}

func TestPrintDocumentTemplatesEscapeValuesNotTheTemplate(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-o", `jsonpath={.name}{"\t"}{.password}{"\n"}`}, "a\\x1b[2J\\u009bb\\u202e\t" + redact.Mask + "\n"},
		{[]string{"-o", `go-template={{.message}}`}, `line\tone\nBearer ` + redact.Mask},
		{[]string{"--template", `{{.kind}}`}, "Test"},
		{[]string{"-o", "name"}, "backupstoragelocation.velero.io/default\nbackupstoragelocation.velero.io/evil\\x1b]0;t\\x07\n"},
	}
	for _, tt := range tests {
		if got := print(t, tt.args...); got != tt.want {
			t.Errorf("%v:\n got %q\nwant %q", tt.args, got, tt.want)
		}
	}
	if got := print(t, "-o", "jsonpath-as-json={.name}"); strings.ContainsAny(got, "\x1b\u009b\u202e") {
		t.Errorf("jsonpath-as-json printed a control character: %q", got)
	}
}

func TestPrintDocumentRefusesNamelessDocuments(t *testing.T) {
	p, err := printerFor(t, NewPrintFlags(), "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.PrintDocument(&bytes.Buffer{}, struct{ Kind string }{"X"}); err == nil {
		t.Fatal("a document without object names printed -o name")
	}
	p, _ = printerFor(t, NewPrintFlags(), "-o", "json")
	if err := p.PrintDocument(&bytes.Buffer{}, struct{ Name string }{"x"}); err == nil || !strings.Contains(err.Error(), "no apiVersion and kind") {
		t.Fatalf("a document without a kind: %v", err)
	}
}

func TestPrintTable(t *testing.T) {
	table := &metav1.Table{
		ColumnDefinitions: []metav1.TableColumnDefinition{{Name: "Name", Type: "string"}, {Name: "Phase", Type: "string"}, {Name: "Detail", Type: "string", Priority: 1}},
		Rows: []metav1.TableRow{
			{Cells: []any{"default\tinjected", "Available", "x"}},
			{Cells: []any{"evil\x1b[2J", "AccountKey=p5Mzntk8+tZ1wxo5qPM3bnG+J+t6xeQPlt9lq//KjYj7hMuZYRLdn3fI7pJnur8//g3T+XKo0WXCjU3tOv+veg==", 3}},
		},
	}
	var normal, wide bytes.Buffer
	if err := PrintTable(&normal, table, false); err != nil {
		t.Fatal(err)
	}
	if err := PrintTable(&wide, table, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(normal.String(), "DETAIL") || !strings.Contains(wide.String(), "DETAIL") || !strings.Contains(wide.String(), "3\n") {
		t.Errorf("priority 1 columns belong to wide only:\n%s\n%s", normal.String(), wide.String())
	}
	for _, out := range []string{normal.String(), wide.String()} {
		if strings.ContainsAny(out, "\x1b") || strings.Contains(out, "p5Mzntk8+tZ1wxo5") || !strings.Contains(out, `default\tinjected`) || !strings.Contains(out, `evil\x1b[2J`) {
			t.Errorf("cells are not escaped and redacted:\n%q", out)
		}
	}
	if table.Rows[1].Cells[0] != "evil\x1b[2J" {
		t.Error("PrintTable changed the caller's table")
	}
}
