package plugin

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
)

// TestTriageNeverAFalseAllClear: an input triage cannot read, or reads only in part, never ends in
// "No known root cause found." with exit 0.
func TestTriageNeverAFalseAllClear(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(veleroLog))
	for range 2000 {
		zw.Write([]byte(`time="2026-11-21T02:00:02Z" level=info msg="Validating BackupStorageLocation" backup-storage-location=velero/default controller=backup-storage-location` + "\n"))
	}
	zw.Close()
	truncated := write("truncated.log.gz", gz.Bytes()[:gz.Len()/2])
	units := utf16.Encode([]rune("\uFEFF" + strings.ReplaceAll(veleroLog, "\n", "\r\n")))
	powershell := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(powershell[2*i:], u)
	}
	utf16File := write("velero-ps.log", powershell)
	xz := write("velero.log.xz", []byte("\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46\x02\x00\x21\x01"))
	zst := write("velero.log.zst", []byte("\x28\xb5\x2f\xfd\x24\x00\x01\x00"))
	zip := write("logs.zip", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"))
	bin := write("core", append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0, 1, 2}, 300)...))
	empty := write("empty.log", nil)
	plain := write("velero.log", []byte(veleroLog))

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{"UTF-16 from Windows PowerShell is read", []string{"--file", utf16File}, exitcode.Findings, []string{"Read 3 lines", "container-not-found"}, nil},
		{"truncated gzip: the part read is reported, then exit 3", []string{"--file", truncated}, exitcode.Failed,
			[]string{"container-not-found"}, []string{"the report is incomplete", "truncated", "the report covers only those lines"}},
		{"xz is refused with how to decompress", []string{"--file", xz}, exitcode.InvalidInput, nil, []string{"xz-compressed", "xz -dc"}},
		{"zstd is refused", []string{"--file", zst}, exitcode.InvalidInput, nil, []string{"zstd-compressed", "zstd -dc"}},
		{"zip is refused", []string{"--file", zip}, exitcode.InvalidInput, nil, []string{"a zip archive", "unzip -p"}},
		{"binary data is refused", []string{"--file", bin}, exitcode.InvalidInput, nil, []string{"binary data"}},
		{"a readable log does not excuse a binary one", []string{"--file", plain, "--file", bin}, exitcode.InvalidInput, nil, []string{"binary data"}},
		{"an empty file alone is nothing to triage", []string{"--file", empty}, exitcode.InvalidInput, nil, []string{"nothing to triage", "is empty"}},
		{"an empty file next to a log gets a warning", []string{"--file", empty, "--file", plain}, exitcode.Findings, []string{"container-not-found"}, []string{"warning: file " + empty + " is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := run(t, &fakeFactory{client: unwiredCluster(true)}, "", append([]string{"triage"}, tt.args...)...)
			if code := exitcode.Code(err); code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d\n%s", code, err, tt.wantCode, out)
			}
			if strings.Contains(out, "No known root cause found") {
				t.Errorf("a false all-clear:\n%s", out)
			}
			msg := errOut
			if err != nil {
				msg += err.Error()
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q: %s", want, msg)
				}
			}
		})
	}
}
