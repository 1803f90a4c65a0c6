package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact/redacttest"
)

func TestLine(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "ContainerNotFound: The specified container does not exist.", "ContainerNotFound: The specified container does not exist."},
		{"unicode stays", "évidence ⏎ 容器", "évidence ⏎ 容器"},
		{"csi color", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"clear screen and home", "\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
		{"osc title with bel", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"osc 8 hyperlink with st", "\x1b]8;;https://evil\x1b\\click\x1b]8;;\x1b\\", `\x1b]8;;https://evil\x1b\click\x1b]8;;\x1b\`},
		{"carriage return overwrites", "all good\rERROR", `all good\rERROR`},
		{"backspace", "ok\b\bno", `ok\x08\x08no`},
		{"newline and tab", "a\nb\tc", `a\nb\tc`},
		{"nul and del", "a\x00b\x7fc", `a\x00b\x7fc`},
		{"c1 csi as a rune", "a\u009b31mb", `a\u009b31mb`},
		{"c1 csi as a raw byte", "a\x9b31mb", `a\x9b31mb`},
		{"next line c1", "a\u0085b", `a\u0085b`},
		{"bidi override", "file\u202etxt.exe", `file\u202etxt.exe`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"secret and escape", "AZURE_CLIENT_SECRET=s3cr3tV4lue\x1b[8m", `AZURE_CLIENT_SECRET=` + redact.Mask + `\x1b[8m`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := Text("line one\nline\x1b[2K two\r\n"); got != "line one\nline\\x1b[2K two\\r\n" {
		t.Errorf("Text keeps newlines only: %q", got)
	}
}

func TestWriteRedacts(t *testing.T) {
	type inner struct {
		Message string `json:"message"`
	}
	type doc struct {
		Name     string            `json:"name"`
		Secret   string            `json:"clientSecret"`
		Config   map[string]string `json:"config"`
		Evidence []string          `json:"evidence"`
		Inner    *inner            `json:"inner"`
		Any      any               `json:"any"`
		When     time.Time         `json:"when"`
		Count    int               `json:"count"`
	}
	const key = "p5Mzntk8+tZ1wxo5qPM3bnG+J+t6xeQPlt9lq//KjYj7hMuZYRLdn3fI7pJnur8//g3T+XKo0WXCjU3tOv+veg=="
	when := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	in := doc{
		Name:     "velero\x1b[31m\u009b2J\x7f\u202e\u0085",
		Secret:   "short",
		Config:   map[string]string{"storageAccount": "acct", "storageAccountKey": "abc123", "note": "AccountKey=" + key + ";"},
		Evidence: []string{`error="{\"client_secret\":\"Qx8Q~vLm2.Tz9\"}"`, "sig=" + key},
		Inner:    &inner{Message: "Bearer abcdefghijklmnop"},
		Any:      map[string]any{"password": "hunter2hunter2", "list": []any{"AZURE_STORAGE_KEY=" + key}},
		When:     when,
		Count:    3,
	}
	for _, f := range []Format{JSON, YAML} {
		var b bytes.Buffer
		if err := Write(&b, f, in); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		// YAML's emitter writes bidi controls raw (they are printable to YAML); nothing else may be.
		if r, bad := redacttest.TerminalUnsafe(strings.ReplaceAll(out, "\u202e", "")); bad || (f == JSON && strings.Contains(out, "\u202e")) {
			t.Errorf("%s: raw %U in\n%s", f, r, out)
		}
		for _, secret := range []string{"short", "abc123", key[:40], "Qx8Q~vLm2.Tz9", "abcdefghijklmnop", "hunter2hunter2"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: %q survived:\n%s", f, secret, out)
			}
		}
		var back doc
		var err error
		if f == JSON {
			err = json.Unmarshal(b.Bytes(), &back)
		} else {
			err = yaml.Unmarshal(b.Bytes(), &back)
		}
		if err != nil {
			t.Fatalf("%s does not decode: %v\n%s", f, err, out)
		}
		// Faithful: what is not a secret comes back byte for byte, control characters included.
		if back.Name != in.Name || back.Config["storageAccount"] != "acct" || !back.When.Equal(when) || back.Count != 3 {
			t.Errorf("%s is not faithful: %+v", f, back)
		}
		if back.Secret != redact.Mask || back.Config["storageAccountKey"] != redact.Mask || back.Config["note"] != "AccountKey="+redact.Mask+";" {
			t.Errorf("%s: named secrets not masked: %+v", f, back)
		}
	}
	if in.Secret != "short" || in.Config["storageAccountKey"] != "abc123" || in.Inner.Message != "Bearer abcdefghijklmnop" {
		t.Error("Write changed the caller's document")
	}
}

func TestErrorLine(t *testing.T) {
	err := fmt.Errorf("reading BSL: %w", errors.New("GET https://acct.blob.core.windows.net/v?sv=1&sig=Xy7Kq2Lm9Pz4Rt8Vw1Bn6Cd3Fg5Hj0Kl2Mn4Op6Qr8%3D: 403\x1b]0;x\x07"))
	got := ErrorLine(err)
	if want := `error: reading BSL: GET https://acct.blob.core.windows.net/v?sv=1&sig=` + redact.Mask + ` 403\x1b]0;x\x07` + "\n"; got != want {
		t.Errorf("ErrorLine = %q, want %q", got, want)
	}
}
