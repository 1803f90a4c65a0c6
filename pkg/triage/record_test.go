package triage

import (
	"strings"
	"testing"
	"time"
)

// jsonLine is a line as Velero writes it with --log-format=json: logrus's JSONFormatter, keys in
// sorted order, the error at "error.message", the time in RFC 3339.
func jsonLine(ts, level, msg, bsl, errText string) string {
	var b strings.Builder
	b.WriteString("{")
	if bsl != "" {
		b.WriteString(`"backup-storage-location":"` + bsl + `",`)
	}
	b.WriteString(`"controller":"backup-storage-location",`)
	if errText != "" {
		b.WriteString(`"error.file":"/go/src/github.com/vmware-tanzu/velero/pkg/persistence/object_store.go:191","error.function":"github.com/vmware-tanzu/velero/pkg/persistence.(*objectBackupStore).IsValid","error.message":` + jsonQuote(errText) + `,`)
	}
	b.WriteString(`"level":"` + level + `","logSource":"pkg/controller/backup_storage_location_controller.go:255","msg":` + jsonQuote(msg) + `,"time":"` + ts + `"}`)
	return b.String()
}

func jsonQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "&", `\u0026`)
	return `"` + r.Replace(s) + `"`
}

const (
	jsonValid   = "BackupStorageLocations is valid, marking as available"
	jsonInvalid = "BackupStorageLocation is invalid, marking as unavailable"
	jsonStore   = "fail to validate backup store"
	jsonDenied  = "rpc error: code = Unknown desc = GET https://backupsa01.blob.core.windows.net/velero\n--------------------------------------------------------------------------------\nRESPONSE 403: 403 This request is not authorized to perform this operation using this permission.\nERROR CODE: AuthorizationPermissionMismatch\n--------------------------------------------------------------------------------\n"
)

