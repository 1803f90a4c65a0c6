// Package redacttest plants secrets, in every form they reach a log or a cluster string, for the
// fuzz tests of redact.String and of the printers.
package redacttest

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Planted is text carrying one secret; none of Secrets (the forms the secret takes in Text) may
// survive redaction.
type Planted struct {
	Form    string
	Text    string
	Secrets []string
}

// credentialNames are the keys of Velero's credentials file, azidentity's environment and storage
// connection strings.
var credentialNames = []string{
	"AZURE_CLIENT_SECRET", "AZURE_STORAGE_ACCOUNT_ACCESS_KEY", "AZURE_STORAGE_KEY", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
	"AZURE_PASSWORD", "storageAccountKey", "AccountKey", "SharedAccessSignature", "SharedAccessKey", "client_secret",
	"clientSecret", "client_assertion", "access_token", "refresh_token", "password",
}

// genericNames announce a secret by a word in them only.
var genericNames = []string{"apiKey", "x-ms-signature", "dbPassword", "userToken", "signingSecret", "token", "secret"}

const (
	entraAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-"
	printable     = entraAlphabet + "!#$%&()*+,/:;<=>?@[]^{|}` '\"\\"
	b64url        = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
)

// Forms is how many forms Plant knows; form is taken modulo Forms.
const Forms = 23

// Plant returns text with a secret derived from seed, in form form (mod Forms).
func Plant(form uint8, seed []byte) Planted {
	name := func(list []string) string { return list[int(pick(seed, 0))%len(list)] }
	secret := secretFrom(seed, entraAlphabet)
	key := storageKey(seed)
	switch form % Forms {
	case 0:
		return one("logfmt", name(credentialNames)+"="+secret, secret)
	case 1:
		pw := secretFrom(seed, printable)
		q := strconv.Quote(pw)
		return Planted{"logfmt quoted", name(credentialNames) + "=" + q + " level=error", []string{pw, q[1 : len(q)-1]}}
	case 2:
		pw := secretFrom(seed, printable)
		j := jsonString(pw)
		return Planted{"json", `{"level":"error",` + jsonString(name(credentialNames)) + ":" + j + `,"msg":"x"}`, []string{pw, j[1 : len(j)-1]}}
	case 3:
		sig := url.QueryEscape(base64.StdEncoding.EncodeToString(sum(seed)[:32]))
		return one("sas in Go-escaped json", `{"error":"GET https://acct.blob.core.windows.net/velero?sv=2021-08-06\u0026sr=c\u0026sig=`+sig+`\u0026se=2026-11-23"}`, sig)
	case 4:
		return one("escaped json in a logrus field", `level=error msg="token request failed" error="{\"`+name(credentialNames)+`\":\"`+secret+`\",\"tenant\":\"t\"}"`, secret)
	case 5:
		return one("yaml env pair", "env:\n- name: "+name(credentialNames)+"\n  value: "+secret+"\n- name: AZURE_CLIENT_ID\n  value: c1", secret)
	case 6:
		sig := url.QueryEscape(base64.StdEncoding.EncodeToString(sum(seed)[:32]))
		return one("url-encoded sas", "redirect=https%3A%2F%2Facct.blob.core.windows.net%2Fv%3Fsv%3D2021%26sig%3D"+url.QueryEscape(sig)+"%26se%3D2026", url.QueryEscape(sig))
	case 7:
		return one("url-encoded form field", "body=grant_type%3Dclient_credentials%26client_secret%3D"+url.QueryEscape(secret)+"%26scope%3Dx", url.QueryEscape(secret))
	case 8:
		return one("url userinfo", "dial tcp https://backup:"+secret+"@proxy.corp:8080/ failed", secret)
	case 9:
		return one("connection string", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="+key+";EndpointSuffix=core.windows.net", key[:86])
	case 10:
		return one("bare storage key", "the key "+key+" was rotated", key[:86])
	case 11:
		return one("bare storage key unpadded", `"`+key[:86]+`"`, key[:86])
	case 12:
		enc := url.QueryEscape(key)
		return one("bare storage key url-encoded", "k%3D"+enc+"%26x", enc[:len(enc)-6])
	case 13:
		jwt := "eyJ" + secretFrom(seed, b64url) + "." + secretFrom(variant(seed, 1), b64url) + "." + secretFrom(variant(seed, 2), b64url)
		return one("jwt", "assertion "+jwt+" rejected", jwt)
	case 14:
		jwe := "eyJ" + secretFrom(seed, b64url) + ".." + secretFrom(variant(seed, 1), b64url) + "." + secretFrom(variant(seed, 2), b64url) + "." + secretFrom(variant(seed, 3), b64url)
		return one("jwe", "token "+jwe, jwe)
	case 15:
		return one("bearer", "Authorization: Bearer "+secret, secret)
	case 16:
		body := base64.StdEncoding.EncodeToString(sum(seed))
		return one("pem private key", "AZURE_CLIENT_CERTIFICATE=-----BEGIN PRIVATE KEY-----\n"+body+"\n-----END PRIVATE KEY-----", body)
	case 17:
		return one("generic name", name(genericNames)+"="+secret, secret)
	case 18:
		return one("generic json name", `{"`+name(genericNames)+`":"`+secret+`"}`, secret)
	case 19:
		return one("cli flag", "az storage blob list --account-name acct --account-key "+key+" -o table", key[:86])
	case 20:
		return one("json env pair", `{"env":[{"name":"`+name(credentialNames)+`","value":"`+secret+`"}]}`, secret)
	case 21:
		basic := base64.StdEncoding.EncodeToString([]byte("backup:" + secret))
		return one("basic auth header", `{"headers":{"Authorization":"Basic `+basic+`"}}`, basic)
	default:
		return one("yaml secret data", name(credentialNames)+": "+secret+"\nAZURE_CLOUD_NAME: AzurePublicCloud", secret)
	}
}

func one(form, text, secret string) Planted {
	return Planted{Form: form, Text: text, Secrets: []string{secret}}
}

// variant derives another seed, for the other parts of a token.
func variant(seed []byte, i int) []byte {
	return append(append([]byte{}, seed...), byte(i))
}

func pick(seed []byte, i int) byte {
	if i < len(seed) {
		return seed[i]
	}
	return byte(i)
}

func sum(seed []byte) []byte {
	h := sha512.Sum512(seed)
	return h[:]
}

// secretFrom makes a 16-48 character secret in alphabet from seed, with an upper-case letter and a
// digit so that no rule may take it for a word.
func secretFrom(seed []byte, alphabet string) string {
	h := sum(seed)
	n := 16 + int(h[0])%33
	var b strings.Builder
	b.WriteString("K7")
	for i := 2; i < n; i++ {
		b.WriteByte(alphabet[int(h[i%len(h)]^byte(i/len(h)))%len(alphabet)])
	}
	return b.String()
}

// storageKey makes a storage account key's shape: 64 bytes in base64 (86 characters and "==").
func storageKey(seed []byte) string {
	k := base64.StdEncoding.EncodeToString(sum(seed))
	if strings.ContainsAny(k[:86], "0123456789") && strings.ToLower(k) != k && strings.ToUpper(k) != k {
		return k
	}
	return "Q9" + k[2:] // a key without a digit or a case is vanishingly rare; make it typical
}

func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("marshal %q: %v", s, err))
	}
	return string(b)
}

