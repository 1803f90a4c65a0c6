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
