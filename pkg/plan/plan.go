// Package plan runs mutating commands as named phases: every phase plans its changes from what was
// read, the whole plan is validated and printed, and only then are changes applied in order. When an
// apply fails, the plan records exactly which changes landed, so a rerun can finish the job.
package plan

import (
	"context"
	"fmt"
	"io"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
)

// Phase is a named step of a mutating command, selectable with --skip-phases.
type Phase struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// State of a change.
type State string

const (
	Planned    State = "planned"
	Applied    State = "applied"
	DryRun     State = "dry-run"
	Failed     State = "failed"
	NotApplied State = "not-applied"
	// NotSent is a change a server dry run could not send: its API has no dry run (ARM). The
	// command checked what it could instead (permissions, existence, conflicts).
	NotSent State = "not-sent"
)

// ActionKeep is the action of a row that names an object a command leaves alone, with the reason;
// such a row has no Apply and writes nothing.
const ActionKeep = "keep"

// Change is one write the command will make.
type Change struct {
	Phase  string `json:"phase"`
	Action string `json:"action"`
	// Object is kind/name (or an ARM resource ID).
	Object    string `json:"object"`
	Namespace string `json:"namespace,omitempty"`
	Field     string `json:"field,omitempty"`
	From      string `json:"from,omitempty"`
	To        string `json:"to,omitempty"`
	Reason    string `json:"reason,omitempty"`
	State     State  `json:"state"`
	Error     string `json:"error,omitempty"`

	// NoServerDryRun marks a change whose API cannot validate without persisting (ARM): a server
	// dry run does not call Apply and marks it not-sent.
	NoServerDryRun bool `json:"-"`

	// Apply performs the change; with serverDryRun it asks the server to validate without persisting.
	// Nil for changes that happen on their own (a rollout triggered by a template change).
	Apply func(ctx context.Context, serverDryRun bool) error `json:"-"`
}

// Plan is the ordered list of changes a command will make.
type Plan struct {
	Changes []*Change `json:"changes"`
}

// Add appends changes in phase order.
func (p *Plan) Add(c ...*Change) { p.Changes = append(p.Changes, c...) }

// Empty reports whether there is nothing to write.
func (p *Plan) Empty() bool {
	for _, c := range p.Changes {
		if c.Apply != nil {
			return false
		}
	}
	return true
}

// ParseSkip validates --skip-phases against the command's real phase names.
func ParseSkip(phases []Phase, skip []string) (map[string]bool, error) {
	known := map[string]bool{}
	names := make([]string, 0, len(phases))
	for _, ph := range phases {
		known[ph.Name] = true
		names = append(names, ph.Name)
	}
	out := map[string]bool{}
	for _, s := range skip {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !known[s] {
			return nil, fmt.Errorf("unknown phase %q in --skip-phases: the phases are %s", s, strings.Join(names, ", "))
		}
		out[s] = true
	}
	return out, nil
}

// Execute applies the changes in order and stops at the first failure, marking it failed and every
// later change not-applied. With serverDryRun the server validates each change and nothing persists.
func (p *Plan) Execute(ctx context.Context, serverDryRun bool) error {
	for i, c := range p.Changes {
		if c.Apply == nil {
			continue
		}
		if serverDryRun && c.NoServerDryRun {
			c.State = NotSent
			continue
		}
		if err := c.Apply(ctx, serverDryRun); err != nil {
			c.State, c.Error = Failed, err.Error()
			for _, rest := range p.Changes[i+1:] {
				if rest.Apply != nil {
					rest.State = NotApplied
				}
			}
			return fmt.Errorf("phase %s: %s %s: %w", c.Phase, c.Action, c.Object, err)
		}
		if serverDryRun {
			c.State = DryRun
		} else {
			c.State = Applied
		}
	}
	return nil
}

// Counts tallies changes by state.
func (p *Plan) Counts() map[State]int {
	out := map[State]int{}
	for _, c := range p.Changes {
		if c.Apply != nil {
			out[c.State]++
		}
	}
	return out
}

// WriteTable prints the plan (or, withState, its outcome) with cli-runtime's table printer.
func (p *Plan) WriteTable(w io.Writer, withState bool) error {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Phase", Type: "string"}, {Name: "Action", Type: "string"}, {Name: "Object", Type: "string"}, {Name: "Change", Type: "string"}}}
	if withState {
		t.ColumnDefinitions = append(t.ColumnDefinitions, metav1.TableColumnDefinition{Name: "Result", Type: "string"})
	}
	for _, c := range p.Changes {
		cells := []any{c.Phase, c.Action, c.Object, c.Describe()}
		if withState {
			state := string(c.State)
			if c.Apply == nil {
				state = "-"
			}
			cells = append(cells, state)
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: cells})
	}
	return output.PrintTable(w, t, false)
}

// Describe renders the change's effect in one line.
func (c *Change) Describe() string {
	var b strings.Builder
	if c.Field != "" {
		from := c.From
		if from == "" {
			from = "<none>"
		}
		fmt.Fprintf(&b, "%s: %s -> %s", c.Field, from, c.To)
	}
	if c.Reason != "" {
		if b.Len() > 0 {
			b.WriteString(" (")
			b.WriteString(c.Reason)
			b.WriteString(")")
		} else {
			b.WriteString(c.Reason)
		}
	}
	return b.String()
}
