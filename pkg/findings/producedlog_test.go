package findings

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func readProduced(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
}

func TestProducedLogRecordsMadeAndRankedIDs(t *testing.T) {
	defer func(log string, skip bool) { producedLog, skipTestCallers = log, skip }(producedLog, skipTestCallers)

	producedLog = ""
	_ = loner.New("o", "")

	// This file stands in for product code here.
	producedLog, skipTestCallers = filepath.Join(t.TempDir(), "produced.log"), false
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_ = Rank([]Finding{rootCause.New("o", ""), {ID: "literal-id", Title: "made without New"}})
		})
	}
	wg.Wait()
	lines := readProduced(t, producedLog)
	// Each Rank call logs its two IDs, and each New one more; the unset log recorded nothing.
	if len(lines) != 150 {
		t.Fatalf("%d lines, want 150:\n%s", len(lines), strings.Join(lines, "\n"))
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

// A finding a test builds or ranks itself proves nothing about the product.
func TestProducedLogLeavesOutTestCallers(t *testing.T) {
	defer func(log string, skip bool) { producedLog, skipTestCallers = log, skip }(producedLog, skipTestCallers)
	producedLog, skipTestCallers = filepath.Join(t.TempDir(), "produced.log"), true
	_ = Rank([]Finding{rootCause.New("o", ""), middle.New("o", "")})
	if lines := readProduced(t, producedLog); len(lines) != 0 {
		t.Errorf("findings made and ranked by a _test.go file were recorded: %v", lines)
	}
}
