package triage

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

// The prefilter only hands a line to the patterns when it holds one of the catalog's anchors, so a
// pattern branch that can match without any anchor in the text is dead: it never sees a line. The
// checks below read each pattern's syntax tree, expand every alternative (top-level and nested
// alternations, optional and repeated groups, small character classes such as [Ii]), and require
// that each one has a literal it cannot match without that contains an anchor.

// branch is one way a pattern can match: the literal runs it needs, in order, with a gap (text the
// pattern does not fix) wherever a run is cut.
type branch []string

const gap = "\x00"

const maxBranches = 20000

// expand lists the branches of re; small character classes become alternatives of their runes.
func expand(re *syntax.Regexp) ([]branch, error) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return foldCase(re.Rune), nil
		}
		return []branch{{string(re.Rune)}}, nil
	case syntax.OpCharClass:
		runes := classRunes(re.Rune)
		if runes == nil {
			return []branch{{gap}}, nil
		}
		out := make([]branch, 0, len(runes))
		for _, r := range runes {
			out = append(out, branch{string(r)})
		}
		return out, nil
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return []branch{{gap}}, nil
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		// Zero width: the text on both sides is adjacent.
		return []branch{{}}, nil
	case syntax.OpCapture:
		return expand(re.Sub[0])
	case syntax.OpConcat:
		out := []branch{{}}
		for _, sub := range re.Sub {
			parts, err := expand(sub)
			if err != nil {
				return nil, err
			}
			if out, err = product(out, parts); err != nil {
				return nil, err
			}
		}
		return out, nil
	case syntax.OpAlternate:
		var out []branch
		for _, sub := range re.Sub {
			parts, err := expand(sub)
			if err != nil {
				return nil, err
			}
			out = append(out, parts...)
		}
		if len(out) > maxBranches {
			return nil, fmt.Errorf("more than %d alternatives: simplify the pattern", maxBranches)
		}
		return out, nil
	case syntax.OpQuest:
		parts, err := expand(re.Sub[0])
		if err != nil {
			return nil, err
		}
		return append(parts, branch{}), nil
	case syntax.OpStar:
		return []branch{{gap}}, nil
	case syntax.OpPlus:
		// One occurrence is required; more may follow.
		parts, err := expand(re.Sub[0])
		if err != nil {
			return nil, err
		}
		for i := range parts {
			parts[i] = join(parts[i], branch{gap})
		}
		return parts, nil
	case syntax.OpRepeat:
		if re.Min == 0 {
			return []branch{{gap}}, nil
		}
		one, err := expand(re.Sub[0])
		if err != nil {
			return nil, err
		}
		out := one
		for i := 1; i < re.Min; i++ {
			if out, err = product(out, one); err != nil {
				return nil, err
			}
		}
		if re.Max != re.Min {
			for i := range out {
				out[i] = join(out[i], branch{gap})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected regexp operator %v", re.Op)
}

// product is every branch of a followed by every branch of b.
func product(a, b []branch) ([]branch, error) {
	if len(a)*len(b) > maxBranches {
		return nil, fmt.Errorf("more than %d alternatives: simplify the pattern", maxBranches)
	}
	out := make([]branch, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, join(x, y))
		}
	}
	return out, nil
}

// foldCase spells out a case-insensitive literal ([Ii]ssuer parses as one) when it has few
// spellings; a longer one is a gap, since its text can differ from every anchor's case.
func foldCase(runes []rune) []branch {
	out := []string{""}
	for _, r := range runes {
		variants := []rune{r}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			variants = append(variants, f)
		}
		if len(out)*len(variants) > 16 {
			return []branch{{gap}}
		}
		var next []string
		for _, prefix := range out {
			for _, v := range variants {
				next = append(next, prefix+string(v))
			}
		}
		out = next
	}
	branches := make([]branch, len(out))
	for i, s := range out {
		branches[i] = branch{s}
	}
	return branches
}

// classRunes lists a character class's runes when it has at most four (such as [Ii] or [-_]).
func classRunes(ranges []rune) []rune {
	var runes []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i+1]-ranges[i] >= 4 {
			return nil
		}
		for r := ranges[i]; r <= ranges[i+1]; r++ {
			runes = append(runes, r)
		}
		if len(runes) > 4 {
			return nil
		}
	}
	return runes
}

// join concatenates two branches, merging the literal runs that meet.
func join(a, b branch) branch {
	out := append(branch(nil), a...)
	for _, s := range b {
		if s != gap && len(out) > 0 && out[len(out)-1] != gap {
			out[len(out)-1] += s
			continue
		}
		if s == gap && len(out) > 0 && out[len(out)-1] == gap {
			continue
		}
		out = append(out, s)
	}
	return out
}

func (b branch) covered(anchors []string) bool {
	for _, s := range b {
		if s == gap {
			continue
		}
		for _, a := range anchors {
			if strings.Contains(s, a) {
				return true
			}
		}
	}
	return false
}

func (b branch) String() string {
	var parts []string
	for _, s := range b {
		if s == gap {
			parts = append(parts, "…")
			continue
		}
		parts = append(parts, fmt.Sprintf("%q", s))
	}
	if len(parts) == 0 {
		return "(the empty string)"
	}
	return strings.Join(parts, " ")
}

