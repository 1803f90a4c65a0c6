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
	// Velero quotes a location's name in its messages; triage's own entry for a BSL's status
	// message names it as namespace/name.
	bslText = regexp.MustCompile(`BackupStorageLocation (?:"([^"]+)"|([a-z0-9][-a-z0-9.]*/[a-z0-9][-a-z0-9.]*) )`)
)

// isContinuation tells whether a free-text line belongs to the entry above it: the body of an
// Azure SDK ResponseError, a DefaultAzureCredential attempt list, or an indented wrapped value.
// A JSON log line is a whole entry of its own, never a continuation, although it starts with "{".
func isContinuation(line []byte) bool {
	if len(line) == 0 || isJSONObject(line) {
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

// isJSONObject tells whether a line is one complete JSON object: a JSON log entry, which has no
// continuation lines and belongs to no entry above it. The pretty-printed body of an Azure error
// spreads its braces over several lines, so none of them is a whole object.
func isJSONObject(line []byte) bool {
	line = bytes.TrimSpace(line)
	return len(line) >= 2 && line[0] == '{' && line[len(line)-1] == '}' && json.Valid(line)
}

var continuationPrefixes = [][]byte{
	[]byte("----"), []byte("RESPONSE "), []byte("ERROR CODE"), []byte("{"), []byte("}"), []byte(`"`),
	[]byte("<?xml"), []byte("<Error"), []byte("RequestId:"), []byte("Time:"), []byte("GET http"), []byte("PUT http"),
	[]byte("POST http"), []byte("HEAD http"), []byte("DELETE http"), []byte("Request information"), []byte("Attempted credentials"),
	[]byte("To troubleshoot"), []byte("ERROR CODE UNAVAILABLE"),
}

// parseRecord reads the time and fields of an entry in any of the formats Velero, the AKS
// Backup extension and kubectl produce: logrus text, JSON lines, klog, and free text. Fields are
// read from the entry's first line only; its continuation lines are text.
func parseRecord(raw []byte, now time.Time) record {
	line := raw
	r := record{raw: string(bytes.TrimRight(raw, "\r\n"))}
	if m := criPrefix.FindSubmatchIndex(line); m != nil {
		r.time = parseTime(string(line[m[2]:m[3]]))
		line = line[m[1]:]
	}
	first, rest := line, []byte(nil)
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		first, rest = line[:i], line[i+1:]
	}
	first = bytes.TrimRight(first, "\r")
	switch {
	case isJSONObject(first):
		parseJSON(&r, bytes.TrimSpace(first))
	case bytes.HasPrefix(first, []byte("time=")) || bytes.Contains(first, []byte(" level=")) || bytes.HasPrefix(first, []byte("level=")):
		parseLogfmt(&r, string(first))
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
		r.text = unescape(string(withoutCR(line)))
		fillFromText(&r, r.text)
		return r
	}
	if len(rest) > 0 {
		r.text += "\n" + unescape(string(withoutCR(rest)))
	}
	fillFromText(&r, r.text)
	return r
}

// withoutCR drops the carriage returns of CRLF line ends.
func withoutCR(b []byte) []byte {
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	return bytes.ReplaceAll(b, []byte{'\r'}, nil)
}

func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// parseLogfmt splits one line of logrus text format: key=value or key="quoted \"value\"". A
// value ends at the end of the line at the latest, so no value holds a line break or carriage
// return of the log itself (escaped ones, \n inside quotes, are resolved as in any value).
func parseLogfmt(r *record, s string) {
	var b strings.Builder
	for i := 0; i < len(s); {
		for i < len(s) && isLogfmtSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			break
		}
		eq := strings.IndexByte(s[i:], '=')
		sp := strings.IndexFunc(s[i:], func(c rune) bool { return c < 0x80 && isLogfmtSpace(byte(c)) })
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
			for end < len(s) && s[end] != '"' && s[end] != '\n' && s[end] != '\r' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			val = unescape(s[i+1 : min(end, len(s))])
			i = end + 1
		} else {
			end := i
			for end < len(s) && !isLogfmtSpace(s[end]) {
				end++
			}
			val = s[i:end]
			i = end
		}
		r.setField(&b, key, val)
	}
	r.text = b.String()
}

func isLogfmtSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// parseJSON reads a JSON log line's fields in the order they are written (Go's maps would give a
// different order, and so a different first account or location, on every run). A nested
// field is named by its innermost key; Velero's own fields are flat ("error.message").
func parseJSON(r *record, line []byte) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var b strings.Builder
	type level struct {
		object  bool
		wantKey bool
		key     string
	}
	var stack []level
	key := func() string {
		if len(stack) == 0 {
			return ""
		}
		return stack[len(stack)-1].key
	}
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			if k, ok := tok.(string); ok {
				stack[n-1].key, stack[n-1].wantKey = k, false
				continue
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				stack = append(stack, level{object: v == '{', wantKey: v == '{', key: key()})
			default:
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
				valueDone()
			}
		case string:
			r.setField(&b, key(), v)
			valueDone()
		case json.Number:
			r.setField(&b, key(), v.String())
			valueDone()
		default: // true, false, null say nothing a signature reads
			valueDone()
		}
	}
	r.text = b.String()
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
			r.bsl = m[1] + m[2]
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
