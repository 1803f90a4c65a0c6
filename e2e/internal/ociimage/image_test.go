package ociimage

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func TestWriteTarballRoundTrip(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tool")
	if err := os.WriteFile(bin, []byte("#!static binary stand-in"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		spec           Spec
		wantFile       string
		wantEntrypoint []string
	}{
		{"defaults", Spec{Binary: bin, Ref: "example.test/tool:v1"}, "tool", []string{"/tool"}},
		{"path and entrypoint", Spec{Binary: bin, Ref: "localhost/x/tool:lab", Path: "/usr/local/bin/tool", Entrypoint: []string{"/usr/local/bin/tool", "serve"}},
			"usr/local/bin/tool", []string{"/usr/local/bin/tool", "serve"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name+".tar")
			if err := WriteTarball(tt.spec, out); err != nil {
				t.Fatal(err)
			}
			img, err := tarball.ImageFromPath(out, nil)
			if err != nil {
				t.Fatalf("reading back: %v", err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cf.Config.User != "65532:65532" || cf.OS != "linux" || cf.Architecture != "amd64" || !reflect.DeepEqual(cf.Config.Entrypoint, tt.wantEntrypoint) {
				t.Errorf("config: user %q os %q arch %q entrypoint %q", cf.Config.User, cf.OS, cf.Architecture, cf.Config.Entrypoint)
			}
			layers, err := img.Layers()
			if err != nil || len(layers) != 1 {
				t.Fatalf("layers %d %v", len(layers), err)
			}
			rc, err := layers[0].Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			tr := tar.NewReader(rc)
			found := false
			for {
				h, err := tr.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if h.Name == tt.wantFile {
					data, _ := io.ReadAll(tr)
					found = string(data) == "#!static binary stand-in" && h.Mode == 0o755 && h.Uid == 0
				}
			}
			if !found {
				t.Errorf("the binary is not at %s with mode 0755", tt.wantFile)
			}
			m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(out) })
			if err != nil || len(m) != 1 || len(m[0].RepoTags) != 1 || m[0].RepoTags[0] != tt.spec.Ref {
				t.Errorf("tarball manifest %+v %v, want tag %s", m, err, tt.spec.Ref)
			}
		})
	}
}

func TestBuildIsReproducible(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(bin, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	a, _, err := Build(Spec{Binary: bin, Ref: "a/b:c"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := Build(Spec{Binary: bin, Ref: "a/b:c"})
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("two builds differ: %s %s", da, db)
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(bin, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, want string
		spec       Spec
	}{
		{"no tag", "NAME:TAG", Spec{Binary: bin, Ref: "example.test/tool"}},
		{"port but no tag", "NAME:TAG", Spec{Binary: bin, Ref: "localhost:5000/tool"}},
		{"bad ref", "NAME:TAG", Spec{Binary: bin, Ref: "UPPER/Case:x"}},
		{"missing binary", "reading the binary", Spec{Binary: bin + ".missing", Ref: "a/b:c"}},
		{"relative path", "absolute", Spec{Binary: bin, Ref: "a/b:c", Path: "tool"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Build(tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
