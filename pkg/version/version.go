// Package version holds the build's version, stamped by the linker (see Makefile and .goreleaser.yaml).
package version

import "runtime"

// Set with -ldflags "-X github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/version.version=v1.2.3 ...".
var (
	version = "v0.0.0-dev"
	commit  = "unknown"
	date    = "unknown"
)

// Info is the version document printed by `kubectl aksbackup version -o json`.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the stamped version of this binary.
func Get() Info {
	return Info{
		Version:   version,
		Commit:    commit,
		BuildDate: date,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
}
