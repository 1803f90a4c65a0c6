// Package doctor runs checks as a dependency graph: every check whose prerequisites are done runs at
// once, a failed prerequisite marks its dependents skipped ("blocked by" its root cause) instead of
// letting them pile up errors, and all findings are ranked together so the report names one root
// cause first.
package doctor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

// Status is how a check ended.
type Status string

const (
	StatusOK      Status = "ok"
	StatusWarning Status = "warning" // findings, none of them errors
	StatusFailed  Status = "failed"  // at least one error finding
	StatusSkipped Status = "skipped" // blocked by a prerequisite, or unable to run here (no access, no Azure)
	StatusNA      Status = "n/a"     // does not apply to this product or setup; dependents still run
	StatusError   Status = "error"   // could not run
)

// blocks reports whether dependents that need a check in this state can run.
func (s Status) blocks() bool {
	return s == StatusFailed || s == StatusSkipped || s == StatusError
}

// Check is one node of the graph.
type Check struct {
	ID    string
	Title string
	// Needs are prerequisites: if one fails, this check is skipped, blocked by it.
	Needs []string
	// After are checks whose results this one reads when they are there, without depending on them.
	After []string
	// Local checks only look at what others read; they send nothing, so they add no wave.
	Local bool
	Run   func(ctx context.Context) Outcome
}

// Outcome is what a check returns.
type Outcome struct {
	Findings []findings.Finding
	// Detail is one line for the check table.
	Detail string
	// Skip, when set, says why the check could not run here (no Azure access, no RBAC to read pods);
	// its dependents are skipped too.
	Skip string
	// NotApplicable, when set, says why the check does not apply; its dependents still run.
	NotApplicable string
	// Err means the check could not run at all.
	Err error
}

// Result is one row of the check table.
type Result struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
	// BlockedBy names the finding (or, failing that, the check) that kept this check from running.
	BlockedBy string   `json:"blockedBy,omitempty"`
	Wave      int      `json:"wave,omitempty"`
	Findings  []string `json:"findings,omitempty"`
	Duration  string   `json:"duration,omitempty"`
	// rootID is what dependents blocked by this check name.
	rootID string
}

// Graph is a validated set of checks.
type Graph struct {
	checks []Check
	index  map[string]int
}

// NewGraph checks that IDs are unique and every prerequisite exists, and that there is no cycle.
func NewGraph(checks ...Check) (*Graph, error) {
	g := &Graph{checks: checks, index: map[string]int{}}
	for i, c := range checks {
		if _, dup := g.index[c.ID]; dup {
			return nil, fmt.Errorf("doctor: check %q defined twice", c.ID)
		}
		g.index[c.ID] = i
	}
	for _, c := range checks {
		for _, dep := range append(append([]string{}, c.Needs...), c.After...) {
			if _, ok := g.index[dep]; !ok {
				return nil, fmt.Errorf("doctor: check %q depends on unknown check %q", c.ID, dep)
			}
		}
	}
	state := map[string]int{} // 0 unvisited, 1 visiting, 2 done
	var visit func(id string) error
	visit = func(id string) error {
		switch state[id] {
		case 1:
			return fmt.Errorf("doctor: the checks form a cycle through %q", id)
		case 2:
			return nil
		}
		state[id] = 1
		c := checks[g.index[id]]
		for _, dep := range append(append([]string{}, c.Needs...), c.After...) {
			if err := visit(dep); err != nil {
				return err
			}
		}
		state[id] = 2
		return nil
	}
	for _, c := range checks {
		if err := visit(c.ID); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Run executes the graph: each check starts as soon as everything it needs or follows is done. It
// returns the results in definition order, every finding ranked, and the number of waves (the
// longest chain of checks that ran).
func (g *Graph) Run(ctx context.Context) ([]Result, []findings.Finding, int) {
	results := make([]Result, len(g.checks))
	outcomes := make([][]findings.Finding, len(g.checks))
	done := make([]chan struct{}, len(g.checks))
	for i := range done {
		done[i] = make(chan struct{})
	}
	var wg sync.WaitGroup
	for i, c := range g.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			wave := 0
			var blockedBy string
			for _, dep := range c.Needs {
				j := g.index[dep]
				<-done[j]
				wave = max(wave, results[j].Wave)
				if results[j].Status.blocks() && blockedBy == "" {
					blockedBy = results[j].rootID
				}
			}
			for _, dep := range c.After {
				j := g.index[dep]
				<-done[j]
				wave = max(wave, results[j].Wave)
			}
			r := Result{ID: c.ID, Title: c.Title}
			if blockedBy != "" {
				r.Status, r.BlockedBy, r.Detail, r.rootID = StatusSkipped, blockedBy, "blocked by "+blockedBy, blockedBy
				r.Wave = 0
				results[i] = r
				return
			}
			if ctx.Err() != nil {
				r.Status, r.Detail, r.rootID = StatusError, ctx.Err().Error(), c.ID
				results[i] = r
				return
			}
			start := time.Now()
			out := c.Run(ctx)
			r.Duration = time.Since(start).Round(time.Millisecond).String()
			r.Wave = wave + 1
			if c.Local {
				r.Wave = wave
			}
			r.Detail = out.Detail
			switch {
			case out.Err != nil:
				r.Status, r.rootID = StatusError, c.ID
				r.Detail = out.Err.Error()
			case out.Skip != "":
				r.Status, r.rootID, r.Detail = StatusSkipped, c.ID, out.Skip
			case out.NotApplicable != "":
				r.Status, r.Detail = StatusNA, out.NotApplicable
			default:
				ranked := findings.Rank(out.Findings)
				r.Status = StatusOK
				for _, f := range ranked {
					r.Findings = AppendOnce(r.Findings, f.ID)
					if f.Severity == findings.SeverityError && r.Status != StatusFailed {
						r.Status, r.rootID = StatusFailed, f.ID
					} else if f.Severity == findings.SeverityWarning && r.Status == StatusOK {
						r.Status = StatusWarning
					}
				}
				outcomes[i] = out.Findings
			}
			results[i] = r
		}()
	}
	wg.Wait()
	var all []findings.Finding
	waves := 0
	for i := range results {
		all = append(all, outcomes[i]...)
		waves = max(waves, results[i].Wave)
	}
	return results, findings.Rank(dedupe(all)), waves
}

// dedupe drops a finding repeated with the same ID on the same object (two checks may see one fact).
func dedupe(fs []findings.Finding) []findings.Finding {
	seen := map[[2]string]bool{}
	out := fs[:0:0]
	for _, f := range fs {
		key := [2]string{f.ID, f.Object}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, f)
	}
	return out
}

// AppendOnce adds s to an ordered list of IDs or names unless the list holds it already.
func AppendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// RootCauses are the errors no other present finding explains, in rank order, once per ID: the same
// cause seen by several checks (ARM's settings, a log line, a BSL message) is one root cause, with
// the other places it was seen added to its evidence.
func RootCauses(ranked []findings.Finding) []findings.Finding {
	var out []findings.Finding
	at := map[string]int{}
	for _, f := range ranked {
		if f.Severity != findings.SeverityError || len(f.CausedBy) > 0 {
			continue
		}
		if i, seen := at[f.ID]; seen {
			if f.Object != "" && f.Object != out[i].Object {
				out[i].Evidence = append(out[i].Evidence, "also seen on "+f.Object)
			}
			continue
		}
		at[f.ID] = len(out)
		f.Evidence = append([]string(nil), f.Evidence...)
		out = append(out, f)
	}
	return out
}