// TerminalUnsafe returns the first character of printed text that could drive a terminal: a
// control character other than the newline, a C1 control, a bidi override, a line separator or an
// invalid byte.
func TerminalUnsafe(out string) (rune, bool) {
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRuneInString(out[i:])
		i += size
		switch {
		case r == '\n':
		case r == utf8.RuneError && size == 1:
			return rune(out[i-1]), true
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == 0x2028 || r == 0x2029:
			return r, true
		}
	}
	return 0, false
}

// ControlText turns fuzz bytes into text rich in what terminals obey: CSI and OSC sequences, BEL,
// CR, backspace, C1 controls (as runes and as raw bytes) and bidi overrides.
func ControlText(seed []byte) string {
	pieces := []string{"\x1b[2J", "\x1b[31m", "\x1b]0;title\x07", "\x1b]8;;https://x\x1b\\", "\r", "\b", "\x07", "\x00", "\u009b1A", "\x9b", "\u0085", "\u202e", "\t", "\n", "ok"}
	var b strings.Builder
	for _, c := range seed {
		b.WriteString(pieces[int(c)%len(pieces)])
	}
	return b.String()
}

// CheckTerminalOutput fails t when out, as printed to a terminal, holds a control character or any
// of secrets, or lacks any of want.
func CheckTerminalOutput(t testing.TB, out string, secrets, want []string) {
	t.Helper()
	if r, bad := TerminalUnsafe(out); bad {
		t.Errorf("control character %U reached the terminal:\n%q", r, out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("secret %q printed:\n%s", s, out)
		}
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in:\n%s", w, out)
		}
	}
}
