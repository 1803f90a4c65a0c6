package findings

import (
	"os"
	"strings"
)

// ProducedLogEnv names a file that, when set, receives the ID of every finding made (Definition.New)
// or ranked (Rank), one per line. `make test` sets it for the unit and end-to-end runs, then checks
// that every catalog ID was produced by some test (internal/catalog/cmd/findings-coverage).
const ProducedLogEnv = "AKSBACKUP_FINDINGS_LOG"

// producedLog is read once: when it is empty, recording costs one string comparison.
var producedLog = os.Getenv(ProducedLogEnv)

// recordProduced appends ids to the produced log in a single write to a file opened with O_APPEND,
// so that lines from parallel test processes never interleave. Failing to record never fails a
// command: the coverage check reports what is missing.
func recordProduced(ids ...string) {
	if producedLog == "" || len(ids) == 0 {
		return
	}
	f, err := os.OpenFile(producedLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString(strings.Join(ids, "\n") + "\n")
}
