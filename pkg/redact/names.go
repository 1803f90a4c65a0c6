package redact

import (
	"slices"
	"strings"
)

// kind says how sure a name is that its value is a secret.
type kind int

const (
	notSecret kind = iota
	// generic names (anything with key, secret, password, token, assertion or signature in it) may
	// hold a file path or be a word in a sentence ("token: expired"); those values stay.
	generic
	// credential names are the keys that Velero's and the Azure SDK's credential files, connection
	// strings, SAS URLs and OAuth requests use for secrets: their value always goes.
	credential
)

// credentialNames are normalised (lower case, no '_', '-' or '.'): Velero's credentials file
// (pkg/util/azure: AZURE_STORAGE_KEY, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE[_PASSWORD],
// AZURE_PASSWORD), the Azure plugin's storageAccountKeyEnvVar convention
// (AZURE_STORAGE_ACCOUNT_ACCESS_KEY), azidentity's environment (same names), storage connection
// strings (AccountKey, SharedAccessSignature, SharedAccessKey), SAS query parameters (sig) and the
// OAuth token endpoint's form fields and answers.
var credentialNames = []string{
	"azurestorageaccountaccesskey", "azurestoragekey", "azurestorageaccountkey", "storageaccountkey",
	"azureclientsecret", "azureclientcertificate", "azureclientcertificatepassword", "azurepassword",
	"accountkey", "sharedaccesskey", "sharedaccesssignature", "sig",
	"clientsecret", "clientassertion", "assertion", "accesstoken", "refreshtoken", "idtoken",
	"password", "passwd", "apikey", "accesskey", "secretkey", "primarykey", "secondarykey",
}

// secretWords make a name generic; sig counts only alone (signal, design and assign are words).
var secretWords = []string{"key", "secret", "passw", "token", "assertion", "signature"}

// scanWords are looked for in the text: the secret words, sig, and name (of a name/value env pair).
// signature is left out: its sig finds the same name.
var scanWords = []string{"key", "secret", "passw", "token", "assertion", "sig", "name"}

// notSecretSuffixes name things about a secret, not the secret: where it is (a path, a file, an env
// var, a URL), which one (a name or ID) or how it looks (a type, a length, an expiry).
var notSecretSuffixes = []string{
	"envvar", "path", "file", "filename", "dir", "name", "names", "id", "ids", "type", "url", "uri",
	"endpoint", "expiry", "expiresin", "expireson", "expiration", "expiresat", "version", "length", "size",
	"count", "ref", "source", "vault", "hint", "kind", "format", "mode", "audience", "issuer", "scope",
	"header", "algorithm", "alg", "permissions", "required", "missing", "found", "error", "errors",
}

// fileExtensions end names that are files, not keys.
var fileExtensions = []string{"go", "py", "js", "ts", "java", "cs", "rs", "c", "cc", "cpp", "h", "rb", "sh", "json", "yaml", "yml", "txt", "log", "pem", "crt", "cer", "pfx"}

// classify says whether a name announces a secret value.
func classify(name string) kind {
	if i := strings.LastIndexByte(name, '.'); i > 0 && slices.Contains(fileExtensions, strings.ToLower(name[i+1:])) {
		return notSecret // token_credential.go:62 is klog's source line, secret.yaml a file
	}
	norm := normalise(name)
	if norm == "" || norm == "key" || norm == "keys" {
		// Velero's object store logs an object's path as key=...; a real key there still meets the
		// structural rules.
		return notSecret
	}
	for _, s := range notSecretSuffixes {
		if strings.HasSuffix(norm, s) {
			return notSecret
		}
	}
	if slices.Contains(credentialNames, norm) {
		return credential
	}
	for _, w := range secretWords {
		if strings.Contains(norm, w) {
			return generic
		}
	}
	return notSecret
}

func normalise(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '-' || c == '.':
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// keepValue says a value under a secret-looking name is not a secret after all: a placeholder, a
// boolean, a reference to a variable, or (for generic names only) a file path or a lower-case word
// of prose ("token: expired").
func keepValue(k kind, prose bool, v string) bool {
	switch strings.ToLower(v) {
	case "", Mask, "true", "false", "null", "nil", "<nil>", "none", "<none>", "<unset>", "***", "redacted":
		return true
	}
	if isPlaceholder(v) {
		return true
	}
	if k == credential {
		return false
	}
	if isAbsPath(v) {
		return true
	}
	return prose && isLowerWord(v)
}

// isPlaceholder matches <KEY>, ${AZURE_CLIENT_SECRET} and $AZURE_CLIENT_SECRET.
func isPlaceholder(v string) bool {
	if len(v) > 2 && v[0] == '<' && v[len(v)-1] == '>' && !strings.ContainsAny(v[1:len(v)-1], "<>") {
		return true
	}
	if strings.HasPrefix(v, "${") && strings.HasSuffix(v, "}") {
		return isEnvName(v[2:len(v)-1], false)
	}
	return len(v) > 1 && v[0] == '$' && isEnvName(v[1:], true)
}

func isEnvName(s string, upperOnly bool) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (!upperOnly && c >= 'a' && c <= 'z')
		if !ok {
			return false
		}
	}
	return true
}

