package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/ociimage"
)

const imageUsage = `usage: aksbackup-lab image --binary PATH --ref NAME:TAG --out FILE.tar [--entrypoint ARG ...] [--path /IN/IMAGE] [--arch amd64]

Builds a container image of one static binary on an empty base, without Docker or a registry, and
writes it as a docker-archive tarball: load it with 'ctr -n k8s.io images import', 'docker load',
'aksbackup-lab import-image', or push it with 'crane push FILE.tar REGISTRY/NAME:TAG'.
The image runs as user 65532:65532. The binary lands at --path (default /<its file name>), and the
entrypoint defaults to that path; repeat --entrypoint for each argument.
`

// imageCmd is `aksbackup-lab image`; `make verifier-image` calls it with these exact flags.
func imageCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, imageUsage); fs.PrintDefaults() }
	var spec ociimage.Spec
	var entrypoint stringList
	out := fs.String("out", "", "the tarball to write")
	fs.StringVar(&spec.Binary, "binary", "", "the static binary to ship")
	fs.StringVar(&spec.Ref, "ref", "", "the image's NAME:TAG")
	fs.StringVar(&spec.Path, "path", "", "where the binary lands in the image (default /<file name>)")
	fs.StringVar(&spec.Arch, "arch", "amd64", "the binary's architecture")
	fs.Var(&entrypoint, "entrypoint", "entrypoint argument (repeat; default the binary's path)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case spec.Binary == "" || spec.Ref == "" || *out == "":
		fmt.Fprint(stderr, "error: --binary, --ref and --out are required\n"+imageUsage)
		return 2
	case fs.NArg() != 0:
		fmt.Fprintf(stderr, "error: unexpected arguments %q\n%s", fs.Args(), imageUsage)
		return 2
	}
	spec.Entrypoint = entrypoint
	if err := ociimage.WriteTarball(spec, *out); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "wrote %s (%s, user %s)\n", *out, spec.Ref, ociimage.NonRootUser)
	return 0
}
