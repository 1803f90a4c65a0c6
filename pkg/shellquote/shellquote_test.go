package shellquote

import (
	"os/exec"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"velero":                 "velero",
		"rg-backup_01":           "rg-backup_01",
		"https://oidc.example/x": "https://oidc.example/x",
		"":                       "''",
		"a b":                    "'a b'",
		"$(rm -rf ~)":            "'$(rm -rf ~)'",
		"x;reboot":               "'x;reboot'",
		"it's":                   `'it'\''s'`,
		"`id`":                   "'`id`'",
		"~root":                  "'~root'",
		"=x":                     "'=x'",
		"a\nb":                   "'a\nb'",
		"<name>":                 "'<name>'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFill(t *testing.T) {
	values := map[string]string{
		"namespace": "velero", "bsl": "default", "evil": "$(touch /tmp/pwned); x 'y' \"z\"", "account": `acct"}; rm -rf / #`,
		"plain": "acct01", "newline": "a\nrm -rf /",
	}
	lookup := func(name string) (string, bool) { v, ok := values[name]; return v, ok }
	tests := []struct{ template, want string }{
		{"kubectl aksbackup identity status -n {namespace}", "kubectl aksbackup identity status -n velero"},
		{"kubectl get bsl -n {evil} {bsl}", `kubectl get bsl -n '$(touch /tmp/pwned); x '\''y'\'' "z"' default`},
		{"kubectl rollout restart deployment -n {namespace} {deployment}", "kubectl rollout restart deployment -n velero <deployment>"},
		{`kubectl patch bsl -n {namespace} {bsl} --type merge -p '{"spec":{"config":{"storageAccount":"{account}"}}}'`,
			`kubectl patch bsl -n velero default --type merge -p '{"spec":{"config":{"storageAccount":"acct\"}; rm -rf / #"}}}'`},
		{`kubectl patch bsl -p '{"spec":{"config":{"storageAccount":"{evil}"}}}'`,
			`kubectl patch bsl -p '{"spec":{"config":{"storageAccount":"$(touch /tmp/pwned); x '\''y'\'' \"z\""}}}'`},
		{`echo "{evil}"`, `echo "\$(touch /tmp/pwned); x 'y' \"z\""`},
		{"curl -s {evil}.well-known/openid-configuration", `curl -s '$(touch /tmp/pwned); x '\''y'\'' "z"'.well-known/openid-configuration`},
		{"kubectl get ns {plain}   # the account's {evil}", `kubectl get ns acct01   # the account's '$(touch /tmp/pwned); x '\''y'\'' "z"'`},
		{"kubectl get ns   # the {newline}", `kubectl get ns   # the 'a\nrm -rf /'`},
		{"kubectl get ns -o jsonpath='{.spec.credential}'", "kubectl get ns -o jsonpath='{.spec.credential}'"},
	}
	for _, tt := range tests {
		if got := Fill(tt.template, lookup); got != tt.want {
			t.Errorf("Fill(%q)\n got %s\nwant %s", tt.template, got, tt.want)
		}
	}
}

// TestFillInAShell runs filled commands through sh: each hostile value arrives as one literal
// argument and nothing in it runs.
func TestFillInAShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	hostile := []string{"$(echo RAN)", "`echo RAN`", "x; echo RAN", "a b", "it's", `"q"`, "$HOME", "x\necho RAN", "-n", "\\", "!!", "~", "*", "#c"}
	for _, v := range hostile {
		lookup := func(string) (string, bool) { return v, true }
		for _, template := range []string{"printf '%s|' {v}", `printf '%s|' "{v}"`, `printf '%s|' '{v}'`, `printf '%s|' x{v}y`} {
			cmd := Fill(template, lookup)
			out, err := exec.Command(sh, "-c", cmd).CombinedOutput()
			if err != nil {
				t.Fatalf("%q: sh -c %q: %v\n%s", v, cmd, err, out)
			}
			want := v + "|"
			if strings.HasSuffix(template, "x{v}y") {
				want = "x" + v + "y|"
			}
			if string(out) != want {
				t.Errorf("%q in %q: sh -c %q printed %q, want %q", v, template, cmd, out, want)
			}
		}
	}
}
