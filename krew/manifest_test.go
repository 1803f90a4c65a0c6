// Package krew holds the Krew manifest template. krew itself is not available to build here, so this
// test renders the template the way krew-release-bot does and validates it against Krew's Plugin
// schema rules and against the archives .goreleaser.yaml produces.
package krew

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"text/template"

	"sigs.k8s.io/yaml"
)

type manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		Homepage         string `json:"homepage"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description"`
		Caveats          string `json:"caveats"`
		Platforms        []struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			URI    string `json:"uri"`
			Sha256 string `json:"sha256"`
			Bin    string `json:"bin"`
			Files  []struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"files"`
		} `json:"platforms"`
	} `json:"spec"`
}

type goreleaser struct {
	Version  int `json:"version"`
	Archives []struct {
		ID              string   `json:"id"`
		IDs             []string `json:"ids"`
		NameTemplate    string   `json:"name_template"`
		Formats         []string `json:"formats"`
		FormatOverrides []struct {
			Goos    string   `json:"goos"`
			Formats []string `json:"formats"`
		} `json:"format_overrides"`
		Files []any `json:"files"`
	} `json:"archives"`
	Krews []struct {
		Name       string   `json:"name"`
		IDs        []string `json:"ids"`
		SkipUpload bool     `json:"skip_upload"`
	} `json:"krews"`
}

func render(t *testing.T, tag string) manifest {
	t.Helper()
	raw, err := os.ReadFile("aksbackup.yaml")
	if err != nil {
		t.Fatal(err)
	}
	funcs := template.FuncMap{"addURIAndSha": func(uri, tag string) string {
		return fmt.Sprintf("uri: %s\n    sha256: %s", strings.ReplaceAll(uri, "{{ .TagName }}", tag), strings.Repeat("ab", 32))
	}}
	tmpl, err := template.New("krew").Funcs(funcs).Parse(string(raw))
	if err != nil {
		t.Fatalf("template does not parse: %v", err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, map[string]string{"TagName": tag}); err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.UnmarshalStrict(out.Bytes(), &m); err != nil {
		t.Fatalf("rendered manifest is not a valid Plugin document: %v\n%s", err, out.String())
	}
	return m
}

func TestManifest(t *testing.T) {
	m := render(t, "v1.2.3")
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" {
		t.Errorf("apiVersion/kind = %s/%s", m.APIVersion, m.Kind)
	}
	// Krew: the name is the plugin's command (kubectl aksbackup), lowercase with dashes.
	if !regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`).MatchString(m.Metadata.Name) || m.Metadata.Name != "aksbackup" {
		t.Errorf("metadata.name %q", m.Metadata.Name)
	}
	if m.Spec.Version != "v1.2.3" || m.Spec.ShortDescription == "" || len(m.Spec.ShortDescription) > 100 || m.Spec.Homepage == "" {
		t.Errorf("spec fields: %+v", m.Spec)
	}
	want := map[string]bool{}
	for _, os := range []string{"linux", "darwin", "windows"} {
		for _, arch := range []string{"amd64", "arm64"} {
			want[os+"/"+arch] = true
		}
	}
	for _, p := range m.Spec.Platforms {
		os, arch := p.Selector.MatchLabels["os"], p.Selector.MatchLabels["arch"]
		key := os + "/" + arch
		if !want[key] {
			t.Errorf("unexpected or duplicate platform %s", key)
		}
		delete(want, key)
		ext, bin := "tar.gz", "kubectl-aksbackup"
		if os == "windows" {
			ext, bin = "zip", "kubectl-aksbackup.exe"
		}
		if !strings.HasSuffix(p.URI, fmt.Sprintf("/v1.2.3/kubectl-aksbackup_v1.2.3_%s_%s.%s", os, arch, ext)) {
			t.Errorf("%s: uri %s does not match the goreleaser archive", key, p.URI)
		}
		if len(p.Sha256) != 64 || p.Bin != bin {
			t.Errorf("%s: sha256 %q bin %q", key, p.Sha256, p.Bin)
		}
		var froms []string
		for _, f := range p.Files {
			froms = append(froms, f.From)
		}
		if !contains(froms, bin) || !contains(froms, "LICENSE") {
			t.Errorf("%s: files %v must install the binary and LICENSE", key, froms)
		}
	}
	for key := range want {
		t.Errorf("platform %s missing", key)
	}
}

func TestGoreleaserMatchesManifest(t *testing.T) {
	raw, err := os.ReadFile("../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var g goreleaser
	if err := yaml.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if g.Version != 2 {
		t.Errorf("goreleaser config version %d, want 2", g.Version)
	}
	if len(g.Krews) != 1 || !g.Krews[0].SkipUpload || g.Krews[0].Name != "aksbackup" {
		t.Errorf("krews block: %+v", g.Krews)
	}
	for _, a := range g.Archives {
		if a.ID != "kubectl-aksbackup" {
			continue
		}
		if a.NameTemplate != "kubectl-aksbackup_{{ .Tag }}_{{ .Os }}_{{ .Arch }}" {
			t.Errorf("archive name_template %q no longer matches krew/aksbackup.yaml", a.NameTemplate)
		}
		if !contains(a.Formats, "tar.gz") || len(a.FormatOverrides) != 1 || a.FormatOverrides[0].Goos != "windows" || !contains(a.FormatOverrides[0].Formats, "zip") {
			t.Errorf("archive formats %v / %+v", a.Formats, a.FormatOverrides)
		}
		if !strings.Contains(fmt.Sprint(a.Files), "LICENSE") {
			t.Errorf("archive files %v lack LICENSE", a.Files)
		}
		return
	}
	t.Fatal("no kubectl-aksbackup archive in .goreleaser.yaml")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
