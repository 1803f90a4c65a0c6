//go:build tools

// Package tools records the release commands `make dist` builds (e2e/scripts/build-release-tools.sh),
// so that go mod tidy keeps them: GoReleaser, krew, and krew's own manifest validator (the one the
// krew-index CI runs).
package tools

import (
	_ "github.com/goreleaser/goreleaser/v2"
	_ "sigs.k8s.io/krew/cmd/krew"
	_ "sigs.k8s.io/krew/cmd/validate-krew-manifest"
)
