package findings

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestProducedLogRecordsMadeAndRankedIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "produced.log")
	defer func(old string) { producedLog = old }(producedLog)

	producedLog = ""
	_ = loner.New("o", "")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("unset log: a file was written (%v)", err)
	}

	producedLog = path
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_ = Rank([]Finding{rootCause.New("o", ""), {ID: "literal-id", Title: "made without New"}})
		})
	}
	wg.Wait()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	// Each Rank call logs its two IDs, and each New one more.
	if len(lines) != 150 {
		t.Fatalf("%d lines, want 150:\n%s", len(lines), raw)
	}
	for _, l := range lines {
		if l != "test-root" && l != "literal-id" {
			t.Fatalf("torn or unexpected line %q", l)
		}
	}
	if !slices.Contains(lines, "literal-id") {
		t.Error("a finding ranked without New was not recorded")
	}
}
