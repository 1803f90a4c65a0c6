package findings_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact/redacttest"
)

const storageKey = "p5Mzntk8+tZ1wxo5qPM3bnG+J+t6xeQPlt9lq//KjYj7hMuZYRLdn3fI7pJnur8//g3T+XKo0WXCjU3tOv+veg=="

func TestWriteTextEscapesAndRedacts(t *testing.T) {
	tests := []struct {
		name    string
		f       findings.Finding
		secrets []string
		want    []string // visible in the output
	}{
		{"escape in evidence", findings.Finding{ID: "x", Title: "t", Evidence: []string{"\x1b[2J\x1b[Hall clear\x07"}},
			nil, []string{`| \x1b[2J\x1b[Hall clear\x07`}},
		{"carriage return in message", findings.Finding{ID: "x", Title: "t", Message: "real error\rfake: ok"},
			nil, []string{`real error\rfake: ok`}},
		{"osc in object and affected", findings.Finding{ID: "x", Title: "t", Object: "bsl/\x1b]0;title\x07default", Affected: []string{"bsl/a\u009b2J"}},
			nil, []string{`bsl/\x1b]0;title\x07default`, `affects: bsl/a\u009b2J`}},
		{"backspace and C1 in remediation", findings.Finding{ID: "x", Title: "t", Remediation: []string{"kubectl get ns\b\b\b\brm -rf /\u0085"}},
			nil, []string{`fix: kubectl get ns\x08\x08\x08\x08rm -rf /\u0085`}},
		{"storage key in evidence", findings.Finding{ID: "x", Title: "t", Evidence: []string{"AccountKey=" + storageKey + ";EndpointSuffix=core.windows.net"}},
			[]string{storageKey[:40]}, []string{"EndpointSuffix=core.windows.net"}},
		{"password in url in message", findings.Finding{ID: "x", Title: "t", Message: "dial https://u:hunter2hunter2@proxy:8080 failed"},
			[]string{"hunter2hunter2"}, []string{"@proxy:8080 failed"}},
		{"sas in remediation", findings.Finding{ID: "x", Title: "t", Remediation: []string{"curl 'https://a.blob.core.windows.net/c?sv=1&sig=Xy7Kq2Lm9Pz4Rt8Vw1Bn6Cd3Fg5Hj0Kl2Mn4Op6Qr8%3D'"}},
			[]string{"Xy7Kq2Lm9Pz4Rt8Vw1Bn6Cd3Fg5Hj0Kl2Mn4Op6Qr8"}, []string{"sv=1&sig=" + redact.Mask}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := findings.WriteText(&b, []findings.Finding{tt.f}, findings.TextOptions{}); err != nil {
				t.Fatal(err)
			}
			redacttest.CheckTerminalOutput(t, b.String(), tt.secrets, tt.want)
		})
	}
}

func TestColorIsTheOnlyEscape(t *testing.T) {
	var b bytes.Buffer
	f := findings.Finding{ID: "x", Severity: findings.SeverityError, Title: "t", Message: "\x1b[32mfine\x1b[0m"}
	if err := findings.WriteText(&b, []findings.Finding{f}, findings.TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(b.String(), "\x1b"); got != 2 {
		t.Errorf("want only the severity's color on and off, got %d escapes: %q", got, b.String())
	}
}
