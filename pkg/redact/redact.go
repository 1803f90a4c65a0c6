// Package redact removes secrets from text before the tool prints it: SAS signatures, storage
// account keys, bearer tokens, JWTs, client secrets and connection strings. Every printer that shows
// text taken from a cluster, a log or an Azure error passes it through String.
package redact

import (
	"regexp"
	"strings"
)

// Mask replaces each secret value; the key name stays so the reader still sees what was there.
const Mask = "REDACTED"

// rules run in order; each keeps the text around the secret (its first group) and masks the rest.
var rules = []struct {
	// cheap is a substring that must occur for the rule to apply (case-insensitive), so that
	// text without secrets costs one scan per rule and no regexp work.
	cheap string
	re    *regexp.Regexp
}{
	// JWTs (service-account tokens, Entra access tokens, client assertions): three base64url parts.
	{"eyj", regexp.MustCompile(`()eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)},
	// Authorization headers and logged bearer tokens.
	{"bearer", regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}`)},
	// SharedKey authorization headers: "SharedKey account:signature".
	{"sharedkey", regexp.MustCompile(`(?i)(SharedKey(?:Lite)?\s+[A-Za-z0-9-]+:)[A-Za-z0-9+/=]{8,}`)},
	// SAS signatures in URLs and connection strings.
	{"sig=", regexp.MustCompile(`(?i)([?&;\s"']sig=)[^&;\s"'<>\\]+`)},
	// Storage connection strings and key settings.
	{"accountkey", regexp.MustCompile(`(?i)(AccountKey\s*[=:]\s*"?)[^;"\s\\]+`)},
	{"sharedaccesskey", regexp.MustCompile(`(?i)(SharedAccessKey\s*[=:]\s*"?)[^;"\s\\]+`)},
	{"sharedaccesssignature", regexp.MustCompile(`(?i)(SharedAccessSignature\s*[=:]\s*"?)[^;"\s\\]+`)},
	// Client secrets, passwords, assertions and tokens as env assignments, form fields or JSON members.
	{"secret", regexp.MustCompile(`(?i)((?:client_secret|clientsecret|AZURE_CLIENT_SECRET|secret)\\?"?\s*[=:]\s*\\?"?)[^&\s"\\,}]{4,}`)},
	{"password", regexp.MustCompile(`(?i)((?:password|AZURE_PASSWORD|AZURE_CLIENT_CERTIFICATE_PASSWORD)\\?"?\s*[=:]\s*\\?"?)[^&\s"\\,}]{4,}`)},
	{"assertion", regexp.MustCompile(`(?i)((?:client_assertion)\\?"?\s*[=:]\s*\\?"?)[^&\s"\\,}]{8,}`)},
	{"token", regexp.MustCompile(`(?i)((?:access_token|refresh_token|id_token)\\?"?\s*[=:]\s*\\?"?)[^&\s"\\,}]{8,}`)},
	{"storage_key", regexp.MustCompile(`(?i)((?:AZURE_STORAGE_KEY|AZURE_STORAGE_ACCOUNT_ACCESS_KEY|storageAccountKey)\\?"?\s*[=:]\s*\\?"?)[^&\s"\\,}]{4,}`)},
}

// String returns s with every secret value replaced by Mask.
func String(s string) string {
	if s == "" {
		return s
	}
	lower := strings.ToLower(s)
	for _, r := range rules {
		if !strings.Contains(lower, r.cheap) {
			continue
		}
		s = r.re.ReplaceAllString(s, "${1}"+Mask)
		lower = strings.ToLower(s)
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
