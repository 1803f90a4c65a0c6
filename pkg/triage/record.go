package triage

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// record is one log entry: a line, or for free text (kubectl describe, an Azure SDK error block)
// a line and the continuation lines under it.
type record struct {
	time time.Time
	// text is what signatures match: values unquoted and escapes (\n, \") resolved, so a logrus
	// error="...\n..." and the same error printed raw look alike.
	text string
	// raw is the entry as it appeared, for evidence.
	raw    string
	bsl    string
	backup string
}

var (
	// CRI log files and `kubectl logs --timestamps` put an RFC 3339 time before the line.
	criPrefix  = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d))(?: (?:stdout|stderr) [FP])? `)
	klogPrefix = regexp.MustCompile(`^([IWEF])(\d\d)(\d\d) (\d\d:\d\d:\d\d\.\d+)\s+\d+ [^ \]]+\] `)
	// A free-text line that starts with a time.
	textTime = regexp.MustCompile(`^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\]?\s`)
	bslText  = regexp.MustCompile(`BackupStorageLocation "([^"]+)"`)
)

// isContinuation tells whether a free-text line belongs to the entry above it: the body of an
// Azure SDK ResponseError, a DefaultAzureCredential attempt list, or an indented wrapped value.
func isContinuation(line []byte) bool {
	if len(line) == 0 {
		return false
	}
	if line[0] == '\t' {
		return true
	}
	trimmed := bytes.TrimLeft(line, " ")
	for _, p := range continuationPrefixes {
		if bytes.HasPrefix(trimmed, p) {
			return true
		}
	}
	return false
}

var continuationPrefixes = [][]byte{
	[]byte("----"), []byte("RESPONSE "), []byte("ERROR CODE"), []byte("{"), []byte("}"), []byte(`"`),
	[]byte("<?xml"), []byte("<Error"), []byte("RequestId:"), []byte("Time:"), []byte("GET http"), []byte("PUT http"),
	[]byte("POST http"), []byte("HEAD http"), []byte("DELETE http"), []byte("Request information"), []byte("Attempted credentials"),
	[]byte("To troubleshoot"), []byte("ERROR CODE UNAVAILABLE"),
}

// parseRecord reads the time and fields of an entry in any of the formats Velero, the AKS
// Backup extension and kubectl produce: logrus text, JSON lines, klog, and free text.
func parseRecord(raw []byte, now time.Time) record {
	line := raw
	r := record{raw: string(bytes.TrimRight(raw, "\r\n"))}
	if m := criPrefix.FindSubmatchIndex(line); m != nil {
		r.time = parseTime(string(line[m[2]:m[3]]))
		line = line[m[1]:]
	}
	first := line
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	switch {
	case len(first) > 0 && first[0] == '{' && json.Valid(bytes.TrimSpace(first)):
		parseJSON(&r, bytes.TrimSpace(first))
		if rest := line[len(first):]; len(rest) > 0 {
			r.text += unescape(string(rest))
		}
	case bytes.HasPrefix(first, []byte("time=")) || bytes.Contains(first, []byte(" level=")) || bytes.HasPrefix(first, []byte("level=")):
		parseLogfmt(&r, string(line))
	default:
		if m := klogPrefix.FindSubmatch(first); m != nil {
			if t, err := time.Parse("0102 15:04:05.999999", string(m[2])+string(m[3])+" "+string(m[4])); err == nil && r.time.IsZero() {
				year := now.Year()
				t = t.AddDate(year, 0, 0)
				if t.After(now.Add(24 * time.Hour)) {
					t = t.AddDate(-1, 0, 0)
				}
				r.time = t
			}
			line = line[len(m[0]):]
		} else if m := textTime.FindSubmatch(first); m != nil && r.time.IsZero() {
			r.time = parseTime(strings.Replace(string(m[1]), " ", "T", 1))
		}
		r.text = unescape(string(line))
		fillFromText(&r, r.text)
	}
	return r
}

func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// parseLogfmt splits logrus text format: key=value or key="quoted \"value\"".
func parseLogfmt(r *record, s string) {
	var b strings.Builder
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		eq := strings.IndexByte(s[i:], '=')
		sp := strings.IndexByte(s[i:], ' ')
		if eq <= 0 || (sp >= 0 && sp < eq) {
			// Not a key: keep the rest as text (a logrus line wrapped or cut by a copy).
			b.WriteString(unescape(s[i:]))
			break
		}
		key := s[i : i+eq]
		i += eq + 1
		var val string
		if i < len(s) && s[i] == '"' {
			end := i + 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			val = unescape(s[i+1 : min(end, len(s))])
			i = end + 1
		} else {
			end := strings.IndexByte(s[i:], ' ')
			if end < 0 {
				end = len(s) - i
			}
			val = s[i : i+end]
			i += end
		}
		r.setField(&b, key, val)
	}
	r.text = b.String()
	if r.bsl == "" {
		fillFromText(r, r.text)
	}
}

func parseJSON(r *record, line []byte) {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		r.text = unescape(string(line))
		return
	}
	var b strings.Builder
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, vv := range x {
				walk(k, vv)
			}
		case []any:
			for _, vv := range x {
				walk(prefix, vv)
			}
		case string:
			r.setField(&b, prefix, x)
		}
	}
	walk("", m)
	r.text = b.String()
	if r.bsl == "" {
		fillFromText(r, r.text)
	}
}

// setField keeps the fields triage uses and appends key=value to the matched text.
func (r *record) setField(b *strings.Builder, key, val string) {
	switch key {
	case "time", "ts", "timestamp", "@timestamp":
		if t := parseTime(val); !t.IsZero() {
			r.time = t
		}
	case "backup-storage-location", "backupLocation", "backupStorageLocation", "bsl":
		r.bsl = val
	case "backup":
		r.backup = val
	}
	b.WriteString(key)
	b.WriteByte('=')
	b.WriteString(val)
	b.WriteByte(' ')
}

func fillFromText(r *record, text string) {
	if r.bsl == "" {
		if m := bslText.FindStringSubmatch(text); m != nil {
			r.bsl = m[1]
		}
	}
}

// unescape resolves the escapes logrus, JSON and Go's %q leave in quoted values.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return escapes.Replace(s)
}

var escapes = strings.NewReplacer(`\n`, "\n", `\"`, `"`, `\t`, "\t", `\\`, `\`, `\r`, "")
