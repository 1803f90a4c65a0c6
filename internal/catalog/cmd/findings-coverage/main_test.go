package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
)

func TestRunNamesEachUnproducedID(t *testing.T) {
	defs := catalog.All()
	if len(defs) < 3 {
		t.Fatalf("catalog has %d IDs", len(defs))
	}
	dir := t.TempDir()
	var all, allButTwo []string
	for i, d := range defs {
		all = append(all, d.ID)
		if i >= 2 {
			allButTwo = append(allButTwo, d.ID)
		}
	}
	write := func(name string, lines []string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unitLog := write("unit.log", allButTwo[:len(allButTwo)/2])
	e2eLog := write("e2e.log", append(allButTwo[len(allButTwo)/2:], "not-a-catalog-id"))

	var out bytes.Buffer
	err := run([]string{unitLog, e2eLog}, &out)
	if err == nil {
		t.Fatalf("two IDs were never produced, yet the check passed:\n%s", out.String())
	}
	for _, d := range defs[:2] {
		if !strings.Contains(out.String(), d.ID) || !strings.Contains(err.Error(), d.ID) {
			t.Errorf("unproduced %s not named:\n%s\n%v", d.ID, out.String(), err)
		}
	}
	if strings.Contains(out.String(), defs[2].ID) {
		t.Errorf("produced %s listed as missing:\n%s", defs[2].ID, out.String())
	}

	out.Reset()
	if err := run([]string{write("all.log", all)}, &out); err != nil {
		t.Fatalf("every ID produced, yet: %v\n%s", err, out.String())
	}

	var usage usageError
	if err := run(nil, &out); !errors.As(err, &usage) {
		t.Errorf("no log named: %v, want a usage error", err)
	}
	if err := run([]string{filepath.Join(dir, "absent.log")}, &out); err == nil || !strings.Contains(err.Error(), "AKSBACKUP_FINDINGS_LOG") {
		t.Errorf("absent log: %v, want an error naming AKSBACKUP_FINDINGS_LOG", err)
	}
}
