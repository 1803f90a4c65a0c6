// Package ociimage builds container image tarballs of one static binary on an empty base, without
// Docker or a registry: the lab's pause stand-in, its pod check, and the product's verifier image.
package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// NonRootUser is the image's user: the conventional "nonroot" uid/gid of distroless images, so the
// restricted pod-security profile's runAsNonRoot holds without a runAsUser.
const NonRootUser = "65532:65532"

// Spec describes one image.
type Spec struct {
	// Binary is the static executable to ship.
	Binary string
	// Ref names the image in the tarball (NAME:TAG); `ctr images import` and `docker load` keep it.
	Ref string
	// Path is where the binary lands in the image; default /<basename of Binary>.
	Path string
	// Entrypoint defaults to [Path].
	Entrypoint []string
	// Arch is the image platform's architecture (the binary's); default amd64.
	Arch string
}

// epoch keeps the layer and config byte-identical across builds of the same binary.
var epoch = time.Unix(0, 0).UTC()

// Build returns the image described by s.
func Build(s Spec) (v1.Image, name.Tag, error) {
	// An explicit tag: `ctr images import` would otherwise store an implicit :latest.
	if i := strings.LastIndex(s.Ref, ":"); i < 0 || strings.Contains(s.Ref[i:], "/") {
		return nil, name.Tag{}, fmt.Errorf("image reference %q must be NAME:TAG, with an explicit tag", s.Ref)
	}
	tag, err := name.NewTag(s.Ref)
	if err != nil {
		return nil, name.Tag{}, fmt.Errorf("image reference %q must be NAME:TAG: %w", s.Ref, err)
	}
	bin, err := os.ReadFile(s.Binary)
	if err != nil {
		return nil, name.Tag{}, fmt.Errorf("reading the binary: %w", err)
	}
	if s.Path == "" {
		s.Path = "/" + path.Base(s.Binary)
	}
	if !path.IsAbs(s.Path) {
		return nil, name.Tag{}, fmt.Errorf("path in the image %q must be absolute", s.Path)
	}
	if len(s.Entrypoint) == 0 {
		s.Entrypoint = []string{s.Path}
	}
	if s.Arch == "" {
		s.Arch = "amd64"
	}
	layerTar, err := layer(s.Path, bin)
	if err != nil {
		return nil, name.Tag{}, err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil })
	if err != nil {
		return nil, name.Tag{}, err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: l, History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "aksbackup-lab image"}})
	if err != nil {
		return nil, name.Tag{}, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, name.Tag{}, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", s.Arch, v1.Time{Time: epoch}
	cf.Config.Entrypoint = s.Entrypoint
	cf.Config.Cmd = nil
	cf.Config.User = NonRootUser
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, name.Tag{}, err
	}
	return img, tag, nil
}

// WriteTarball builds the image and writes it as a docker-archive tarball (which `ctr images import`,
// `docker load` and `crane push` read).
func WriteTarball(s Spec, out string) error {
	img, tag, err := Build(s)
	if err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return os.Rename(tmp, out)
}

// layer is a tar with the binary (root-owned, 0755) and the directories above it.
func layer(file string, bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var dirs []string
	for d := path.Dir(file); d != "/"; d = path.Dir(d) {
		dirs = append([]string{d}, dirs...)
	}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d[1:] + "/", Mode: 0o755, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: file[1:], Mode: 0o755, Size: int64(len(bin)), ModTime: epoch}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
