package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImageCmd(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "aksbackup-verifier")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "verifier.tar")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
		wantFile   bool
	}{
		{"builds", []string{"--binary", bin, "--ref", "example.test/aksbackup-verifier:v1", "--out", out, "--entrypoint", "/aksbackup-verifier", "--entrypoint", "probe"}, 0, "", true},
		{"missing flags", []string{"--binary", bin}, 2, "--binary, --ref and --out are required", false},
		{"no tag", []string{"--binary", bin, "--ref", "example.test/v", "--out", out}, 2, "NAME:TAG", false},
		{"missing binary", []string{"--binary", bin + ".nope", "--ref", "a.test/v:1", "--out", out}, 2, "reading the binary", false},
		{"stray argument", []string{"--binary", bin, "--ref", "a.test/v:1", "--out", out, "extra"}, 2, "unexpected arguments", false},
		{"unknown flag", []string{"--bogus"}, 2, "flag provided but not defined", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = os.Remove(out)
			var stdout, stderr bytes.Buffer
			code := imageCmd(tt.args, &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("code %d stderr %q; want %d and %q", code, stderr.String(), tt.wantCode, tt.wantStderr)
			}
			if _, err := os.Stat(out); (err == nil) != tt.wantFile {
				t.Errorf("tarball exists: %v, want %v", err == nil, tt.wantFile)
			}
		})
	}
}
