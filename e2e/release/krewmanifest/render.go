// Package krewmanifest renders the Krew manifest template (krew/aksbackup.yaml) the way
// krew-release-bot renders it for a release, with the archives' sha256 taken from local files
// instead of downloaded ones.
package krewmanifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

// Values are the fields krew-release-bot offers the template and each addURIAndSha URI.
type Values struct {
	TagName string
	Version string
}

// ValuesForTag is what the bot derives from a release tag: the tag, and its first dotted number
// as the version.
func ValuesForTag(tag string) Values {
	v := regexp.MustCompile(`\d+(\.\d+)+`).FindString(tag)
	if v == "" {
		v = tag
	}
	return Values{TagName: tag, Version: v}
}

// Render executes the template with the bot's helpers: addURIAndSha expands the URI (itself a
// template over Values), asks sha256Of for the asset's digest, and yields the "uri:" and "sha256:"
// lines (the bot assumes the four-space indent of a platform entry); indent re-indents a block.
func Render(tmpl []byte, vals Values, sha256Of func(uri string) (string, error)) ([]byte, error) {
	funcs := template.FuncMap{
		"indent": indent,
		"addURIAndSha": func(rawURI, tag string) (string, error) {
			var uri bytes.Buffer
			t, err := template.New("uri").Parse(rawURI)
			if err != nil {
				return "", fmt.Errorf("parsing the URI %q: %w", rawURI, err)
			}
			if err := t.Execute(&uri, ValuesForTag(tag)); err != nil {
				return "", fmt.Errorf("expanding the URI %q: %w", rawURI, err)
			}
			sum, err := sha256Of(uri.String())
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("uri: %s\n    sha256: %s", uri.String(), sum), nil
		},
	}
	t, err := template.New("krew").Funcs(funcs).Option("missingkey=error").Parse(string(tmpl))
	if err != nil {
		return nil, fmt.Errorf("parsing the Krew manifest template: %w", err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, vals); err != nil {
		return nil, fmt.Errorf("rendering the Krew manifest template: %w", err)
	}
	return out.Bytes(), nil
}

// indent is the bot's helper: pad every line of v by spaces.
func indent(spaces int, v string) string {
	v = strings.ReplaceAll(v, "    sha256:", "sha256:")
	pad := strings.Repeat(" ", spaces)
	return strings.TrimSpace(pad + strings.ReplaceAll(v, "\n", "\n"+pad))
}

// LocalArchives answers addURIAndSha from dir: the asset a release URI names is the file of the same
// name there (GoReleaser's dist directory).
func LocalArchives(dir string) func(uri string) (string, error) {
	return func(uri string) (string, error) {
		u, err := url.Parse(uri)
		if err != nil || u.Scheme != "https" {
			return "", fmt.Errorf("the manifest URI %q is not an https URL", uri)
		}
		return FileSHA256(filepath.Join(dir, path.Base(u.Path)))
	}
}

// FileSHA256 is the hex sha256 of a file's content.
func FileSHA256(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("hashing the release archive: %w; run make dist to build the archives", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", file, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SnapshotTag reads the tag GoReleaser built with from its dist/metadata.json.
func SnapshotTag(distDir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(distDir, "metadata.json"))
	if err != nil {
		return "", fmt.Errorf("reading GoReleaser's metadata: %w; run make dist", err)
	}
	var meta struct {
		Tag string `json:"tag"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil || meta.Tag == "" {
		return "", fmt.Errorf("%s/metadata.json names no tag (%v); run make dist again", distDir, err)
	}
	return meta.Tag, nil
}
