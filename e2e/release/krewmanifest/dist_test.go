package krewmanifest_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/krew/pkg/index"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/release/krewmanifest"
)

// These tests check what `make dist` built (it runs them): dist/ holds GoReleaser's snapshot and the
// rendered local manifest, e2e/.cache/bin krew and its validator (e2e/scripts/build-release-tools.sh).
var (
	repoRoot = filepath.Join("..", "..", "..")
	distDir  = filepath.Join(repoRoot, "dist")
	toolsDir = filepath.Join(repoRoot, "e2e", ".cache", "bin")
)

func distManifest(t *testing.T) (index.Plugin, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(distDir, "aksbackup.yaml"))
	if err != nil {
		t.Fatalf("%v: run make dist first", err)
	}
	var p index.Plugin
	if err := yaml.UnmarshalStrict(raw, &p); err != nil {
		t.Fatalf("dist/aksbackup.yaml is not a Krew Plugin (unknown or mistyped field?): %v", err)
	}
	return p, raw
}

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(toolsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not built: run make dist (e2e/scripts/build-release-tools.sh builds it)", name)
	}
	return p
}

func runTool(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// The manifest make dist wrote is the template rendered as krew-release-bot renders it for the
// same tag, with each archive's sha256 equal to GoReleaser's checksums.txt.
func TestDistManifestIsTheBotRenderingWithTheArchivesChecksums(t *testing.T) {
	p, raw := distManifest(t)
	tag, err := krewmanifest.SnapshotTag(distDir)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(repoRoot, "krew", "aksbackup.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := krewmanifest.Render(tmpl, krewmanifest.ValuesForTag(tag), krewmanifest.LocalArchives(distDir))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, want) {
		t.Errorf("dist/aksbackup.yaml differs from the bot's rendering of krew/aksbackup.yaml for %s:\n%s", tag, raw)
	}
	if p.Spec.Version != tag {
		t.Errorf("spec.version %q, want the snapshot's tag %q", p.Spec.Version, tag)
	}
	sums := checksums(t)
	if len(p.Spec.Platforms) != 6 {
		t.Errorf("%d platforms, want linux, darwin and windows on amd64 and arm64", len(p.Spec.Platforms))
	}
	for _, pl := range p.Spec.Platforms {
		archive := path.Base(pl.URI)
		wantURI := "https://github.com/kubectl-aksbackup/kubectl-aksbackup/releases/download/" + tag + "/" + archive
		if pl.URI != wantURI {
			t.Errorf("uri %s, want %s", pl.URI, wantURI)
		}
		if sums[archive] == "" {
			t.Errorf("%s is not among GoReleaser's archives (%v)", archive, sums)
		} else if pl.Sha256 != sums[archive] {
			t.Errorf("%s: manifest sha256 %s, checksums.txt %s", archive, pl.Sha256, sums[archive])
		}
	}
}

// checksums reads GoReleaser's checksums.txt: archive name → sha256.
func checksums(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(distDir, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sum, name, ok := strings.Cut(sc.Text(), "  "); ok {
			sums[name] = sum
		}
	}
	return sums
}

// Krew's own validator (the krew-index CI's) accepts the manifest, and rejects a broken copy of it,
// so that its verdict means something.
func TestKrewValidatorAcceptsTheManifest(t *testing.T) {
	validator := tool(t, "validate-krew-manifest")
	_, raw := distManifest(t)
	validate := func(content []byte) (string, error) {
		dir := t.TempDir()
		// The validator takes the plugin's name from the file's.
		file := filepath.Join(dir, "aksbackup.yaml")
		if err := os.WriteFile(file, content, 0o644); err != nil {
			t.Fatal(err)
		}
		// -skip-install: the URIs name the release, which is not published; TestKrewInstallsEveryArchive
		// installs each archive instead.
		return runTool(t, []string{"HOME=" + dir}, validator, "-manifest", file, "-skip-install")
	}
	if out, err := validate(raw); err != nil {
		t.Fatalf("validate-krew-manifest rejects dist/aksbackup.yaml: %v\n%s", err, out)
	}
	broken := bytes.Replace(raw, []byte("sha256: "), []byte("sha256: not-hex-"), 1)
	if out, err := validate(broken); err == nil || !strings.Contains(out, "sha256") {
		t.Errorf("validate-krew-manifest accepted a manifest with a bad sha256 (%v):\n%s", err, out)
	}
}

// The README's local install, `kubectl krew install --manifest=dist/aksbackup.yaml
// --archive=dist/<archive>`, offline, for every platform (KREW_OS/KREW_ARCH pick the entry); the
// host's installed plugin then runs. A tampered archive is refused.
func TestKrewInstallsEveryArchive(t *testing.T) {
	krew := tool(t, "krew")
	p, _ := distManifest(t)
	manifest, err := filepath.Abs(filepath.Join(distDir, "aksbackup.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	version := snapshotVersion(t)
	install := func(t *testing.T, osName, arch, archive string) (string, string, error) {
		root := t.TempDir()
		env := []string{"KREW_ROOT=" + root, "KREW_OS=" + osName, "KREW_ARCH=" + arch, "KREW_NO_UPGRADE_CHECK=1",
			"HOME=" + t.TempDir(), "PATH=" + filepath.Join(root, "bin") + ":/usr/bin:/bin"}
		out, err := runTool(t, env, krew, "install", "--manifest="+manifest, "--archive="+archive)
		return root, out, err
	}
	for _, pl := range p.Spec.Platforms {
		osName, arch := pl.Selector.MatchLabels["os"], pl.Selector.MatchLabels["arch"]
		t.Run(osName+"/"+arch, func(t *testing.T) {
			archive, err := filepath.Abs(filepath.Join(distDir, path.Base(pl.URI)))
			if err != nil {
				t.Fatal(err)
			}
			root, out, err := install(t, osName, arch, archive)
			if err != nil {
				t.Fatalf("krew install --manifest --archive %s: %v\n%s", filepath.Base(archive), err, out)
			}
			store := filepath.Join(root, "store", "aksbackup", p.Spec.Version)
			for _, f := range []string{pl.Bin, "LICENSE"} {
				if _, err := os.Stat(filepath.Join(store, f)); err != nil {
					t.Errorf("krew did not install %s: %v", f, err)
				}
			}
			if _, err := os.Stat(filepath.Join(root, "receipts", "aksbackup.yaml")); err != nil {
				t.Errorf("no install receipt: %v", err)
			}
			if osName != runtime.GOOS || arch != runtime.GOARCH {
				return
			}
			got, err := runTool(t, []string{"HOME=" + t.TempDir()}, filepath.Join(root, "bin", "kubectl-aksbackup"), "version")
			if err != nil || !strings.Contains(got, version) {
				t.Errorf("the installed kubectl-aksbackup version: %v, want version %s:\n%s", err, version, got)
			}
		})
	}
	t.Run("tampered archive", func(t *testing.T) {
		original := filepath.Join(distDir, fmt.Sprintf("kubectl-aksbackup_%s_%s_%s.tar.gz", p.Spec.Version, runtime.GOOS, runtime.GOARCH))
		raw, err := os.ReadFile(original)
		if err != nil {
			t.Fatal(err)
		}
		tampered := filepath.Join(t.TempDir(), filepath.Base(original))
		if err := os.WriteFile(tampered, append(raw, 0), 0o644); err != nil {
			t.Fatal(err)
		}
		// krew v0.4.3 says "checksum does not match, want: <manifest's sha256>, got: <archive's>".
		if _, out, err := install(t, runtime.GOOS, runtime.GOARCH, tampered); err == nil || !strings.Contains(out, "checksum does not match") {
			t.Errorf("krew installed an archive whose sha256 differs from the manifest's (%v):\n%s", err, out)
		}
	})
}

// snapshotVersion is the version GoReleaser stamped into the binaries (dist/metadata.json).
func snapshotVersion(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(distDir, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := yaml.Unmarshal(raw, &meta); err != nil || meta.Version == "" {
		t.Fatalf("dist/metadata.json names no version: %v", err)
	}
	return meta.Version
}
