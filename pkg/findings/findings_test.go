package findings

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var (
	rootCause = Define(Definition{ID: "test-root", Severity: SeverityWarning, Title: "root"})
	middle    = Define(Definition{ID: "test-middle", Severity: SeverityError, Title: "middle", ExplainedBy: []string{"test-root"}})
	symptom   = Define(Definition{ID: "test-symptom", Severity: SeverityError, Title: "symptom", ExplainedBy: []string{"test-middle", "test-root"}})
	loner     = Define(Definition{ID: "test-loner", Severity: SeverityInfo, Title: "loner"})

	platformErr = Define(Definition{ID: "test-platform", Severity: SeverityError, Layer: LayerPlatform, Title: "platform"})
	storageErr  = Define(Definition{ID: "test-storage", Severity: SeverityError, Layer: LayerStorage, Title: "storage"})
	storageErr2 = Define(Definition{ID: "test-storage2", Severity: SeverityError, Layer: LayerStorage, Title: "storage 2"})
	entraErr    = Define(Definition{ID: "test-entra", Severity: SeverityError, Layer: LayerEntra, Title: "entra"})
	outcome     = Define(Definition{ID: "test-outcome", Severity: SeverityError, Layer: LayerSymptom, Title: "outcome"})
)

func at(f Finding, sec int, affected ...string) Finding {
	t := time.Unix(int64(sec), 0).UTC()
	f.FirstSeen, f.Affected = &t, affected
	return f
}

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
			wantCause: map[string]string{"test-symptom@": "test-root,test-middle", "test-middle@": "test-root"},
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
		{
			name:      "lower layer first among unrelated errors, whatever the ID or the order found",
			in:        []Finding{storageErr.New("o", ""), entraErr.New("o", ""), platformErr.New("o", "")},
			wantOrder: []string{"test-platform", "test-entra", "test-storage"},
		},
		{
			name:      "severity before layer: a resolved (warning) platform finding follows a live storage error",
			in:        []Finding{withSeverity(platformErr.New("o", ""), SeverityWarning), storageErr.New("o", "")},
			wantOrder: []string{"test-storage", "test-platform"},
		},
		{
			name:      "same layer and severity: the earlier first seen leads",
			in:        []Finding{at(storageErr.New("o", ""), 20), storageErr2.New("o", ""), at(storageErr2.New("p", ""), 10)},
			wantOrder: []string{"test-storage2", "test-storage", "test-storage2"},
		},
		{
			name: "a symptom comes last, explained by the errors of its own location",
			in: []Finding{
				at(outcome.New("o", ""), 1, "bsl/ns/a"),
				at(storageErr.New("o", ""), 5, "bsl/a"),
				at(entraErr.New("o", ""), 2, "bsl/b"),
				at(withSeverity(platformErr.New("o", ""), SeverityWarning), 3),
			},
			wantOrder: []string{"test-entra", "test-storage", "test-platform", "test-outcome"},
			wantCause: map[string]string{"test-outcome@": "test-storage"},
		},
		{
			name:      "a cause that names no location explains every symptom",
			in:        []Finding{at(outcome.New("o", ""), 1, "bsl/a"), platformErr.New("o", "")},
			wantOrder: []string{"test-platform", "test-outcome"},
			wantCause: map[string]string{"test-outcome@": "test-platform"},
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

func withSeverity(f Finding, s Severity) Finding { f.Severity = s; return f }

func TestLayerNames(t *testing.T) {
	for l := LayerPlatform; l <= LayerSymptom; l++ {
		if strings.HasPrefix(l.String(), "layer(") {
			t.Errorf("layer %d has no name", l)
		}
	}
	if b, _ := LayerEntra.MarshalText(); string(b) != "entra" {
		t.Errorf("LayerEntra marshals as %q", b)
	}
}

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
