package triage

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// A testdata case is a text file: header lines "key: value" (expect, source, optional values),
// a line "---", then the log text exactly as it reached the user. expect is the ID that must be
// ranked first, or "-" when nothing may be found. source says where the text comes from: a public
// URL (redacted excerpt) or the SDK and lab double that produced it.
type testdataCase struct {
	file   string
	expect string
	source string
	values map[string]string
	text   string
}

func readTestdataCases(t *testing.T, dir string) []testdataCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no cases in testdata/%s", dir)
	}
	sort.Strings(files)
	var cases []testdataCase
	for _, f := range files {
		c, err := parseTestdataCase(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases = append(cases, c)
	}
	return cases
}

func parseTestdataCase(file string) (testdataCase, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return testdataCase{}, err
	}
	c := testdataCase{file: filepath.Base(file), values: map[string]string{}}
	head, body, ok := strings.Cut(string(data), "\n---\n")
	if !ok {
		return c, fmt.Errorf("no \"---\" line between the header and the log text")
	}
	sc := bufio.NewScanner(strings.NewReader(head))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			return c, fmt.Errorf("header line %q is not \"key: value\"", sc.Text())
		}
		switch key {
		case "expect":
			c.expect = val
		case "source":
			c.source = val
		case "values":
			for _, kv := range strings.Fields(val) {
				k, v, _ := strings.Cut(kv, "=")
				c.values[k] = v
			}
		default:
			return c, fmt.Errorf("unknown header %q", key)
		}
	}
	if c.expect == "" || c.source == "" {
		return c, fmt.Errorf("the header needs expect: and source:")
	}
	c.text = strings.TrimSuffix(body, "\n")
	return c, nil
}

// checkRemediation requires the fix commands to carry the values read from the log.
func checkRemediation(t *testing.T, remediation []string, values map[string]string) {
	t.Helper()
	rem := strings.Join(remediation, "\n")
	for k, v := range values {
		if !strings.Contains(rem, v) {
			t.Errorf("remediation lacks %s=%s:\n%s", k, v, rem)
		}
	}
}

// testdataExpectations holds every ID some testdata case expects first.
func testdataExpectations(t *testing.T) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, dir := range []string{"cases", "sdk", "heldout"} {
		for _, c := range readTestdataCases(t, dir) {
			ids[c.expect] = true
		}
	}
	return ids
}

// firstFinding names what triage ranks first in the case's text ("-" for nothing).
func (c testdataCase) firstFinding(t *testing.T) (string, Report) {
	t.Helper()
	rep := analyze(t, nil, c.text)
	if len(rep.Findings) == 0 {
		return "-", rep
	}
	return rep.Findings[0].ID, rep
}

func findingIDs(rep Report) []string {
	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

func TestTestdataCases(t *testing.T) {
	for _, dir := range []string{"cases", "sdk"} {
		for _, c := range readTestdataCases(t, dir) {
			t.Run(dir+"/"+c.file, func(t *testing.T) {
				got, rep := c.firstFinding(t)
				if got != c.expect {
					t.Fatalf("first finding %s, want %s (all: %v) in:\n%s", got, c.expect, findingIDs(rep), c.text)
				}
				if got == "-" {
					return
				}
				if _, ok := signatureOf[c.expect]; !ok {
					t.Fatalf("expect names %s, which is not in the catalog", c.expect)
				}
				checkRemediation(t, rep.Findings[0].Remediation, c.values)
			})
		}
	}
}

// Every catalog entry is backed by text that did not come from the catalog's author: a redacted
// public excerpt or a line the real SDKs produced against the lab's doubles.
func TestEveryEntryHasTestdata(t *testing.T) {
	covered := testdataExpectations(t)
	for _, s := range Catalog {
		if !covered[s.Def.ID] {
			t.Errorf("catalog entry %s has no case in testdata/ (add a redacted public excerpt or an SDK-generated line)", s.Def.ID)
		}
	}
}

// heldOutFloor is the share of testdata/heldout that must be recognised. Those excerpts were
// collected before the catalog was widened and were not used to write its patterns: they measure
// how well it generalises to text nobody tuned it for.
const heldOutFloor = 0.9

func TestHeldOutHitRate(t *testing.T) {
	cases := readTestdataCases(t, "heldout")
	hits := 0
	for _, c := range cases {
		got, rep := c.firstFinding(t)
		if got == c.expect {
			hits++
			continue
		}
		t.Logf("miss %s: first %s, want %s (all: %v)", c.file, got, c.expect, findingIDs(rep))
	}
	rate := float64(hits) / float64(len(cases))
	t.Logf("held-out: %d/%d recognised (%.0f%%)", hits, len(cases), 100*rate)
	if rate < heldOutFloor {
		t.Errorf("held-out hit rate %.2f is below %.2f", rate, heldOutFloor)
	}
}
