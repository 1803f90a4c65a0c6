// Package shellquote puts values taken from a log or a cluster into the fix commands the tool
// prints, so that a namespace, account or path containing $(...), ;, quotes or spaces is pasted as
// one literal argument and never runs.
package shellquote

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// Quote returns s as one POSIX shell word: unchanged when it holds only characters no shell
// treats specially, otherwise in single quotes (a ' inside becomes '\”).
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if plain(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// plain reports whether s needs no quoting: letters, digits and _ @ % + = : , . / - (not a leading
// ~ or =, which some shells expand).
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("_@%+=:,./-", c) >= 0:
		default:
			return false
		}
	}
	return s[0] != '='
}

// placeholder is {name} in a command template.
var placeholder = regexp.MustCompile(`\{([a-zA-Z]+)\}`)

// Fill replaces each {name} in a command template with lookup(name), quoted for where it
// stands: as a word of its own or inside a '...' argument (with JSON escaping when it sits in a
// JSON string there, as in kubectl patch -p '{"spec":{"config":{"storageAccount":"{account}"}}}'),
// or inside "...". A name lookup does not know stays as a readable <name>.
func Fill(template string, lookup func(name string) (string, bool)) string {
	matches := placeholder.FindAllStringSubmatchIndex(template, -1)
	if matches == nil {
		return template
	}
	var b strings.Builder
	ctx := scanner{wordStart: true}
	last := 0
	for _, m := range matches {
		ctx.advance(template[last:m[0]])
		b.WriteString(template[last:m[0]])
		name := template[m[2]:m[3]]
		if v, ok := lookup(name); ok {
			b.WriteString(ctx.quote(v, m[0] > 0 && template[m[0]-1] == '"'))
		} else {
			b.WriteString("<" + name + ">")
		}
		last = m[1]
	}
	b.WriteString(template[last:])
	return b.String()
}

// scanner follows the POSIX shell quoting state of a template as it is read.
type scanner struct {
	single, double, comment bool
	// wordStart is set after whitespace, where a # starts a comment.
	wordStart bool
	escaped   bool
}

func (sc *scanner) advance(text string) {
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case sc.comment:
			if c == '\n' {
				sc.comment = false
				sc.wordStart = true
			}
			continue
		case sc.escaped:
			sc.escaped = false
		case sc.single:
			sc.single = c != '\''
		case sc.double:
			switch c {
			case '\\':
				sc.escaped = true
			case '"':
				sc.double = false
			}
		case c == '\\':
			sc.escaped = true
		case c == '\'':
			sc.single = true
		case c == '"':
			sc.double = true
		case c == '#' && sc.wordStart:
			sc.comment = true
		}
		sc.wordStart = !sc.single && !sc.double && (c == ' ' || c == '\t' || c == '\n')
	}
}

// quote renders v for the current state; inJSONString is set when a " precedes the placeholder.
func (sc *scanner) quote(v string, inJSONString bool) string {
	switch {
	case sc.single:
		if inJSONString {
			v = jsonEscape(v)
		}
		return strings.ReplaceAll(v, "'", `'\''`)
	case sc.comment:
		// A line break would end the comment and run the rest.
		return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(Quote(v))
	case sc.double:
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")
		return r.Replace(v)
	}
	return Quote(v)
}

// jsonEscape escapes v for the inside of a JSON string, leaving <, > and & as they are.
func jsonEscape(v string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return v // a string always encodes
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}
