// Command findings-coverage fails when a catalog ID (each one is documented in the README's finding
// table) was never produced while the tests ran. The findings package appends the ID of every finding
// that product code makes or ranks (not a _test.go file's own expected values) to the file named by
// AKSBACKUP_FINDINGS_LOG; `make test` sets it for the unit and end-to-end runs, then runs this
// command on that file:
//
//	go run ./internal/catalog/cmd/findings-coverage bin/findings-produced.log
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "findings-coverage:", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

// run reads the produced-ID logs and reports the catalog IDs none of them holds.
func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("usage: findings-coverage LOG...: name the file(s) %s pointed at during the tests", findings.ProducedLogEnv)}
	}
	produced := map[string]bool{}
	for _, path := range args {
		if err := readIDs(path, produced); err != nil {
			return err
		}
	}
	defs := catalog.All()
	missing := unproduced(defs, produced)
	if len(missing) == 0 {
		fmt.Fprintf(out, "findings coverage: all %d catalog IDs were produced by a test\n", len(defs))
		return nil
	}
	fmt.Fprintf(out, "findings coverage: %d of %d catalog IDs were never produced by a test:\n", len(missing), len(defs))
	for _, d := range missing {
		fmt.Fprintf(out, "  %-40s %s\n", d.ID, d.Title)
	}
	return fmt.Errorf("%d documented finding IDs have no test that produces them: %s; add a unit or e2e test that makes each one",
		len(missing), strings.Join(ids(missing), ", "))
}

func readIDs(path string, into map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading the produced-ID log: %w; run the tests with %s set (make test does)", err, findings.ProducedLogEnv)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			into[id] = true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// unproduced lists, in catalog order, the definitions whose ID is not in produced.
func unproduced(defs []findings.Definition, produced map[string]bool) []findings.Definition {
	var missing []findings.Definition
	for _, d := range defs {
		if !produced[d.ID] {
			missing = append(missing, d)
		}
	}
	return missing
}

func ids(defs []findings.Definition) []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.ID
	}
	return out
}
