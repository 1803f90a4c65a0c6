// Command aksbackup-verifier runs inside the cluster as the backup component's identity and proves it
// can write to Blob Storage. Until the probe lands it only reports its version.
package main

import (
	"fmt"
	"os"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/version"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] != "version" && os.Args[1] != "--version" {
		fmt.Fprintf(os.Stderr, "error: unknown command %q: this build of aksbackup-verifier only supports `version`; the blob write probe arrives in a later release\n", os.Args[1])
		os.Exit(2)
	}
	v := version.Get()
	fmt.Printf("aksbackup-verifier %s (commit %s, built %s, %s)\n", v.Version, v.Commit, v.BuildDate, v.Platform)
}
