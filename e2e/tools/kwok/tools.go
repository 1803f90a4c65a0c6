//go:build tools

// Package tools records kwok's command so that go mod tidy keeps it.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
