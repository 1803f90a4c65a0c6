package krewmanifest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/krew/pkg/index"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/release/krewmanifest"
)

// The template, rendered for a release tag, names one GoReleaser archive per Krew platform, each with
// the digest of that asset. No dist/ needed: the digests are stand-ins.
func TestTemplateNamesGoreleasersArchives(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join(repoRoot, "krew", "aksbackup.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	digests := map[string]string{}
	fakeSHA := func(uri string) (string, error) {
		sum := sha256.Sum256([]byte(uri))
		digests[uri] = hex.EncodeToString(sum[:])
		return digests[uri], nil
	}
	raw, err := krewmanifest.Render(tmpl, krewmanifest.ValuesForTag("v1.2.3"), fakeSHA)
	if err != nil {
		t.Fatal(err)
	}
	var p index.Plugin
	if err := yaml.UnmarshalStrict(raw, &p); err != nil {
		t.Fatalf("not a Krew Plugin: %v\n%s", err, raw)
	}
	if p.Name != "aksbackup" || p.Spec.Version != "v1.2.3" {
		t.Errorf("name %q version %q", p.Name, p.Spec.Version)
	}
	want := map[string]bool{}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for _, arch := range []string{"amd64", "arm64"} {
			want[goos+"/"+arch] = true
		}
	}
	for _, pl := range p.Spec.Platforms {
		goos, arch := pl.Selector.MatchLabels["os"], pl.Selector.MatchLabels["arch"]
		if !want[goos+"/"+arch] {
			t.Errorf("unexpected or repeated platform %s/%s", goos, arch)
		}
		delete(want, goos+"/"+arch)
		ext, bin := ".tar.gz", "kubectl-aksbackup"
		if goos == "windows" {
			ext, bin = ".zip", "kubectl-aksbackup.exe"
		}
		// GoReleaser's archive name_template: kubectl-aksbackup_{{ .Tag }}_{{ .Os }}_{{ .Arch }}.
		wantURI := "https://github.com/kubectl-aksbackup/kubectl-aksbackup/releases/download/v1.2.3/kubectl-aksbackup_v1.2.3_" + goos + "_" + arch + ext
		if pl.URI != wantURI || pl.Sha256 != digests[wantURI] || pl.Bin != bin {
			t.Errorf("%s/%s: uri %s sha256 %s bin %s; want %s with its own digest, bin %s", goos, arch, pl.URI, pl.Sha256, pl.Bin, wantURI, bin)
		}
	}
	for k := range want {
		t.Errorf("platform %s missing", k)
	}
}

func TestRenderHelpers(t *testing.T) {
	if v := krewmanifest.ValuesForTag("v1.2.3-rc.1"); v.TagName != "v1.2.3-rc.1" || v.Version != "1.2.3" {
		t.Errorf("ValuesForTag: %+v", v)
	}
	tmpl := []byte("a:\n  {{ addURIAndSha \"https://h/{{ .Version }}/x-{{ .TagName }}.tgz\" .TagName }}\n  list:\n    {{ indent 4 \"- one\\n- two\" }}\n")
	got, err := krewmanifest.Render(tmpl, krewmanifest.ValuesForTag("v2.0.1"), func(uri string) (string, error) { return "sum-of-" + uri, nil })
	if err != nil {
		t.Fatal(err)
	}
	want := "a:\n  uri: https://h/2.0.1/x-v2.0.1.tgz\n    sha256: sum-of-https://h/2.0.1/x-v2.0.1.tgz\n  list:\n    - one\n    - two\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	boom := errors.New("no such asset")
	if _, err := krewmanifest.Render(tmpl, krewmanifest.ValuesForTag("v2"), func(string) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Errorf("a failed hash: %v, want it passed on", err)
	}
	if _, err := krewmanifest.LocalArchives(t.TempDir())("https://h/missing.tgz"); err == nil || !strings.Contains(err.Error(), "make dist") {
		t.Errorf("a missing archive: %v, want an error saying to run make dist", err)
	}
}
