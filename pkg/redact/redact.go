// Package redact removes secrets from text before the tool prints it: SAS signatures, storage
// account keys, bearer tokens, JWTs and JWEs, client secrets, passwords, private keys and
// connection strings, in every form they reach a log line: logfmt, JSON (also with Go's \u0026
// escaping, and escaped again inside a logrus field), YAML env pairs, URL-encoded query strings and
// URL userinfo. Every printer that shows text taken from a cluster, a log or an Azure error passes it
// through String; structured output goes through Value so that map keys count as names.
package redact

import (
	"regexp"
	"strings"
)

// Mask replaces each secret value; the key name stays so the reader still sees what was there.
const Mask = "REDACTED"

// patterns mask secrets that carry their own shape; the first and second groups (text before and
// after the secret) stay, the rest is masked.
var patterns = []struct {
	// cheap is a lower-case substring that must occur for the pattern to apply, so that text
	// without secrets costs a substring scan and no regexp work.
	cheap string
	re    *regexp.Regexp
}{
	// JWTs (service-account tokens, Entra tokens, client assertions) and JWEs (five parts); a lone
	// long segment starting with eyJ (base64 of `{"`) is a token cut short and goes too.
	{"eyj", regexp.MustCompile(`(^|[^A-Za-z0-9+/])eyJ[A-Za-z0-9_-]{16,}(?:\.[A-Za-z0-9_-]*){0,4}`)},
	{"basic", regexp.MustCompile(`(?i)(authorization\\?["']?\s*[:=]\s*\\?["']?basic(?:\s+|%20))[A-Za-z0-9+/=%]{4,}`)},
	{"bearer", regexp.MustCompile(`(?i)(bearer(?:\s+|%20|\+))[A-Za-z0-9._~+/=%-]{8,}`)},
	{"sharedkey", regexp.MustCompile(`(?i)(SharedKey(?:Lite)?(?:\s+|%20)[A-Za-z0-9-]+(?::|%3A))[A-Za-z0-9+/=%]{8,}`)},
	{"private key-----", regexp.MustCompile(`(?s)(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----).*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`)},
	// URL userinfo: https://user:password@host, also percent-encoded inside another URL.
	{"://", regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:"'<>\\]*:)[^\s/?#@"'<>\\]+(@)`)},
	{"%3a%2f%2f", regexp.MustCompile(`(?i)(%3A%2F%2F[^\s/?#@:%"'<>\\]*%3A)[^\s/?#@"'<>\\]+?(%40)`)},
}

// String returns s with every secret value replaced by Mask.
func String(s string) string {
	if s == "" {
		return s
	}
	// Named values go first: a pattern such as Bearer's could otherwise eat a name and leave its value.
	// Storage keys go before the patterns too: a JWT's "eyJ" may occur inside a key.
	lower := asciiLower(s)
	if masked := maskStorageKeys(maskNamedValues(s, lower)); masked != s {
		s, lower = masked, asciiLower(masked)
	}
	for _, p := range patterns {
		if !strings.Contains(lower, p.cheap) {
			continue
		}
		masked := p.re.ReplaceAllString(s, "${1}"+Mask+"${2}")
		if masked != s {
			s, lower = masked, asciiLower(masked)
		}
	}
	return s
}

// Strings redacts each element in place and returns the slice.
func Strings(ss []string) []string {
	for i := range ss {
		ss[i] = String(ss[i])
	}
	return ss
}

// Value redacts a value printed under a name (a map key of structured output, a config key): the
// whole value goes when the name says it holds a secret, otherwise String applies.
func Value(name, value string) string {
	if value == "" {
		return value
	}
	if k := classify(name); k != notSecret && !keepValue(k, false, value) {
		return Mask
	}
	return String(value)
}
