package bsl

import (
	"bytes"
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
