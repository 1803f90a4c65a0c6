package redact_test

import (
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact/redacttest"
)

// FuzzRedact plants a secret, in each form it reaches text, inside random log text: no piece of it
// long enough to matter (12 characters) may survive String.
func FuzzRedact(f *testing.F) {
	for form := range uint8(redacttest.Forms) {
		f.Add(`time="2026-11-23T10:00:00Z" level=error msg="fail to validate backup store"`, `logSource="pkg/controller/bsl.go:180"`, form, []byte{form, 7, 42})
	}
	f.Add(`{"level":"error","msg":"x","error":"`, `"}`, uint8(3), []byte("seed"))
	f.Add("Bearer\n", `\`, uint8(1), []byte("b"))
	f.Fuzz(func(t *testing.T, prefix, suffix string, form uint8, seed []byte) {
		p := redacttest.Plant(form, seed)
		text := prefix + "\n" + p.Text + "\n" + suffix
		got := redact.String(text)
		for _, secret := range p.Secrets {
			if piece := survivingPiece(got, secret, prefix+suffix); piece != "" {
				t.Fatalf("%s: %q of secret %q survived in\n%q\nfrom\n%q", p.Form, piece, secret, got, text)
			}
		}
	})
}

// survivingPiece returns a 12-character piece of secret found in got, unless that piece was in the
// random text around it anyway.
func survivingPiece(got, secret, around string) string {
	const piece = 12
	if len(secret) < piece {
		if strings.Contains(got, secret) && !strings.Contains(around, secret) {
			return secret
		}
		return ""
	}
	for i := 0; i+piece <= len(secret); i++ {
		if s := secret[i : i+piece]; strings.Contains(got, s) && !strings.Contains(around, s) {
			return s
		}
	}
	return ""
}
