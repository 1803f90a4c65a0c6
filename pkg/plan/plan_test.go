package plan

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParseSkip(t *testing.T) {
	phases := []Phase{{Name: "a"}, {Name: "b"}}
	if got, err := ParseSkip(phases, []string{"a", " "}); err != nil || !got["a"] || got["b"] {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := ParseSkip(phases, []string{"c"}); err == nil || !strings.Contains(err.Error(), "the phases are a, b") {
		t.Fatalf("err = %v", err)
	}
}

func TestExecuteAndTable(t *testing.T) {
	var ran []string
	ok := func(name string) func(context.Context, bool) error {
		return func(context.Context, bool) error { ran = append(ran, name); return nil }
	}
	p := &Plan{}
	p.Add(
		&Change{Phase: "one", Action: "annotate", Object: "sa/x", Field: "k", To: "v", State: Planned, Apply: ok("1")},
		&Change{Phase: "two", Action: "rollout", Object: "deploy/x", Reason: "automatic", State: Planned},
		&Change{Phase: "two", Action: "label", Object: "deploy/y", State: Planned, Apply: func(context.Context, bool) error { return errors.New("boom") }},
		&Change{Phase: "three", Action: "restart", Object: "deploy/z", State: Planned, Apply: ok("3")},
	)
	if p.Empty() {
		t.Fatal("plan with writes reported empty")
	}
	err := p.Execute(context.Background(), false)
	if err == nil || !strings.Contains(err.Error(), "phase two: label deploy/y: boom") {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(ran, ",") != "1" {
		t.Fatalf("ran %v: nothing may run after a failure", ran)
	}
	var b bytes.Buffer
	if err := p.WriteTable(&b, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"k: <none> -> v", "applied", "failed", "not-applied", "automatic"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	if (&Plan{Changes: []*Change{{Action: "rollout"}}}).Empty() != true {
		t.Error("a plan of automatic changes only is empty")
	}
}

// Object names and values come from the cluster and ARM: the table must not pass a terminal escape,
// a tab that shifts a column, or a secret-looking value through.
func TestTableEscapesHostileValues(t *testing.T) {
	p := &Plan{Changes: []*Change{{Phase: "service-account", Action: "annotate", Object: "serviceaccount/evil\x1b]52;c;aGk=\x07\tname",
		Field: "azure.workload.identity/client-id", From: "AccountKey=" + strings.Repeat("A", 86) + "==", To: "x\r\ny", State: Planned, Apply: func(context.Context, bool) error { return nil }}}}
	var b bytes.Buffer
	if err := p.WriteTable(&b, true); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"\x1b", "\x07", "\r", strings.Repeat("A", 86)} {
		if strings.Contains(out, bad) {
			t.Errorf("table passes %q through:\n%q", bad, out)
		}
	}
	if lines := strings.Count(strings.TrimRight(out, "\n"), "\n"); lines != 1 {
		t.Errorf("want a header and one row, got %d line breaks:\n%s", lines, out)
	}
}
