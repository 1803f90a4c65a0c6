package bsl

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact/redacttest"
)

func TestWriteTextEscapesAndRedacts(t *testing.T) {
	const storageKey = "p5Mzntk8+tZ1wxo5qPM3bnG+J+t6xeQPlt9lq//KjYj7hMuZYRLdn3fI7pJnur8//g3T+XKo0WXCjU3tOv+veg=="
	tests := []struct {
		name    string
		loc     Location
		secrets []string
		want    []string
	}{
		{"tab in a name cannot add a column", Location{Name: "default\tinjected-column", Namespace: "velero", Phase: "Available"},
			nil, []string{`default\tinjected-column`}},
		{"escapes in provider, bucket and message", Location{Name: "d", Namespace: "velero", Provider: "azure\x1b[8m", Bucket: "b\u009b2J",
			Message: "line one\nline two\x1b]0;x\x07\r"}, nil, []string{`azure\x1b[8m`, `b\u009b2J`, "line one\n", `line two\x1b]0;x\x07\r`}},
		{"secret config keys masked, others kept", Location{Name: "d", Namespace: "velero",
			Config: map[string]string{"storageAccount": "acct", "storageAccountKey": "abc123secret", "connection": "AccountKey=" + storageKey, "storageAccountKeyEnvVar": "AZURE_STORAGE_ACCOUNT_ACCESS_KEY"}},
			[]string{"abc123secret", storageKey[:40]}, []string{"storageAccount=acct", "storageAccountKey=" + redact.Mask, "storageAccountKeyEnvVar=AZURE_STORAGE_ACCOUNT_ACCESS_KEY"}},
		{"key in message", Location{Name: "d", Namespace: "velero", Message: "BackupStorageLocation \"d\" is unavailable: AZURE_STORAGE_ACCOUNT_ACCESS_KEY=" + storageKey},
			[]string{storageKey[:40]}, []string{"AZURE_STORAGE_ACCOUNT_ACCESS_KEY=" + redact.Mask}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteText(&b, &Report{Namespace: "velero", Locations: []Location{tt.loc}}, time.Now(), findings.TextOptions{}); err != nil {
				t.Fatal(err)
			}
			redacttest.CheckTerminalOutput(t, b.String(), tt.secrets, tt.want)
		})
	}
}

func TestWriteTextWideAddsTheAzureColumns(t *testing.T) {
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	validated := now.Add(-90 * time.Minute)
	r := &Report{Namespace: "velero", Locations: []Location{{Name: "default", Namespace: "velero", Phase: "Available", ValidationFrequency: "1m0s",
		LastValidationTime: &validated, Config: map[string]string{"storageAccount": "acct\x1b[2J", "resourceGroup": "rg"}}}}
	var normal, wide bytes.Buffer
	if err := WriteText(&normal, r, now, findings.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&wide, r, now, findings.TextOptions{Wide: true}); err != nil {
		t.Fatal(err)
	}
	table := func(s string) string { return s[:strings.Index(s, "\n\n")] }
	for _, col := range []string{"STORAGE ACCOUNT", "RESOURCE GROUP", "SUBSCRIPTION", "VALIDATION FREQUENCY"} {
		if strings.Contains(table(normal.String()), col) || !strings.Contains(table(wide.String()), col) {
			t.Errorf("%s must be a wide column only:\n%s\n%s", col, normal.String(), wide.String())
		}
	}
	// kubectl's ages: duration.HumanDuration.
	redacttest.CheckTerminalOutput(t, wide.String(), nil, []string{"90m ago", `acct\x1b[2J`, "<unset>"})
}
