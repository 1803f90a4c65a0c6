package triage

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

func ids(rep Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.ID)
	}
	return out
}

func at(ts string, rest string) string { return `time="` + ts + `" ` + rest }

const (
	notInjected = `level=error msg="fail to validate backup store"` + ctrl + ` error="` + grpc + `ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource"`
	unavailable = `level=error msg="Current BackupStorageLocations available/unavailable/unknown: 0/1/0, BackupStorageLocation \"default\" is unavailable: ManagedIdentityCredential authentication failed.)" controller=backup-storage-location`
	invalid     = `level=info msg="BackupStorageLocation is invalid, marking as unavailable"` + ctrl
	valid       = `level=info msg="BackupStorageLocations is valid, marking as available"` + ctrl
	readDenied  = `level=info msg="failed to retrieve the storage account properties: RESPONSE 403: 403 Forbidden\nERROR CODE: AuthorizationFailed, fallback to use the default URI \"https://backupsa01.blob.core.windows.net\"" pluginName=velero-plugin-for-microsoft-azure`
	roleMissing = `level=error msg="fail to validate backup store"` + ctrl + ` error="` + grpc + `AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission."`
)

func TestRankingRootCauseFirst(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
		// resolved lists IDs that must be marked resolved (and not be errors).
		resolved []string
	}{
		{
			name: "symptom lines come before the cause in the log, but after it in the report",
			lines: []string{
				at("2026-11-21T02:00:00Z", unavailable),
				at("2026-11-21T02:00:01Z", invalid),
				at("2026-11-21T02:00:02Z", notInjected),
				at("2026-11-21T02:01:00Z", unavailable),
			},
			want: []string{"wi-not-injected", "bsl-unavailable"},
		},
		{
			name: "info-level read denial followed by success is not the cause",
			lines: []string{
				at("2026-11-21T02:00:00Z", readDenied),
				at("2026-11-21T02:00:01Z", valid),
			},
			want: []string{"storage-account-read-denied"},
		},
		{
			name: "read denial is informational next to the real cause",
			lines: []string{
				at("2026-11-21T02:00:00Z", readDenied),
				at("2026-11-21T02:00:01Z", roleMissing),
				at("2026-11-21T02:00:02Z", strings.Replace(unavailable, "ManagedIdentityCredential authentication failed.", "AuthorizationPermissionMismatch: This request is not authorized", 1)),
			},
			want: []string{"blob-data-role-missing", "storage-account-read-denied", "bsl-unavailable"},
		},
		{
			name: "lower layer first: an uninjected pod explains a later role error from another replica",
			lines: []string{
				at("2026-11-21T02:00:00Z", roleMissing),
				at("2026-11-21T02:00:01Z", notInjected),
			},
			want: []string{"wi-not-injected", "blob-data-role-missing"},
		},
		{
			name: "an error followed by a successful validation is resolved",
			lines: []string{
				at("2026-11-21T02:00:00Z", roleMissing),
				at("2026-11-21T02:05:00Z", valid),
			},
			want:     []string{"blob-data-role-missing"},
			resolved: []string{"blob-data-role-missing"},
		},
		{
			name: "times order replicas read one after the other: a success in the first log before an error in the second",
			lines: []string{
				at("2026-11-21T02:05:00Z", valid),
				at("2026-11-21T02:00:00Z", roleMissing),
				at("2026-11-21T02:06:00Z", roleMissing),
			},
			want: []string{"blob-data-role-missing"},
		},
		{
			name: "an error after the last success stays current",
			lines: []string{
				at("2026-11-21T02:00:00Z", valid),
				at("2026-11-21T02:05:00Z", roleMissing),
			},
			want: []string{"blob-data-role-missing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := analyze(t, nil, tt.lines...)
			if got := ids(rep); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("order %v, want %v", got, tt.want)
			}
			for _, f := range rep.Findings {
				wantResolved := false
				for _, id := range tt.resolved {
					wantResolved = wantResolved || id == f.ID
				}
				if f.Resolved != wantResolved {
					t.Errorf("%s resolved=%v, want %v", f.ID, f.Resolved, wantResolved)
				}
				if f.Resolved && f.Severity == findings.SeverityError {
					t.Errorf("%s is resolved but still an error", f.ID)
				}
			}
		})
	}
}

func TestSymptomLinksToCause(t *testing.T) {
	rep := analyze(t, nil, at("2026-11-21T02:00:00Z", notInjected), at("2026-11-21T02:00:01Z", unavailable))
	last := rep.Findings[len(rep.Findings)-1]
	if last.ID != "bsl-unavailable" || strings.Join(last.CausedBy, ",") != "wi-not-injected" {
		t.Fatalf("symptom %+v", last)
	}
}

