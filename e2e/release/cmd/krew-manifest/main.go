// Command krew-manifest renders krew/aksbackup.yaml into a local Krew manifest for the archives in
// GoReleaser's dist directory, as krew-release-bot would for a release of the same tag, with each
// archive's real sha256:
//
//	krew-manifest -template krew/aksbackup.yaml -dist dist -out dist/aksbackup.yaml
//
// Then: kubectl krew install --manifest=dist/aksbackup.yaml --archive=dist/<archive>.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/release/krewmanifest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "krew-manifest:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("krew-manifest", flag.ContinueOnError)
	tmplPath := fs.String("template", "krew/aksbackup.yaml", "the Krew manifest template")
	dist := fs.String("dist", "dist", "GoReleaser's dist directory (archives and metadata.json)")
	out := fs.String("out", "dist/aksbackup.yaml", "where to write the rendered manifest")
	tag := fs.String("tag", "", "the release tag (default: the tag in dist/metadata.json)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tag == "" {
		t, err := krewmanifest.SnapshotTag(*dist)
		if err != nil {
			return err
		}
		*tag = t
	}
	tmpl, err := os.ReadFile(*tmplPath)
	if err != nil {
		return err
	}
	rendered, err := krewmanifest.Render(tmpl, krewmanifest.ValuesForTag(*tag), krewmanifest.LocalArchives(*dist))
	if err != nil {
		return err
	}
	return os.WriteFile(*out, rendered, 0o644)
}
