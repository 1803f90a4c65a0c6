// Package version holds the build's version, stamped by the linker (see Makefile and .goreleaser.yaml).
package version

import (
	"runtime"
	"strings"
)

// Set with -ldflags "-X github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/version.version=v1.2.3 ...".
var (
	version = "v0.0.0-dev"
	commit  = "unknown"
	date    = "unknown"
	// verifierImage is the in-cluster verifier's image repository (a tag or digest, when given, is kept).
	verifierImage = "ghcr.io/kubectl-aksbackup/aksbackup-verifier"
)

// VerifierImage is `kubectl aksbackup probe`'s default --image: the verifier built from this same
// version, so plugin and verifier always agree on the result's format.
func VerifierImage() string {
	last := verifierImage[strings.LastIndex(verifierImage, "/")+1:]
	if strings.Contains(last, ":") || strings.Contains(last, "@") {
		return verifierImage
	}
	return verifierImage + ":" + ImageTag(version)
}

// ImageTag turns a version into a valid image tag: "v0.0.0-dev+abc" becomes "v0.0.0-dev-abc".
func ImageTag(v string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '-'
	}, v)
}

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
