package findings

import (
	"bytes"
	"strings"
	"testing"
)

var (
	rootCause = Define(Definition{ID: "test-root", Severity: SeverityWarning, Title: "root"})
	middle    = Define(Definition{ID: "test-middle", Severity: SeverityError, Title: "middle", ExplainedBy: []string{"test-root"}})
	symptom   = Define(Definition{ID: "test-symptom", Severity: SeverityError, Title: "symptom", ExplainedBy: []string{"test-middle", "test-root"}})
	loner     = Define(Definition{ID: "test-loner", Severity: SeverityInfo, Title: "loner"})
)

func TestRank(t *testing.T) {
	tests := []struct {
		name      string
		in        []Finding
		wantOrder []string
		// wantCause maps "id@component" to its expected CausedBy.
		wantCause map[string]string
	}{
		{
			name:      "root cause first even when less severe",
			in:        []Finding{symptom.New("o", ""), loner.New("o", ""), rootCause.New("o", ""), middle.New("o", "")},
			wantOrder: []string{"test-root", "test-loner", "test-middle", "test-symptom"},
			wantCause: map[string]string{"test-symptom@": "test-middle,test-root", "test-middle@": "test-root"},
		},
		{
			name:      "without the cause, a symptom stands alone",
			in:        []Finding{loner.New("o", ""), symptom.New("o", "")},
			wantOrder: []string{"test-symptom", "test-loner"},
			wantCause: map[string]string{"test-symptom@": ""},
		},
		{
			name: "a cause explains only its own component",
			in: []Finding{
				withComponent(symptom.New("b", ""), "b"),
				withComponent(rootCause.New("a", ""), "a"),
				withComponent(symptom.New("a", ""), "a"),
			},
			wantOrder: []string{"test-root", "test-symptom", "test-symptom"},
			wantCause: map[string]string{"test-symptom@a": "test-root", "test-symptom@b": ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Rank(tc.in)
			var order []string
			for _, f := range got {
				order = append(order, f.ID)
				if want, ok := tc.wantCause[f.ID+"@"+f.Component]; ok && strings.Join(f.CausedBy, ",") != want {
					t.Errorf("%s@%s caused by %v, want %q", f.ID, f.Component, f.CausedBy, want)
				}
			}
			if strings.Join(order, " ") != strings.Join(tc.wantOrder, " ") {
				t.Errorf("order %v, want %v", order, tc.wantOrder)
			}
		})
	}
}

func withComponent(f Finding, c string) Finding { f.Component = c; return f }

func TestDefineRejectsDuplicates(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a duplicate ID must panic at definition time")
		}
	}()
	Define(Definition{ID: "test-root", Title: "again"})
}

func TestWriteTextAndSummary(t *testing.T) {
	fs := Rank([]Finding{symptom.New("deployment/x", "pods lack it", "fix one", "fix two"), rootCause.New("sa/x", "")})
	var b bytes.Buffer
	if err := WriteText(&b, fs, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"WARN  test-root  sa/x", "ERROR test-symptom  deployment/x", "pods lack it", "fix: fix one", "     fix two", "explained by: test-root"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colors without TextOptions.Color")
	}
	if got := SummaryLine(Summarize(fs)); got != "1 error, 1 warning" {
		t.Errorf("summary %q", got)
	}
	if got := SummaryLine(Summary{Infos: 2}); got != "no problems found" {
		t.Errorf("summary %q", got)
	}
}

func TestCatalogIsSorted(t *testing.T) {
	c := Catalog()
	for i := 1; i < len(c); i++ {
		if c[i-1].ID >= c[i].ID {
			t.Fatalf("catalog not sorted at %s", c[i].ID)
		}
	}
	if _, ok := Lookup("test-root"); !ok {
		t.Fatal("lookup of a defined ID failed")
	}
}
