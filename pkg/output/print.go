package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
)

// Wide is -o wide: the table with its extra columns (those of priority 1).
const Wide Format = "wide"

// PrintFlags is -o/--output for a command that prints one document: its table (and -o wide when
// the table has extra columns), cli-runtime's json, yaml, name, jsonpath and go-template printers,
// and any format of the command's own (such as helm-values). A format the command does not have
// is refused when the flags are validated, never printed as the table.
type PrintFlags struct {
	Output string

	kube          *genericclioptions.PrintFlags
	wide          bool
	extra         []string
	noNameReason  string
	noWideReason  string
	templateIsSet func() bool
}

// NewPrintFlags returns -o with the table as default, without wide (see WithWide) and with -o name
// (see WithoutName).
func NewPrintFlags() *PrintFlags {
	kube := genericclioptions.NewPrintFlags("")
	return &PrintFlags{kube: kube}
}

// WithWide says that the command's table has wide columns.
func (f *PrintFlags) WithWide() *PrintFlags { f.wide = true; return f }

// WithoutWide says why -o wide has nothing to add: it is refused with that reason.
func (f *PrintFlags) WithoutWide(reason string) *PrintFlags { f.noWideReason = reason; return f }

// WithoutName says why -o name is meaningless for the command's document: it is refused with that reason.
func (f *PrintFlags) WithoutName(reason string) *PrintFlags { f.noNameReason = reason; return f }

// WithExtra adds formats the command prints itself (Printer.Extra reports them).
func (f *PrintFlags) WithExtra(formats ...string) *PrintFlags {
	f.extra = append(f.extra, formats...)
	return f
}

// WithDefault sets the format used without -o.
func (f *PrintFlags) WithDefault(format string) *PrintFlags { f.Output = format; return f }

// AllowedFormats lists the accepted -o values, for help text and completion.
func (f *PrintFlags) AllowedFormats() []string {
	formats := []string{string(Table)}
	if f.wide {
		formats = append(formats, string(Wide))
	}
	formats = append(formats, string(JSON), string(YAML))
	if f.noNameReason == "" {
		formats = append(formats, "name")
	}
	formats = append(formats, "jsonpath=...", "jsonpath-file=...", "jsonpath-as-json=...", "go-template=...", "go-template-file=...")
	return append(formats, f.extra...)
}

// AddFlags adds -o/--output, --template and --allow-missing-template-keys (kubectl's flags).
func (f *PrintFlags) AddFlags(cmd *cobra.Command) {
	f.kube.TemplatePrinterFlags.AddFlags(cmd)
	cmd.Flags().StringVarP(&f.Output, "output", "o", f.Output, "Output format: "+strings.Join(f.AllowedFormats(), "|"))
	completions := slices.DeleteFunc(f.AllowedFormats(), func(s string) bool { return strings.HasSuffix(s, "...") })
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(completions, cobra.ShellCompDirectiveNoFileComp))
	f.templateIsSet = func() bool { return cmd.Flags().Changed("template") }
}

// ToPrinter validates -o (and --template) and returns the printer; a bad value is the user's
// mistake, to report as bad input.
func (f *PrintFlags) ToPrinter() (*Printer, error) {
	format := f.Output
	lower := strings.ToLower(format)
	templateSet := f.templateIsSet != nil && f.templateIsSet()
	switch {
	case slices.Contains(f.extra, format):
		return &Printer{format: Format(format), extra: true}, nil
	case lower == "" && templateSet:
		format = "go-template"
	case lower == "" || lower == string(Table):
		return &Printer{format: Table}, nil
	case lower == string(Wide) && f.wide:
		return &Printer{format: Wide}, nil
	case lower == string(Wide):
		reason := f.noWideReason
		if reason == "" {
			reason = "this command's table has no extra columns"
		}
		return nil, fmt.Errorf("-o wide is not available: %s; use -o json or -o yaml for every detail", reason)
	case lower == "name" && f.noNameReason != "":
		return nil, fmt.Errorf("-o name is not available: %s; use -o json, -o yaml or -o jsonpath", f.noNameReason)
	case lower == "json" || lower == "yaml" || lower == "name":
		format = lower // kyaml and other printers cli-runtime may add stay out: their escaping is not checked here
	}
	if !strings.Contains(format, "template") && !strings.Contains(format, "jsonpath") && format != "json" && format != "yaml" && format != "name" {
		return nil, fmt.Errorf("unsupported output format %q: use one of %s", f.Output, strings.Join(f.AllowedFormats(), "|"))
	}
	f.kube.OutputFormat = &format
	p, err := f.kube.ToPrinter()
	if err != nil {
		if genericclioptions.IsNoCompatiblePrinterError(err) {
			return nil, fmt.Errorf("unsupported output format %q: use one of %s", f.Output, strings.Join(f.AllowedFormats(), "|"))
		}
		return nil, fmt.Errorf("-o %s: %w", f.Output, err)
	}
	name, _, _ := strings.Cut(format, "=")
	return &Printer{format: Format(name), resource: p}, nil
}

