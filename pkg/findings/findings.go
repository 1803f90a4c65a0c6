// Package findings is the shared result model of every check the tool runs: identity status, Azure
// checks, BSL inspection, log triage, doctor and preflight all report Findings from one catalog, so an
// ID means the same thing everywhere and a root cause found by one check can explain a symptom found
// by another.
package findings

import (
	"fmt"
	"slices"
	"sort"
	"strings"
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

// Layer says where in the chain a backup write crosses a finding sits. A failure in a lower layer
// makes every higher layer fail too (an uninjected pod never reaches Entra; a token Entra refuses never
// reaches the storage account), so among unrelated root causes the lowest layer is the one to fix first.
type Layer int

const (
	LayerPlatform   Layer = iota // the cluster, its nodes and network, the installed components
	LayerCredential              // where the pod's Azure credential comes from: wiring and injection
	LayerEntra                   // exchanging that credential for a token: federation, tenant, app
	LayerConfig                  // the settings that name the storage: BSL, extension, vault
	LayerStorage                 // the storage account: roles, container, network rules
	LayerSymptom                 // an outcome that the other layers explain (a BSL turned Unavailable)
)

var layerNames = [...]string{"platform", "credential", "entra", "config", "storage", "symptom"}

func (l Layer) String() string {
	if l >= 0 && int(l) < len(layerNames) {
		return layerNames[l]
	}
	return fmt.Sprintf("layer(%d)", int(l))
}

// MarshalText makes layers read as their names in JSON and YAML.
func (l Layer) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Definition is a catalog entry (see internal/catalog): what an ID means, independent of where it was found.
type Definition struct {
	// ID is stable across releases; scripts and runbooks key on it.
	ID       string
	Severity Severity
	Layer    Layer
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
	recordProduced(d.ID)
	return Finding{
		ID:          d.ID,
		Severity:    d.Severity,
		Title:       d.Title,
		Message:     message,
		Object:      object,
		Remediation: remediation,
	}
}

// Rank is the one ordering of findings that every command uses, so that they all name the same root
// cause for the same facts. It puts:
//  1. a finding after the present findings that explain it (its definition's ExplainedBy, followed
//     transitively), and symptom-layer findings after everything else;
//  2. errors before warnings before infos;
//  3. lower layers before higher ones (see Layer);
//  4. the earlier first-seen before the later, then by ID and object, so output is stable.
//
// It also sets CausedBy: the present findings that explain each one (in its component, or anywhere
// when either names no component). A symptom is explained by every error outside the symptom layer
// that concerns the same component and location.
func Rank(fs []Finding) []Finding {
	if producedLog != "" {
		ids := make([]string, len(fs))
		for i, f := range fs {
			ids[i] = f.ID
		}
		recordProduced(ids...)
	}
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
				best = max(best, depthOf(cause, seen)+1)
			}
		}
		depth[id] = best
		return best
	}
	for i := range out {
		out[i].CausedBy = nil
		if layerOf(out[i].ID) == LayerSymptom {
			out[i].CausedBy = symptomCauses(out[i], fs)
			continue
		}
		if def, ok := Lookup(out[i].ID); ok {
			for _, cause := range def.ExplainedBy {
				// A finding tied to no component (a log line, a BSL message) is explained by the cause
				// wherever it was found.
				if inComponent[[2]string{out[i].Component, cause}] || inComponent[[2]string{"", cause}] || (out[i].Component == "" && present[cause]) {
					out[i].CausedBy = append(out[i].CausedBy, cause)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		la, lb := layerOf(a.ID), layerOf(b.ID)
		if sa, sb := la == LayerSymptom, lb == LayerSymptom; sa != sb {
			return sb
		}
		if da, db := depthOf(a.ID, map[string]bool{}), depthOf(b.ID, map[string]bool{}); da != db {
			return da < db
		}
		if wa, wb := a.Severity.weight(), b.Severity.weight(); wa != wb {
			return wa < wb
		}
		if la != lb {
			return la < lb
		}
		if c := compareFirstSeen(a.FirstSeen, b.FirstSeen); c != 0 {
			return c < 0
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Object < b.Object
	})
	// Name the causes in the order they are listed.
	rank := map[string]int{}
	for i := len(out) - 1; i >= 0; i-- {
		rank[out[i].ID] = i
	}
	for i := range out {
		slices.SortStableFunc(out[i].CausedBy, func(a, b string) int { return rank[a] - rank[b] })
	}
	return out
}

func layerOf(id string) Layer {
	if def, ok := Lookup(id); ok {
		return def.Layer
	}
	return LayerPlatform
}

// symptomCauses lists, once each and in order, the errors of other layers that concern the
// symptom's component (or no component) and share a location with it (or name none).
func symptomCauses(symptom Finding, fs []Finding) []string {
	var causes []string
	for _, f := range fs {
		if f.Severity != SeverityError || layerOf(f.ID) == LayerSymptom || slices.Contains(causes, f.ID) {
			continue
		}
		if f.Component != "" && symptom.Component != "" && f.Component != symptom.Component {
			continue
		}
		if !sharesLocation(f, symptom) {
			continue
		}
		causes = append(causes, f.ID)
	}
	return causes
}

// sharesLocation: both name the same BackupStorageLocation ("bsl/[ns/]name" in Affected), or either
// names none.
func sharesLocation(a, b Finding) bool {
	la, lb := locations(a), locations(b)
	if len(la) == 0 || len(lb) == 0 {
		return true
	}
	return slices.ContainsFunc(la, func(name string) bool { return slices.Contains(lb, name) })
}

func locations(f Finding) []string {
	var names []string
	for _, a := range f.Affected {
		if rest, ok := strings.CutPrefix(a, "bsl/"); ok {
			names = append(names, rest[strings.LastIndexByte(rest, '/')+1:])
		}
	}
	return names
}

// compareFirstSeen orders dated findings by date and before undated ones.
func compareFirstSeen(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
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
