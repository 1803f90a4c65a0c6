package triage

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
)

// failing is one log line that the catalog recognises (blob-data-role-missing).
var failing = at("2026-11-21T02:00:00Z", roleMissing) + "\n"

func gzipped(t *testing.T, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// utf16Bytes encodes text as UTF-16 in the given order, with a byte order mark when bom is set.
func utf16Bytes(text string, bigEndian, bom bool) []byte {
	units := utf16.Encode([]rune(text))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	out := make([]byte, 2*len(units))
	for i, u := range units {
		if bigEndian {
			binary.BigEndian.PutUint16(out[2*i:], u)
		} else {
			binary.LittleEndian.PutUint16(out[2*i:], u)
		}
	}
	return out
}

// bzip2Failing is `printf '%s' "$failing" | bzip2` with the failing line at 2026-11-21T02:00:00Z:
// the standard library decodes bzip2 but has no encoder.
const bzip2Failing = "425a68393141592653597efbcfe900002b5f80001050027112200244102be79f10200048893d4f51a69b246836a7a8d1a0d53d4fd49b534d3400346105ddf2b3471c501272029118905e17709447b041ead6f46cdba99fd58550a49fb4f87a961a020891b1a4205568c2b4b6ab77e2ee48a70a120fdf79fd20"

func TestInputForms(t *testing.T) {
	bz, _ := hex.DecodeString(bzip2Failing)
	twoMembers := append(gzipped(t, strings.Repeat(at("2026-11-21T01:00:00Z", `level=info msg="Validating BackupStorageLocation"`)+"\n", 3)), gzipped(t, failing)...)
	long := strings.Repeat(at("2026-11-21T01:00:00Z", `level=info msg="Validating BackupStorageLocation"`)+"\n", 20000) + failing
	fullGz := gzipped(t, long+strings.Repeat(at("2026-11-21T03:00:00Z", `level=info msg="Backup completed"`)+"\n", 20000))
	truncated := fullGz[:len(fullGz)*3/4]
	corrupt := append([]byte(nil), fullGz...)
	corrupt[len(corrupt)-6] ^= 0xFF // the CRC-32 in the trailer
	tarHeader := make([]byte, 1024)
	copy(tarHeader, "velero.log")
	copy(tarHeader[257:], "ustar\x0000")
	elf := append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0, 1, 2, 3}, 512)...)
	padded := append(bytes.Repeat([]byte{0}, 40000), failing...)

	tests := []struct {
		name  string
		input []byte
		// found: the failing line is read and recognised. format: refused as this form (exit 2).
		// partial: read part-way, with what was read analysed (exit 3).
		found   bool
		format  string
		partial bool
	}{
		{name: "plain", input: []byte(failing), found: true},
		{name: "gzip with two members (cat a.gz b.gz)", input: twoMembers, found: true},
		{name: "gzip of gzip", input: gzipped(t, string(gzipped(t, failing))), found: true},
		{name: "bzip2", input: bz, found: true},
		{name: "truncated gzip: what was read counts, and the read fails", input: truncated, found: true, partial: true},
		{name: "gzip with a wrong checksum", input: corrupt, found: true, partial: true},
		{name: "gzip magic with a broken header", input: []byte("\x1f\x8b\x08\x00garbage"), partial: true},
		{name: "UTF-8 with a byte order mark", input: append([]byte{0xEF, 0xBB, 0xBF}, failing...), found: true},
		{name: "UTF-16 LE with BOM (Windows PowerShell >)", input: utf16Bytes(strings.ReplaceAll(failing, "\n", "\r\n"), false, true), found: true},
		{name: "UTF-16 BE with BOM", input: utf16Bytes(failing, true, true), found: true},
		{name: "UTF-16 LE without BOM", input: utf16Bytes(failing, false, false), found: true},
		{name: "gzip of UTF-16", input: gzipped(t, string(utf16Bytes(failing, false, true))), found: true},
		{name: "NUL padding of a log truncated in place", input: padded, found: true},
		{name: "xz", input: []byte("\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46"), format: "xz-compressed"},
		{name: "zstd", input: []byte("\x28\xb5\x2f\xfd\x24\x00\x01\x00"), format: "zstd-compressed"},
		{name: "zip", input: []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), format: "a zip archive"},
		{name: "7z", input: []byte("7z\xbc\xaf\x27\x1c\x00\x04"), format: "a 7-Zip archive"},
		{name: "tar", input: append(tarHeader, failing...), format: "a tar archive"},
		{name: "gzip of xz (.tar.xz renamed .gz and gzipped)", input: gzipped(t, "\xfd7zXZ\x00\x00\x04"), format: "xz-compressed"},
		{name: "binary: an executable", input: elf, format: "binary data, not a text log"},
		{name: "binary: a recognised line after NUL bytes", input: append([]byte("\x01\x00\x02\x00\x00\x03"), failing...), format: "binary data, not a text log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAnalyzer(nil)
			err := a.Scan(bytes.NewReader(tt.input), "file x")
			var formatErr *FormatError
			var readErr *ReadError
			switch {
			case tt.format != "":
				if !errors.As(err, &formatErr) || formatErr.Format != tt.format || formatErr.Hint == "" {
					t.Fatalf("err %v, want a FormatError %q with a hint", err, tt.format)
				}
				if a.LinesRead() != 0 {
					t.Errorf("read %d lines of a refused input", a.LinesRead())
				}
			case tt.partial:
				if !errors.As(err, &readErr) || !strings.Contains(err.Error(), "the report covers only") {
					t.Fatalf("err %v, want a ReadError", err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
			}
			rep := a.Report()
			got := len(rep.Findings) == 1 && rep.Findings[0].ID == "blob-data-role-missing" &&
				rep.Findings[0].FirstSeen != nil && rep.Findings[0].FirstSeen.Format("15:04:05") == "02:00:00"
			if got != tt.found {
				t.Errorf("found %v (%v), want %v", got, ids(rep), tt.found)
			}
		})
	}
}

func TestTruncatedGzipCountsTheLinesRead(t *testing.T) {
	lines := strings.Repeat(at("2026-11-21T01:00:00Z", `level=info msg="Validating BackupStorageLocation"`)+"\n", 50000)
	full := gzipped(t, lines)
	a := NewAnalyzer(nil)
	err := a.Scan(bytes.NewReader(full[:len(full)/2]), "file x.gz")
	var readErr *ReadError
	if !errors.As(err, &readErr) {
		t.Fatalf("err %v, want a ReadError", err)
	}
	if readErr.Lines <= 0 || readErr.Lines >= 50000 || readErr.Lines != a.LinesRead() {
		t.Errorf("ReadError.Lines %d, analyser read %d, of 50000", readErr.Lines, a.LinesRead())
	}
	if !strings.Contains(err.Error(), "truncated") {
		t.Errorf("message does not say truncated: %v", err)
	}
}

func TestEmptyInputReadsNothing(t *testing.T) {
	for _, input := range [][]byte{nil, gzipped(t, ""), {0xEF, 0xBB, 0xBF}, bytes.Repeat([]byte{0}, 100)} {
		a := NewAnalyzer(nil)
		if err := a.Scan(bytes.NewReader(input), "file x"); err != nil {
			t.Fatalf("%q: %v", input, err)
		}
		if a.LinesRead() != 0 {
			t.Errorf("%q: %d lines", input, a.LinesRead())
		}
	}
}