func TestGroupingCountsTimesAndAffected(t *testing.T) {
	var lines []string
	for i := 0; i < 50; i++ {
		lines = append(lines, at(fmt.Sprintf("2026-11-21T02:%02d:00Z", i), roleMissing))
		lines = append(lines, at(fmt.Sprintf("2026-11-21T02:%02d:30Z", i), `level=info msg="Validating BackupStorageLocation"`+ctrl))
	}
	lines = append(lines, at("2026-11-21T03:00:00Z", `level=error msg="fail to validate backup store" backup-storage-location=dataprotection-microsoft/secondary controller=backup-storage-location error="AuthorizationPermissionMismatch"`))
	lines = append(lines, at("2026-11-21T03:00:01Z", `level=error msg="Error uploading log file" backup=dataprotection-microsoft/daily-20261121 error="AuthorizationPermissionMismatch"`))
	rep := analyze(t, nil, lines...)
	if len(rep.Findings) != 1 {
		t.Fatalf("findings %v", ids(rep))
	}
	f := rep.Findings[0]
	if f.Count != 52 {
		t.Errorf("count %d, want 52", f.Count)
	}
	if f.FirstSeen.Format(time.RFC3339) != "2026-11-21T02:00:00Z" || f.LastSeen.Format(time.RFC3339) != "2026-11-21T03:00:01Z" {
		t.Errorf("first %v last %v", f.FirstSeen, f.LastSeen)
	}
	want := "bsl/dataprotection-microsoft/default,bsl/dataprotection-microsoft/secondary,backup/dataprotection-microsoft/daily-20261121"
	if strings.Join(f.Affected, ",") != want {
		t.Errorf("affected %v", f.Affected)
	}
	if len(f.Evidence) != 3 {
		t.Errorf("evidence %d lines, want at most and here exactly 3 (distinct)", len(f.Evidence))
	}
	if rep.LinesRead != 102 {
		t.Errorf("linesRead %d", rep.LinesRead)
	}
}

func TestEvidenceAndRemediationAreRedacted(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiIsImtpZCI6ImxhYiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6eDp5In0.c2lnbmF0dXJlc2lnbmF0dXJl"
	lines := []string{
		at("2026-11-21T02:00:00Z", `level=error msg="fail to validate backup store"`+ctrl+` error="GET https://backupsa01.blob.core.windows.net/velero?sv=2021-08-06&sig=SECRETSIGNATURE%3D&se=2026\nERROR CODE: AuthorizationPermissionMismatch assertion=`+jwt+` AccountKey=c2VjcmV0a2V5c2VjcmV0a2V5=="`),
	}
	rep := analyze(t, nil, lines...)
	out, _ := json.Marshal(rep)
	for _, secret := range []string{"SECRETSIGNATURE", jwt, "c2VjcmV0a2V5c2VjcmV0a2V5"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("secret %q in report: %s", secret, out)
		}
	}
	if !bytes.Contains(out, []byte("AuthorizationPermissionMismatch")) {
		t.Errorf("lost the evidence: %s", out)
	}
}

func TestFormats(t *testing.T) {
	crlf := strings.ReplaceAll(at("2026-11-21T02:00:00Z", roleMissing)+"\n", "\n", "\r\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(at("2026-11-21T02:00:00Z", roleMissing) + "\n"))
	zw.Close()
	tests := []struct {
		name, input string
		wantTime    string
	}{
		{"crlf", crlf, "2026-11-21T02:00:00Z"},
		{"gzip", gz.String(), "2026-11-21T02:00:00Z"},
		{"cri file", "2026-11-21T02:00:00.123456789Z stderr F level=error msg=\"fail\" error=\"AuthorizationPermissionMismatch\"\n", "2026-11-21T02:00:00Z"},
		{"kubectl logs --timestamps", "2026-11-21T02:00:00.5Z " + at("2026-11-21T02:00:00Z", roleMissing) + "\n", "2026-11-21T02:00:00Z"},
		{"klog", "E1121 02:00:00.000000       1 storage.go:10] \"fail to validate\" err=\"AuthorizationPermissionMismatch\"\n", fmt.Sprintf("%d-11-21T02:00:00Z", klogYear())},
		{"json", `{"time":"2026-11-21T02:00:00Z","level":"error","msg":"x","error":"AuthorizationPermissionMismatch"}` + "\n", "2026-11-21T02:00:00Z"},
		{"no trailing newline", at("2026-11-21T02:00:00Z", roleMissing), "2026-11-21T02:00:00Z"},
		{"free text", "AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission.\n", ""},
		{"invalid utf-8", "\x80\xc0 AuthorizationPermissionMismatch \xc3\x28\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAnalyzer(nil)
			if err := a.Scan(strings.NewReader(tt.input), tt.name); err != nil {
				t.Fatal(err)
			}
			rep := a.Report()
			if len(rep.Findings) != 1 || rep.Findings[0].ID != "blob-data-role-missing" {
				t.Fatalf("findings %v", ids(rep))
			}
			f := rep.Findings[0]
			got := ""
			if f.FirstSeen != nil {
				got = f.FirstSeen.Format(time.RFC3339)
			}
			if got != tt.wantTime {
				t.Errorf("time %q, want %q", got, tt.wantTime)
			}
			for _, e := range f.Evidence {
				if strings.ContainsAny(e, "\r\n") || !utf8Valid(e) {
					t.Errorf("evidence not one clean line: %q", e)
				}
			}
		})
	}
}

