// Package bundle writes the support bundle: a gzip'd tar of what a support engineer needs to see
// (the tool's reports, the namespace's objects, recent logs and events), where every file passes
// through redaction on its way in and no Secret is ever read.
package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
)

// ManifestName is the archive's table of contents, written last.
const ManifestName = "MANIFEST.yaml"

// File is one entry of the archive.
type File struct {
	Name  string `json:"name"`
	Bytes int    `json:"bytes"`
	// About says what the file holds.
	About string `json:"about,omitempty"`
}

// Skipped is something the bundle should hold but does not, with the reason (forbidden, not found).
type Skipped struct {
	What   string `json:"what"`
	Reason string `json:"reason"`
}

// Manifest is MANIFEST.yaml: what the archive holds, what it could not collect, and how it was made.
type Manifest struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Created    time.Time `json:"created"`
	Tool       any       `json:"tool,omitempty"`
	Namespace  string    `json:"namespace,omitempty"`
	Files      []File    `json:"files"`
	Skipped    []Skipped `json:"skipped,omitempty"`
	// Redaction states the guarantees, so whoever opens the bundle knows what they will not find.
	Redaction string `json:"redaction"`
}

// Redaction is the manifest's statement of what was left out.
const Redaction = "No Secret was read. Every file passed through the tool's redaction (tokens, keys, SAS signatures, client secrets, passwords); managedFields and last-applied-configuration annotations were dropped."

// Archive is a bundle being written. Names are unique; a repeated name gets a numeric suffix.
type Archive struct {
	gz       *gzip.Writer
	tw       *tar.Writer
	modTime  time.Time
	manifest Manifest
	names    map[string]bool
}

// NewArchive starts a bundle on w. modTime dates every entry, so that two bundles of the same state
// differ only where the state does.
func NewArchive(w io.Writer, modTime time.Time) *Archive {
	gz := gzip.NewWriter(w)
	return &Archive{gz: gz, tw: tar.NewWriter(gz), modTime: modTime.UTC(), names: map[string]bool{},
		manifest: Manifest{APIVersion: "aksbackup.kubectl.io/v1alpha1", Kind: "SupportBundle", Created: modTime.UTC(), Redaction: Redaction}}
}

// SetHeader records who made the bundle and for which namespace.
func (a *Archive) SetHeader(tool any, namespace string) {
	a.manifest.Tool, a.manifest.Namespace = tool, namespace
}

// AddText adds free text (logs), redacted as a whole: multi-line secrets (PEM blocks, YAML block
// scalars) are only recognised across their lines.
func (a *Archive) AddText(name, about string, text []byte) error {
	return a.add(name, about, []byte(redact.String(string(text))))
}

// AddYAML adds a document as YAML; output.Write redacts every string in it.
func (a *Archive) AddYAML(name, about string, doc any) error {
	return a.addDoc(name, about, output.YAML, doc)
}

// AddJSON adds a document as JSON; output.Write redacts every string in it.
func (a *Archive) AddJSON(name, about string, doc any) error {
	return a.addDoc(name, about, output.JSON, doc)
}

func (a *Archive) addDoc(name, about string, f output.Format, doc any) error {
	var b bytes.Buffer
	if err := output.Write(&b, f, doc); err != nil {
		return fmt.Errorf("bundle file %s: %w", name, err)
	}
	return a.add(name, about, b.Bytes())
}

// Skip records something that could not be collected.
func (a *Archive) Skip(what, reason string) {
	a.manifest.Skipped = append(a.manifest.Skipped, Skipped{What: what, Reason: redact.String(reason)})
}

// Manifest returns the table of contents so far.
func (a *Archive) Manifest() Manifest { return a.manifest }

func (a *Archive) add(name, about string, data []byte) error {
	name = a.unique(path.Clean(strings.TrimPrefix(name, "/")))
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: a.modTime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("bundle file %s: %w", name, err)
	}
	if _, err := a.tw.Write(data); err != nil {
		return fmt.Errorf("bundle file %s: %w", name, err)
	}
	a.manifest.Files = append(a.manifest.Files, File{Name: name, Bytes: len(data), About: about})
	return nil
}

func (a *Archive) unique(name string) string {
	candidate := name
	for i := 2; a.names[candidate]; i++ {
		ext := path.Ext(name)
		candidate = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(name, ext), i, ext)
	}
	a.names[candidate] = true
	return candidate
}

// Close writes the manifest and ends the archive.
func (a *Archive) Close() error {
	sort.SliceStable(a.manifest.Skipped, func(i, j int) bool { return a.manifest.Skipped[i].What < a.manifest.Skipped[j].What })
	m := a.manifest
	if err := a.AddYAML(ManifestName, "this table of contents", m); err != nil {
		return err
	}
	if err := a.tw.Close(); err != nil {
		return fmt.Errorf("closing the bundle: %w", err)
	}
	if err := a.gz.Close(); err != nil {
		return fmt.Errorf("closing the bundle: %w", err)
	}
	return nil
}
