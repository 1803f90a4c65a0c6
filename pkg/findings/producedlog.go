package findings

import (
	"os"
	"runtime"
	"strings"
	"sync"
)

// ProducedLogEnv names a file that, when set, receives the ID of every finding the product makes
// (Definition.New) or ranks (Rank), one per line. `make test` sets it for the unit and end-to-end
// runs, then checks that every catalog ID was produced (internal/catalog/cmd/findings-coverage).
const ProducedLogEnv = "AKSBACKUP_FINDINGS_LOG"

var (
	// producedLog is read once: when it is empty, recording costs one string comparison.
	producedLog = os.Getenv(ProducedLogEnv)
	// skipTestCallers leaves out findings that a _test.go file makes or ranks itself (expected
	// values, the catalog's own every-ID checks): only what product code produced counts.
	skipTestCallers = true

	producedMu   sync.Mutex
	producedFile *os.File
	producedPath string
)

// recordProduced appends ids to the produced log with one write to a file opened with O_APPEND, so
// that lines from parallel test processes never interleave. It is called by New and Rank only, so
// their caller is two frames up. Failing to record never fails a command: the coverage check
// reports what is missing.
func recordProduced(ids ...string) {
	if producedLog == "" || len(ids) == 0 {
		return
	}
	if _, file, _, ok := runtime.Caller(2); ok && skipTestCallers && strings.HasSuffix(file, "_test.go") {
		return
	}
	producedMu.Lock()
	defer producedMu.Unlock()
	if producedFile == nil || producedPath != producedLog {
		f, err := os.OpenFile(producedLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return
		}
		if producedFile != nil {
			producedFile.Close()
		}
		producedFile, producedPath = f, producedLog
	}
	_, _ = producedFile.WriteString(strings.Join(ids, "\n") + "\n")
}
