// Package findings is the shared result model of every check the tool runs: identity status, Azure
// checks, BSL inspection, log triage, doctor and preflight all report Findings from one catalog, so an
// ID means the same thing everywhere and a root cause found by one check can explain a symptom found
// by another.
package findings

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Severity says how much a finding matters. Only errors make a command exit 1.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

func (s Severity) weight() int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	default:
		return 2
	}
}

// Definition is a catalog entry: what an ID means, independent of where it was found.
type Definition struct {
	// ID is stable across releases; scripts and runbooks key on it.
	ID       string
	Severity Severity
	Title    string
	// Explanation says why this breaks backups, in a sentence or two.
	Explanation string
	// ExplainedBy lists root-cause IDs that, when also found, explain this finding; the ranking puts
	// those first and links this finding to them.
	ExplainedBy []string
}

// Finding is one problem (or notable fact) found on one object. Its JSON form is a documented contract.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Message  string   `json:"message,omitempty"`
	// Object names what the finding is about: kind/namespace/name, an ARM resource ID, or a log source.
	Object string `json:"object,omitempty"`
	// Component groups findings that concern one part of the product (a deployment, a BSL); a root
	// cause explains symptoms in its own component, or everywhere when its Component is empty.
	Component   string   `json:"component,omitempty"`
	Remediation []string `json:"remediation,omitempty"`
	// CausedBy holds the IDs of other findings in the same report that explain this one.
	CausedBy []string `json:"causedBy,omitempty"`

	// Count, FirstSeen, LastSeen and Evidence describe repeated observations (log triage).
	Count     int        `json:"count,omitempty"`
	FirstSeen *time.Time `json:"firstSeen,omitempty"`
	LastSeen  *time.Time `json:"lastSeen,omitempty"`
	Evidence  []string   `json:"evidence,omitempty"`
	// Affected names the BackupStorageLocations or backups a log finding concerns.
	Affected []string `json:"affected,omitempty"`
	// Resolved is set when a later log line shows the affected location validated again.
	Resolved bool `json:"resolved,omitempty"`
}

var (
	registryMu sync.RWMutex
	registry   = map[string]*Definition{}
)

// Define adds an entry to the catalog. Packages call it from package-level vars, so a duplicate ID is
// a programming error caught the moment the binary (or any test) starts.
func Define(d Definition) *Definition {
	registryMu.Lock()
	defer registryMu.Unlock()
	if d.ID == "" || d.Title == "" {
		panic("findings: a definition needs an ID and a title")
	}
	if _, dup := registry[d.ID]; dup {
		panic(fmt.Sprintf("findings: ID %q defined twice", d.ID))
	}
	if d.Severity == "" {
		d.Severity = SeverityError
	}
	registry[d.ID] = &d
	return &d
}

// Lookup returns the catalog entry for an ID.
func Lookup(id string) (*Definition, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	d, ok := registry[id]
	return d, ok
}

// Catalog returns every defined entry, sorted by ID.
func Catalog() []Definition {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]Definition, 0, len(registry))
	for _, d := range registry {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// New makes a finding of this kind about one object.
func (d *Definition) New(object, message string, remediation ...string) Finding {
	return Finding{
		ID:          d.ID,
		Severity:    d.Severity,
		Title:       d.Title,
		Message:     message,
		Object:      object,
		Remediation: remediation,
	}
}

// Rank orders findings so that root causes come first: a finding explained by another one in the list
// gets that ID in CausedBy and moves after it. Within a rank, errors precede warnings precede infos,
// then by ID and object, so output is stable.
func Rank(fs []Finding) []Finding {
	present := map[string]bool{}
	inComponent := map[[2]string]bool{}
	for _, f := range fs {
		present[f.ID] = true
		inComponent[[2]string{f.Component, f.ID}] = true
	}
	out := make([]Finding, len(fs))
	copy(out, fs)
	depth := map[string]int{}
	var depthOf func(id string, seen map[string]bool) int
	depthOf = func(id string, seen map[string]bool) int {
		if d, ok := depth[id]; ok {
			return d
		}
		def, ok := Lookup(id)
		if !ok || seen[id] {
			return 0
		}
		seen[id] = true
		best := 0
		for _, cause := range def.ExplainedBy {
			if present[cause] {
				if d := depthOf(cause, seen) + 1; d > best {
					best = d
				}
			}
		}
		depth[id] = best
		return best
	}
	for i := range out {
		out[i].CausedBy = nil
		if def, ok := Lookup(out[i].ID); ok {
			for _, cause := range def.ExplainedBy {
				if inComponent[[2]string{out[i].Component, cause}] || inComponent[[2]string{"", cause}] {
					out[i].CausedBy = append(out[i].CausedBy, cause)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if da, db := depthOf(a.ID, map[string]bool{}), depthOf(b.ID, map[string]bool{}); da != db {
			return da < db
		}
		if wa, wb := a.Severity.weight(), b.Severity.weight(); wa != wb {
			return wa < wb
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Object < b.Object
	})
	return out
}

// Summary counts findings by severity.
type Summary struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

// Summarize counts fs by severity.
func Summarize(fs []Finding) Summary {
	var s Summary
	for _, f := range fs {
		switch f.Severity {
		case SeverityError:
			s.Errors++
		case SeverityWarning:
			s.Warnings++
		default:
			s.Infos++
		}
	}
	return s
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool { return Summarize(fs).Errors > 0 }