func TestContinuationLines(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{`{"level":"error","msg":"fail to validate backup store","time":"2026-11-21T02:00:00Z"}`, false},
		{`  {"level":"info","msg":"x"}  `, false},
		{`{`, true},
		{`}`, true},
		{`  "error": "invalid_request",`, true},
		{`{"error": "invalid_request",`, true},
		{"\tat github.com/vmware-tanzu/velero", true},
		{"RESPONSE 403: 403 Forbidden", true},
		{`time="2026-11-21T02:00:00Z" level=info msg="x"`, false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isContinuation([]byte(tt.line)); got != tt.want {
			t.Errorf("isContinuation(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestJSONLinesAreEntriesOfTheirOwn(t *testing.T) {
	block := []byte(strings.Join([]string{
		jsonLine("2026-11-21T02:00:00Z", "info", "Validating BackupStorageLocation", "velero/default", ""),
		jsonLine("2026-11-21T02:00:01Z", "info", jsonValid, "velero/secondary", ""),
		jsonLine("2026-11-21T02:00:02Z", "error", jsonStore, "velero/default", jsonDenied),
		jsonLine("2026-11-21T02:00:03Z", "info", jsonInvalid, "velero/default", ""),
	}, "\n") + "\n")
	for start := 0; start < len(block); start = lineEnd(block, start) {
		from, to := recordBounds(block, start)
		if from != start || to != lineEnd(block, start) {
			t.Errorf("the entry of line %q spans %q", lineAt(block, start), block[from:to])
		}
	}
}

func TestSuccessResolvesOnlyEarlierErrorsOfItsLocation(t *testing.T) {
	logrusValid := func(ts, bsl string) string {
		return at(ts, `level=info msg="BackupStorageLocations is valid, marking as available" backup-storage-location=`+bsl+` controller=backup-storage-location`)
	}
	logrusDenied := func(ts, bsl string) string {
		return at(ts, `level=error msg="fail to validate backup store" backup-storage-location=`+bsl+` controller=backup-storage-location error="`+grpc+`AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission."`)
	}
	tests := []struct {
		name         string
		lines        []string
		wantResolved bool
	}{
		{
			name: "JSON log: a success of another location between JSON lines resolves nothing",
			lines: []string{
				jsonLine("2026-11-21T02:00:00Z", "info", "Validating BackupStorageLocation", "velero/default", ""),
				jsonLine("2026-11-21T02:00:01Z", "info", jsonValid, "velero/secondary", ""),
				jsonLine("2026-11-21T02:00:02Z", "error", jsonStore, "velero/default", jsonDenied),
				jsonLine("2026-11-21T02:00:03Z", "info", jsonValid, "velero/secondary", ""),
			},
		},
		{
			name: "JSON log: the same location validated after the error",
			lines: []string{
				jsonLine("2026-11-21T02:00:02Z", "error", jsonStore, "velero/default", jsonDenied),
				jsonLine("2026-11-21T02:05:00Z", "info", jsonValid, "velero/default", ""),
			},
			wantResolved: true,
		},
		{
			name: "JSON log: the same location validated before the error",
			lines: []string{
				jsonLine("2026-11-21T02:00:00Z", "info", jsonValid, "velero/default", ""),
				jsonLine("2026-11-21T02:00:02Z", "error", jsonStore, "velero/default", jsonDenied),
			},
		},
		{
			name:  "logrus: another location's success",
			lines: []string{logrusDenied("2026-11-21T02:00:00Z", "velero/default"), logrusValid("2026-11-21T02:01:00Z", "velero/secondary")},
		},
		{
			name:         "logrus: its own location's success, namespace or not",
			lines:        []string{logrusDenied("2026-11-21T02:00:00Z", "velero/default"), logrusValid("2026-11-21T02:01:00Z", "default")},
			wantResolved: true,
		},
		{
			name: "an error that shares the success's entry is kept and not resolved by it",
			lines: []string{
				logrusValid("2026-11-21T02:00:00Z", "velero/default"),
				"\tAuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission.",
			},
		},
		{
			name: "an error without a location, in a log about two locations, is not resolved by one's success",
			lines: []string{
				logrusDenied("2026-11-21T02:00:00Z", "velero/secondary"),
				"2026-11-21T02:00:01Z AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission.",
				logrusValid("2026-11-21T02:05:00Z", "velero/default"),
				logrusValid("2026-11-21T02:05:00Z", "velero/secondary"),
			},
		},
		{
			name: "an error without a location, in a log about one location, is resolved by its success",
			lines: []string{
				"2026-11-21T02:00:01Z AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission.",
				logrusValid("2026-11-21T02:05:00Z", "velero/default"),
			},
			wantResolved: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := analyze(t, nil, tt.lines...)
			if len(rep.Findings) != 1 || rep.Findings[0].ID != "blob-data-role-missing" {
				t.Fatalf("findings %v, want blob-data-role-missing", ids(rep))
			}
			if rep.Findings[0].Resolved != tt.wantResolved {
				t.Errorf("resolved %v, want %v", rep.Findings[0].Resolved, tt.wantResolved)
			}
		})
	}
}

func TestFieldsOfOneLine(t *testing.T) {
	tests := []struct {
		name, entry         string
		wantBSL, wantBackup string
		wantTime            string
	}{
		{
			name:    "an unquoted value at the end of a CRLF line",
			entry:   `time="2026-11-21T02:00:00Z" level=error msg="x" backup-storage-location=velero/default` + "\r\n",
			wantBSL: "velero/default", wantTime: "2026-11-21T02:00:00Z",
		},
		{
			name:    "an unquoted value at the end of a line with a continuation line below",
			entry:   `time="2026-11-21T02:00:00Z" level=error msg="x" backup-storage-location=velero/default` + "\n\tRESPONSE 403: 403 Forbidden",
			wantBSL: "velero/default", wantTime: "2026-11-21T02:00:00Z",
		},
		{
			name:       "an unterminated quote ends at the end of its line",
			entry:      `time="2026-11-21T02:00:00Z" level=error backup=velero/daily msg="cut short` + "\r\n" + `{"backup-storage-location": "other"}`,
			wantBackup: "velero/daily", wantTime: "2026-11-21T02:00:00Z",
		},
		{
			name:    "a lone carriage return ends a value",
			entry:   `level=error backup-storage-location=velero/default` + "\r" + `backup=x`,
			wantBSL: "velero/default", wantBackup: "x",
		},
		{
			name:    "JSON line: the location and time fields",
			entry:   jsonLine("2026-11-21T02:00:02Z", "error", jsonStore, "velero/default", jsonDenied),
			wantBSL: "velero/default", wantTime: "2026-11-21T02:00:02Z",
		},
		{
			name:    "a BSL status message names its location",
			entry:   `2026-11-21T02:00:00Z BackupStorageLocation velero/default phase=Unavailable message: ContainerNotFound`,
			wantBSL: "velero/default", wantTime: "2026-11-21T02:00:00Z",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseRecord([]byte(tt.entry), time.Now())
			got := ""
			if !r.time.IsZero() {
				got = r.time.UTC().Format(time.RFC3339)
			}
			if r.bsl != tt.wantBSL || r.backup != tt.wantBackup || got != tt.wantTime {
				t.Errorf("bsl %q backup %q time %q, want %q %q %q", r.bsl, r.backup, got, tt.wantBSL, tt.wantBackup, tt.wantTime)
			}
			if strings.Contains(r.text, "\r") {
				t.Errorf("text keeps a carriage return: %q", r.text)
			}
		})
	}
}
