// Command aksbackup-verifier runs inside the cluster as the backup component's identity and proves it
// can write to Blob Storage: `aksbackup-verifier probe ...`, started by `kubectl aksbackup probe`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// A scratch or distroless image has no CA bundle: embed the public roots as the fallback.
	_ "golang.org/x/crypto/x509roots/fallback"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
