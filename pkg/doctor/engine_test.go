package doctor

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

var (
	rootDef    = findings.Define(findings.Definition{ID: "doctortest-root", Layer: findings.LayerCredential, Title: "root"})
	effectDef  = findings.Define(findings.Definition{ID: "doctortest-effect", Layer: findings.LayerStorage, Title: "effect", ExplainedBy: []string{"doctortest-root"}})
	warningDef = findings.Define(findings.Definition{ID: "doctortest-warning", Severity: findings.SeverityWarning, Layer: findings.LayerConfig, Title: "warning"})
)

func ok(context.Context) Outcome { return Outcome{Detail: "fine"} }

func failing(def *findings.Definition) func(context.Context) Outcome {
	return func(context.Context) Outcome { return Outcome{Findings: []findings.Finding{def.New("obj", "broken")}} }
}

func byID(rs []Result) map[string]Result {
	m := map[string]Result{}
	for _, r := range rs {
		m[r.ID] = r
	}
	return m
}

func TestBlockedDependentsAreSkippedWithTheRootCause(t *testing.T) {
	ran := map[string]*atomic.Bool{"d": {}, "e": {}}
	mark := func(id string) func(context.Context) Outcome {
		return func(context.Context) Outcome { ran[id].Store(true); return Outcome{} }
	}
	g, err := NewGraph(
		Check{ID: "a", Run: ok},
		Check{ID: "b", Needs: []string{"a"}, Run: failing(rootDef)},
		Check{ID: "c", Needs: []string{"a"}, Run: ok},
		Check{ID: "d", Needs: []string{"b"}, Run: mark("d")},
		Check{ID: "e", Needs: []string{"d", "c"}, Run: mark("e")},
		Check{ID: "f", After: []string{"b"}, Run: failing(effectDef)},
	)
	if err != nil {
		t.Fatal(err)
	}
	results, ranked, waves := g.Run(context.Background())
	got := byID(results)
	for id, want := range map[string]Status{"a": StatusOK, "b": StatusFailed, "c": StatusOK, "d": StatusSkipped, "e": StatusSkipped, "f": StatusFailed} {
		if got[id].Status != want {
			t.Errorf("check %s: status %s, want %s", id, got[id].Status, want)
		}
	}
	for _, id := range []string{"d", "e"} {
		if got[id].BlockedBy != "doctortest-root" {
			t.Errorf("check %s blocked by %q, want the root finding doctortest-root", id, got[id].BlockedBy)
		}
		if ran[id].Load() {
			t.Errorf("check %s ran although its prerequisite failed", id)
		}
	}
	if waves != 3 {
		t.Errorf("waves = %d, want 3 (a, b|c, f)", waves)
	}
	if len(ranked) != 2 || ranked[0].ID != "doctortest-root" || len(ranked[1].CausedBy) != 1 {
		t.Fatalf("ranked = %+v", ranked)
	}
	rep := NewReport(results, ranked, waves, "a")
	if rep.Verdict != Unhealthy || !strings.Contains(rep.Line(), "root cause doctortest-root (broken)") {
		t.Errorf("verdict line %q", rep.Line())
	}
	if len(rep.RootCauses) != 1 {
		t.Errorf("root causes %v; the explained effect must not be one", rep.RootCauses)
	}
}

func TestIndependentChecksRunAtOnce(t *testing.T) {
	// Each of the three waits for the others to start: run one at a time, they would never finish.
	var started atomic.Int32
	all := make(chan struct{})
	wait := func(ctx context.Context) Outcome {
		if started.Add(1) == 3 {
			close(all)
		}
		select {
		case <-all:
			return Outcome{}
		case <-time.After(10 * time.Second):
			return Outcome{Err: errors.New("ran alone")}
		}
	}
	g, err := NewGraph(Check{ID: "x", Run: wait}, Check{ID: "y", Run: wait}, Check{ID: "z", Run: wait})
	if err != nil {
		t.Fatal(err)
	}
	results, _, waves := g.Run(context.Background())
	for _, r := range results {
		if r.Status != StatusOK {
			t.Errorf("%s: %s %s", r.ID, r.Status, r.Detail)
		}
	}
	if waves != 1 {
		t.Errorf("waves = %d, want 1", waves)
	}
}

func TestNotApplicableDoesNotBlockButSkipDoes(t *testing.T) {
	g, err := NewGraph(
		Check{ID: "ext", Run: func(context.Context) Outcome { return Outcome{NotApplicable: "no extension for velero"} }},
		Check{ID: "azure", Run: func(context.Context) Outcome { return Outcome{Skip: "no Azure access"} }},
		Check{ID: "creds", Needs: []string{"ext"}, Run: ok},
		Check{ID: "roles", Needs: []string{"azure"}, Run: ok},
	)
	if err != nil {
		t.Fatal(err)
	}
	results, ranked, waves := g.Run(context.Background())
	got := byID(results)
	if got["creds"].Status != StatusOK || got["roles"].Status != StatusSkipped || got["roles"].BlockedBy != "azure" {
		t.Errorf("creds %+v, roles %+v", got["creds"], got["roles"])
	}
	rep := NewReport(results, ranked, waves, "")
	if rep.Verdict != Healthy || !strings.Contains(rep.Summary, "2 skipped") {
		t.Errorf("verdict %q", rep.Line())
	}
}

func TestGraphRefusesCyclesAndUnknownChecks(t *testing.T) {
	if _, err := NewGraph(Check{ID: "a", Needs: []string{"b"}}, Check{ID: "b", After: []string{"a"}}); err == nil {
		t.Error("a cycle was accepted")
	}
	if _, err := NewGraph(Check{ID: "a", Needs: []string{"nope"}}); err == nil {
		t.Error("an unknown prerequisite was accepted")
	}
	if _, err := NewGraph(Check{ID: "a"}, Check{ID: "a"}); err == nil {
		t.Error("a duplicate check was accepted")
	}
}

func TestCouldNotRunAndText(t *testing.T) {
	g, _ := NewGraph(
		Check{ID: "kube-api", Title: "Kubernetes API server", Run: func(context.Context) Outcome { return Outcome{Err: errors.New("connection refused")} }},
		Check{ID: "wiring", Needs: []string{"kube-api"}, Run: ok},
		Check{ID: "storage", Run: failing(warningDef)},
	)
	results, ranked, waves := g.Run(context.Background())
	rep := NewReport(results, ranked, waves, "kube-api")
	if rep.Verdict != CouldNotRun || !strings.Contains(rep.Line(), "connection refused") {
		t.Errorf("verdict %q", rep.Line())
	}
	var b bytes.Buffer
	if err := WriteText(&b, rep, findings.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{"COULD-NOT-RUN: Kubernetes API server: connection refused", "wiring", "blocked by kube-api", "Warnings:", "doctortest-warning"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "COULD-NOT-RUN") != 0 {
		t.Errorf("the verdict is not the first line:\n%s", text)
	}
}

func TestRootCausesAreOncePerID(t *testing.T) {
	a := rootDef.New("storageAccount/x", "from ARM")
	b := rootDef.New("backupstoragelocation/ns/default", "from the BSL")
	got := RootCauses(findings.Rank([]findings.Finding{a, b}))
	if len(got) != 1 || len(got[0].Evidence) != 1 || !strings.Contains(got[0].Evidence[0], "also seen on") {
		t.Fatalf("root causes %+v", got)
	}
}