// uncovered returns the branches of pattern that no anchor guards.
func uncovered(pattern string, anchors []string) ([]branch, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	branches, err := expand(re.Simplify())
	if err != nil {
		return nil, err
	}
	var out []branch
	seen := map[string]bool{}
	for _, b := range branches {
		if key := b.String(); !b.covered(anchors) && !seen[key] {
			seen[key] = true
			out = append(out, b)
		}
	}
	return out, nil
}

// deadBranches lists, for each signature, the pattern branches the prefilter (its anchors) or its
// Requires literals would keep from ever seeing a matching line, and anchors it cannot search for.
func deadBranches(sigs []Signature) []string {
	var problems []string
	for _, s := range sigs {
		type guard struct {
			what    string
			needles []string
		}
		guards := []guard{{"anchor", s.Anchors}}
		if s.Requires != nil {
			guards = append(guards, guard{"Requires literal", s.Requires})
		}
		for _, p := range s.Patterns {
			for _, guard := range guards {
				dead, err := uncovered(p.String(), guard.needles)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s: pattern %s: %v", s.Def.ID, p, err))
					break
				}
				for _, b := range dead {
					problems = append(problems, fmt.Sprintf("%s: pattern %s can match %s without any %s of %q, so it never sees such a line", s.Def.ID, p, b, guard.what, guard.needles))
				}
			}
		}
		for _, a := range s.Anchors {
			if !utf8.ValidString(a) || strings.ContainsAny(a, "\n\\") {
				problems = append(problems, fmt.Sprintf("%s: anchor %q must be plain text (the prefilter reads lines before unescaping)", s.Def.ID, a))
			}
		}
	}
	return problems
}

func TestAnchorsCoverMatches(t *testing.T) {
	for _, problem := range deadBranches(Catalog) {
		t.Error(problem)
	}
}

// The check must catch a dead branch wherever the pattern hides it.
func TestAnchorsCoverMatchesFindsDeadBranches(t *testing.T) {
	anchors := []string{"AuthorizationFailure", "AADSTS7002"}
	tests := []struct {
		pattern string
		dead    []string
	}{
		{`AuthorizationFailure\b`, nil},
		{`AuthorizationFailure|This request is not authorized`, []string{`"This request is not authorized"`}},
		{`ERROR CODE: (?:AuthorizationFailure|AuthorizationPermissionMismatch)`, []string{`"ERROR CODE: AuthorizationPermissionMismatch"`}},
		{`(?:AuthorizationFailure)?: denied`, []string{`": denied"`}},
		{`(?:Authorization(?:Failure|Failed))`, []string{`"AuthorizationFailed"`}},
		{`AADSTS7002(?:1|11|13)?:`, nil},
		{`AADSTS700?2(?:1|13):`, []string{`"AADSTS7021:"`, `"AADSTS70213:"`}},
		{`Authorization.*Failure`, []string{`"Authorization" … "Failure"`}},
		{`(?i)authorizationfailure`, []string{`…`}},
		{`[Aa]uthorizationFailure`, []string{`"authorizationFailure"`}},
		{`x*`, []string{`…`}},
	}
	for _, tc := range tests {
		dead, err := uncovered(tc.pattern, anchors)
		if err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		var got []string
		for _, b := range dead {
			got = append(got, b.String())
		}
		if strings.Join(got, "|") != strings.Join(tc.dead, "|") {
			t.Errorf("%s: dead branches %v, want %v", tc.pattern, got, tc.dead)
		}
	}

	// And through the catalog test's own check, on deliberately broken entries.
	def := &findings.Definition{ID: "broken"}
	for _, tc := range []struct {
		name string
		sig  Signature
		dead int
	}{
		{"an alternative without the anchor", Signature{Def: def, Anchors: []string{"AuthorizationFailure"},
			Patterns: []*regexp.Regexp{regexp.MustCompile(`AuthorizationFailure|not authorized to perform`)}}, 1},
		{"an optional anchor", Signature{Def: def, Anchors: []string{"AuthorizationFailure"},
			Patterns: []*regexp.Regexp{regexp.MustCompile(`(?:AuthorizationFailure: )?This request`)}}, 1},
		{"a branch without a Requires literal", Signature{Def: def, Anchors: []string{"WorkloadIdentityCredential"}, Requires: []string{": no such file"},
			Patterns: []*regexp.Regexp{regexp.MustCompile(`WorkloadIdentityCredential: (?:open \S+: no such file|permission denied)`)}}, 1},
		{"an anchor with an escape", Signature{Def: def, Anchors: []string{`\"phase\"`}, Patterns: []*regexp.Regexp{regexp.MustCompile(`\\"phase\\"`)}}, 1},
		{"a sound entry", Signature{Def: def, Anchors: []string{"AuthorizationFailure", "not authorized to perform"},
			Patterns: []*regexp.Regexp{regexp.MustCompile(`AuthorizationFailure|not authorized to perform`)}}, 0},
	} {
		if got := deadBranches([]Signature{tc.sig}); len(got) != tc.dead {
			t.Errorf("%s: %d problems, want %d: %q", tc.name, len(got), tc.dead, got)
		}
	}
}