// Printer prints a command's result in the format -o chose.
type Printer struct {
	format   Format
	extra    bool
	resource printers.ResourcePrinter
}

// Format is the chosen format: table, wide, json, yaml, name, jsonpath..., go-template... or an
// extra format's name.
func (p *Printer) Format() Format { return p.format }

// Human reports whether the command prints its table (normal or wide) and its human text.
func (p *Printer) Human() bool { return p.format == Table || p.format == Wide }

// Wide reports -o wide.
func (p *Printer) Wide() bool { return p.format == Wide }

// Extra reports whether the format is the command's own (WithExtra).
func (p *Printer) Extra() bool { return p.extra }

// Structured reports whether the document is printed by a cli-runtime printer (json, yaml, name,
// jsonpath, go-template): the command's stdout then carries nothing else.
func (p *Printer) Structured() bool { return p.resource != nil }

// ObjectNamer is a document about Kubernetes objects: -o name prints them, as kind.group/name.
type ObjectNamer interface {
	ObjectNames() []ObjectName
}

// ObjectName names one object for -o name.
type ObjectName struct {
	APIVersion string
	Kind       string
	Name       string
}

// PrintDocument prints doc (a struct with apiVersion and kind) with the chosen cli-runtime printer.
// Every string is redacted first; JSON and YAML stay faithful to the redacted strings (control
// characters as escapes, see Write), and jsonpath, go-template and name output, which is plain
// text, gets each value escaped for a terminal (Line) while the template's own text is kept.
func (p *Printer) PrintDocument(w io.Writer, doc any) error {
	if p.resource == nil {
		return fmt.Errorf("format %q does not print documents", p.format)
	}
	var b bytes.Buffer
	switch {
	case p.format == "name":
		namer, ok := doc.(ObjectNamer)
		if !ok {
			return fmt.Errorf("-o name is not available for %T", doc)
		}
		list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "List"}}
		for _, n := range namer.ObjectNames() {
			item := unstructured.Unstructured{}
			item.SetAPIVersion(n.APIVersion)
			item.SetKind(n.Kind)
			item.SetName(Line(n.Name))
			list.Items = append(list.Items, item)
		}
		if err := p.resource.PrintObj(list, &b); err != nil {
			return err
		}
	case p.format == JSON || p.format == YAML:
		obj, err := newDocument(redacted(doc))
		if err != nil {
			return err
		}
		// YAML goes through JSON too (as cli-runtime's YAML printer does), with the escapes that
		// keep a YAML reader from meeting raw C1 or bidi controls.
		if err := (&printers.JSONPrinter{}).PrintObj(obj, &b); err != nil {
			return err
		}
		data := escapeJSONRunes(b.Bytes())
		if p.format == YAML {
			if data, err = yaml.JSONToYAML(data); err != nil {
				return fmt.Errorf("encoding YAML: %w", err)
			}
		}
		b = *bytes.NewBuffer(data)
	default:
		obj, err := newDocument(mapStrings(doc, func(name, s string) string { return escape(redact.Value(name, s), false) }))
		if err != nil {
			return err
		}
		if err := p.resource.PrintObj(obj, &b); err != nil {
			return err
		}
		if p.format == "jsonpath-as-json" {
			b = *bytes.NewBuffer(escapeJSONRunes(b.Bytes()))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// document makes any struct with apiVersion and kind a runtime.Object for cli-runtime's
// printers, keeping its own JSON form (field order included).
type document struct {
	value any
	gvk   schema.GroupVersionKind
}

func newDocument(v any) (*document, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding the document: %w", err)
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(data, &tm); err != nil || tm.Kind == "" || tm.APIVersion == "" {
		return nil, fmt.Errorf("the document %T has no apiVersion and kind", v)
	}
	return &document{value: v, gvk: tm.GroupVersionKind()}, nil
}

func (d *document) GetObjectKind() schema.ObjectKind            { return d }
func (d *document) DeepCopyObject() runtime.Object              { c := *d; return &c }
func (d *document) SetGroupVersionKind(schema.GroupVersionKind) {}
func (d *document) GroupVersionKind() schema.GroupVersionKind   { return d.gvk }
func (d *document) MarshalJSON() ([]byte, error)                { return json.Marshal(d.value) }

// PrintTable prints t with cli-runtime's table printer, as kubectl get does: columns of priority 1
// only with wide. Every string cell is redacted and escaped (Line) first, so that no tab shifts a
// column and no escape sequence reaches the terminal; an empty table prints nothing.
func PrintTable(w io.Writer, t *metav1.Table, wide bool) error {
	safe := *t
	safe.Rows = make([]metav1.TableRow, len(t.Rows))
	for i, row := range t.Rows {
		cells := make([]any, len(row.Cells))
		for j, c := range row.Cells {
			if s, ok := c.(string); ok {
				c = Line(s)
			}
			cells[j] = c
		}
		safe.Rows[i] = metav1.TableRow{Cells: cells}
	}
	return printers.NewTablePrinter(printers.PrintOptions{Wide: wide}).PrintObj(&safe, w)
}
