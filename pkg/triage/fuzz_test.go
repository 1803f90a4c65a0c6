package triage

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// FuzzScan: arbitrary bytes (very long lines, invalid UTF-8, CRLF, gzip magic, half records) never
// panic, and what is kept stays bounded: one group per catalog entry, three evidence lines each,
// each cut to a fixed length.
func FuzzScan(f *testing.F) {
	for _, tc := range catalogCases {
		f.Add([]byte(strings.Join(tc.lines, "\n")))
	}
	f.Add([]byte("\x1f\x8b\x08\x00garbage"))
	f.Add([]byte("\xff\xfeA\x00u\x00t\x00\n\x00"))
	f.Add([]byte("BZh91AY&SY garbage"))
	f.Add([]byte("time=\"\" level= msg=\"\\"))
	f.Add([]byte("{\"msg\":\"AuthorizationFailure\"\r\n\r\n\xff\xfe"))
	f.Add([]byte(strings.Repeat("RESPONSE 403\n", 200) + "ContainerNotFound"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := NewAnalyzer(nil)
		scanErr := a.Scan(bytes.NewReader(data), "fuzz")
		rep := a.Report()
		if len(rep.Findings) > len(Catalog) {
			t.Fatalf("%d findings for %d catalog entries", len(rep.Findings), len(Catalog))
		}
		// Every line of the decoded text is counted (gzip, bzip2 and UTF-16 are decoded first).
		if in, err := openInput(bytes.NewReader(data), "fuzz"); err == nil && scanErr == nil {
			if text, err := io.ReadAll(in); err == nil && rep.LinesRead < int64(bytes.Count(text, []byte{'\n'})) {
				t.Fatalf("linesRead %d < newlines %d", rep.LinesRead, bytes.Count(text, []byte{'\n'}))
			}
		}
		for _, f := range rep.Findings {
			if len(f.Evidence) > maxEvidence || len(f.Affected) > maxAffected {
				t.Fatalf("unbounded finding %+v", f)
			}
			for _, e := range f.Evidence {
				if len(e) > maxEvidenceLen+700 || strings.ContainsAny(e, "\r\n") {
					t.Fatalf("evidence %d bytes: %q", len(e), e)
				}
			}
		}
	})
}

// FuzzPrefilter: the sampled filter reports exactly the lines a naive search finds.
func FuzzPrefilter(f *testing.F) {
	f.Add([]byte("x AuthorizationPermissionMismatch y\nz OOMKilled\nAADSTS70021:\n"), uint8(0))
	f.Add([]byte("ContainerNotFoundContainerNotFound\n\n"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, shift uint8) {
		// Splice an anchor in at a fuzzed place so hits are common.
		anchors := append(append([]string(nil), successAnchors...), "AuthorizationPermissionMismatch", "OOMKilled", "Unavailable")
		if len(data) > 0 {
			pos := int(shift) % (len(data) + 1)
			a := anchors[int(shift)%len(anchors)]
			data = append(data[:pos:pos], append([]byte(a), data[pos:]...)...)
		}
		var got []int
		matcher.candidates(data, func(s int) { got = append(got, s) })
		var want []int
		for start := 0; start < len(data); {
			end := bytes.IndexByte(data[start:], '\n')
			if end < 0 {
				end = len(data)
			} else {
				end += start
			}
			line := data[start:end]
			for _, a := range append(matcher.longStrings(), matcher.shortStrings()...) {
				if bytes.Contains(line, []byte(a)) {
					want = append(want, start)
					break
				}
			}
			start = end + 1
		}
		if len(got) != len(want) {
			t.Fatalf("prefilter lines %v, naive %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("prefilter lines %v, naive %v", got, want)
			}
		}
	})
}