func klogYear() int {
	now := time.Now()
	t := time.Date(now.Year(), 11, 21, 2, 0, 0, 0, time.UTC)
	if t.After(now.Add(24 * time.Hour)) {
		return now.Year() - 1
	}
	return now.Year()
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

func TestLongLinesAreBounded(t *testing.T) {
	// A 3 MB line without a newline, then a real finding: the long line is cut, the next is read.
	long := strings.Repeat("x", 3<<20)
	input := long + " AuthorizationFailure\n" + at("2026-11-21T02:00:00Z", roleMissing) + "\n"
	rep := analyze(t, nil, input)
	if got := ids(rep); strings.Join(got, ",") != "blob-data-role-missing" {
		t.Fatalf("findings %v", got)
	}
	if rep.LinesRead != 3 {
		t.Errorf("linesRead %d, want 3", rep.LinesRead)
	}
}

func TestBlockBoundaries(t *testing.T) {
	// Matches straddling the 1 MB read blocks are found exactly once each.
	var b strings.Builder
	n := 0
	for b.Len() < 3*blockSize {
		b.WriteString(at("2026-11-21T02:00:00Z", `level=info msg="Validating BackupStorageLocation"`+ctrl) + "\n")
		if b.Len()%7 == 0 || b.Len()%5 == 0 {
			b.WriteString(at("2026-11-21T02:00:00Z", roleMissing) + "\n")
			n++
		}
	}
	rep := analyze(t, nil, b.String())
	if len(rep.Findings) != 1 || rep.Findings[0].Count != n {
		t.Fatalf("found %v, want blob-data-role-missing x%d", rep.Findings, n)
	}
}

func TestContextFillsRemediation(t *testing.T) {
	rep := analyze(t, Context{"namespace": "velero", "account": "fromcontext", "resourceGroup": "rg1", "clientID": "c0ffee00-aaaa-4bbb-8ccc-000000000001"},
		at("2026-11-21T02:00:00Z", `level=error msg="fail" error="AuthorizationPermissionMismatch"`))
	rem := strings.Join(rep.Findings[0].Remediation, "\n")
	for _, want := range []string{"-n velero", "-n fromcontext", "-g rg1", "--assignee c0ffee00-aaaa-4bbb-8ccc-000000000001"} {
		if !strings.Contains(rem, want) {
			t.Errorf("remediation lacks %q:\n%s", want, rem)
		}
	}
	if strings.Contains(rem, "<account>") {
		t.Errorf("placeholder left although the context has it:\n%s", rem)
	}
}

func TestNothingFound(t *testing.T) {
	rep := analyze(t, nil, at("2026-11-21T02:00:00Z", valid), at("2026-11-21T02:00:00Z", `level=info msg="Backup completed" backup=velero/x`))
	if len(rep.Findings) != 0 || rep.LinesRead != 2 {
		t.Fatalf("%+v", rep)
	}
	if out, _ := json.Marshal(rep); !bytes.Contains(out, []byte(`"findings":[]`)) {
		t.Errorf("findings must be an empty list, not null: %s", out)
	}
}

func TestBSLMessage(t *testing.T) {
	a := NewAnalyzer(nil)
	a.AddText(`BackupStorageLocation "default" is unavailable: ContainerNotFound: The specified container does not exist.`, "bsl default")
	rep := a.Report()
	if got := ids(rep); strings.Join(got, ",") != "container-not-found,bsl-unavailable" {
		t.Fatalf("%v", got)
	}
}