// isAbsPath matches /var/run/secrets/azure/tokens/azure-identity-token: two or more segments of
// path characters and nothing a key or password alphabet adds (+, =, ~).
func isAbsPath(v string) bool {
	if len(v) < 3 || v[0] != '/' || strings.Count(v, "/") < 2 || strings.Contains(v, "//") {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c == '/' || c == '.' || c == '_' || c == '-' || isAlnum(c)) {
			return false
		}
	}
	return true
}

func isLowerWord(v string) bool {
	if len(v) > 12 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 'a' || v[i] > 'z' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isNameChar(c byte) bool { return isAlnum(c) || c == '_' || c == '-' || c == '.' }

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// span is a half-open byte range of the text.
type span struct{ from, to int }

// maskNamedValues masks the value after every secret-looking name, whatever quoting and escaping
// sits between them, and the value of a YAML or JSON env pair whose name is a secret's.
func maskNamedValues(s, lower string) string {
	var masks []span
	seen := map[int]bool{}
	consider := func(at int) {
		from, to := at, at
		for from > 0 && isNameChar(s[from-1]) {
			from--
		}
		for to < len(s) && isNameChar(s[to]) {
			to++
		}
		if seen[from] {
			return
		}
		seen[from] = true
		from = skipEscapePrefix(s, from, to)
		name := s[from:to]
		if name == "" {
			return
		}
		if strings.EqualFold(name, "name") {
			masks = append(masks, envPair(s, lower, to)...)
			return
		}
		k := classify(name)
		if k == notSecret {
			return
		}
		v, prose, tight, ok := valueAfter(s, to, strings.HasPrefix(name, "-"))
		// name:value with nothing between is a compound (system:serviceaccount:ns:external-secrets),
		// unless the name is a credential's.
		if ok && !(tight && k == generic) && !keepValue(k, prose, s[v.from:v.to]) {
			masks = append(masks, v)
		}
	}
	for _, w := range scanWords {
		for i := 0; ; {
			j := strings.Index(lower[i:], w)
			if j < 0 {
				break
			}
			consider(i + j)
			i += j + len(w)
		}
	}
	return apply(s, masks)
}

// skipEscapePrefix drops what an escape glued to the front of a name: %26 in %26sig, \u0026 in
// \u0026sig, the n of an escaped newline in \nAZURE_CLIENT_SECRET.
func skipEscapePrefix(s string, from, to int) int {
	for from < to {
		switch {
		case from > 0 && s[from-1] == '%' && to-from > 2 && isHex(s[from]) && isHex(s[from+1]):
			from += 2
		case from > 0 && s[from-1] == '\\' && to-from > 5 && (s[from] == 'u' || s[from] == 'U') &&
			isHex(s[from+1]) && isHex(s[from+2]) && isHex(s[from+3]) && isHex(s[from+4]):
			from += 5
		case from > 0 && s[from-1] == '\\' && to-from > 1 && strings.IndexByte("ntr", s[from]) >= 0:
			from++
		default:
			return from
		}
	}
	return from
}

// envPair masks the value of {"name": "AZURE_CLIENT_SECRET", "value": "..."} and its YAML form,
// where the value follows on the next line; at is the end of the word "name".
func envPair(s, lower string, at int) []span {
	v, _, _, ok := valueAfter(s, at, false)
	if !ok || classify(s[v.from:v.to]) == notSecret {
		return nil
	}
	window := lower[v.to:min(len(lower), v.to+160)]
	if next := strings.Index(window, "name"); next >= 0 {
		window = window[:next]
	}
	for i := 0; ; {
		j := strings.Index(window[i:], "value")
		if j < 0 {
			return nil
		}
		start := v.to + i + j
		end := start + len("value")
		i += j + len("value")
		if start > 0 && isAlnum(s[start-1]) && (start < 2 || s[start-2] != '\\') {
			continue
		}
		if val, _, _, ok := valueAfter(s, end, false); ok && !keepValue(credential, false, s[val.from:val.to]) {
			return []span{val}
		}
	}
}

// valueAfter parses what follows a name: an optional closing quote (", \", \\\", ', %22), a
// separator (=, :, %3D, %3A, \u003d, or a space after a --flag), an optional opening quote, and the
// value up to its closing quote or, unquoted, up to the first character that ends a value in
// logfmt, JSON, URLs and connection strings. prose is set for an unquoted "name: value", tight for
// an unquoted "name:value".
func valueAfter(s string, at int, flag bool) (v span, prose, tight, ok bool) {
	p := at
	nameQuoted := false
	if _, n := quoteAt(s, p); n > 0 {
		p += n
		nameQuoted = true
	}
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	sepColon := false
	switch {
	case p < len(s) && s[p] == '=':
		p++
	case p < len(s) && s[p] == ':':
		p++
		sepColon = true
	case hasPrefixFold(s[p:], "%3d"):
		p += 3
	case hasPrefixFold(s[p:], "%3a"):
		p += 3
		sepColon = true
	case hasPrefixFold(s[p:], `\u003d`):
		p += 6
	case hasPrefixFold(s[p:], `\u003a`):
		p += 6
		sepColon = true
	case flag && p > at && !nameQuoted:
	default:
		return span{}, false, false, false
	}
	sepEnd := p
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	q, n := quoteAt(s, p)
	p += n
	end := p
	switch {
	case n == 0 && sepColon && blockScalar(s, p) > p:
		// YAML block scalar (key: |): the secret is on the lines below.
		p = blockScalar(s, p)
		end = indexFrom(s, p, "\n", `\`, " ⏎ ")
	case n == 0 && strings.HasPrefix(s[p:], "${"):
		end = indexFrom(s, p, "}", "\n") + 1 // ${VAR}, a reference to a secret
		end = min(end, len(s))
	case n == 0:
		end = unquotedEnd(s, p)
	case q == '"':
		end = closingQuote(s, p, n-1)
	case q == '\'':
		end = indexFrom(s, p, "'", "\n")
	default: // %22
		end = indexFoldFrom(s, p, "%22")
	}
	if end <= p {
		return span{}, false, false, false
	}
	unquoted := sepColon && !nameQuoted && n == 0
	return span{p, end}, unquoted && p > sepEnd, unquoted && p == sepEnd, true
}

// quoteAt reports the quote at p: '"' with any backslashes before it (n-1 of them), '\”, or '%'
// for %22; n is how many bytes it takes.
func quoteAt(s string, p int) (q byte, n int) {
	i := p
	for i < len(s) && s[i] == '\\' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '"':
		return '"', i - p + 1
	case i == p && i < len(s) && s[i] == '\'':
		return '\'', 1
	case i == p && hasPrefixFold(s[p:], "%22"):
		return '%', 3
	}
	return 0, 0
}

// closingQuote finds the quote that closes a value opened by a quote with level backslashes: at
// that level an inner quote carries 2*level+1 backslashes, the closing one level (mod 2*level+2).
func closingQuote(s string, p, level int) int {
	for i := p; i < len(s); i++ {
		switch s[i] {
		case '\n':
			return i
		case '"':
			run := 0
			for j := i - 1; j >= p && s[j] == '\\'; j-- {
				run++
			}
			if run%(2*level+2) == level {
				return i - level
			}
		}
	}
	return len(s)
}

// unquotedEnd finds where an unquoted value stops.
func unquotedEnd(s string, p int) int {
	for i := p; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return i
		}
		switch s[i] {
		case ' ', '"', '\'', '\\', ',', ';', '&', '{', '}', '[', ']', '(', ')', '<', '>', '|':
			return i
		case '%':
			if hasPrefixFold(s[i:], "%26") || hasPrefixFold(s[i:], "%3b") || hasPrefixFold(s[i:], "%22") ||
				hasPrefixFold(s[i:], "%20") || hasPrefixFold(s[i:], "%2c") {
				return i
			}
		case 0xE2: // " ⏎ " joins the lines of a multi-line entry in evidence
			if strings.HasPrefix(s[i:], "⏎") {
				return i
			}
		}
	}
	return len(s)
}

func indexFrom(s string, p int, stops ...string) int {
	end := len(s)
	for _, stop := range stops {
		if i := strings.Index(s[p:], stop); i >= 0 && p+i < end {
			end = p + i
		}
	}
	return end
}

func indexFoldFrom(s string, p int, stop string) int {
	if i := strings.Index(asciiLower(s[p:]), stop); i >= 0 {
		return p + i
	}
	return len(s)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// apply replaces each span with Mask; overlapping spans merge.
func apply(s string, masks []span) string {
	if len(masks) == 0 {
		return s
	}
	slices.SortFunc(masks, func(a, b span) int { return a.from - b.from })
	var b strings.Builder
	last := 0
	for _, m := range masks {
		if m.to <= last {
			continue
		}
		if m.from < last {
			m.from = last
		} else {
			b.WriteString(s[last:m.from])
			b.WriteString(Mask)
		}
		last = m.to
	}
	b.WriteString(s[last:])
	return b.String()
}

// asciiLower lowers A-Z only, so that byte offsets in the result are offsets in s (strings.ToLower
// changes the length of some runes and of invalid UTF-8).
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// blockScalar returns where the first line of a YAML block scalar's content starts when p is at
// its indicator (|, >, |-, >+ ... then the end of the line, plain or escaped in a log field), or p.
func blockScalar(s string, p int) int {
	i := p
	if i >= len(s) || (s[i] != '|' && s[i] != '>') {
		return p
	}
	i++
	for i < len(s) && (s[i] == '-' || s[i] == '+' || (s[i] >= '1' && s[i] <= '9')) {
		i++
	}
	switch {
	case strings.HasPrefix(s[i:], "\n"):
		i++
	case strings.HasPrefix(s[i:], `\n`):
		i += 2
	case strings.HasPrefix(s[i:], " ⏎ "):
		i += len(" ⏎ ")
	default:
		return p
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}
