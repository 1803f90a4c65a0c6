package redact

// storageKeyLen is the length of a storage account key in base64 without its "==" padding: the keys
// are 64 random bytes.
const storageKeyLen = 86

// maskStorageKeys masks every run of exactly 86 base64 characters that mixes upper case, lower
// case and digits (a storage account key whatever its label), also when its + and / are
// percent-encoded or JSON-escaped, together with its padding.
func maskStorageKeys(s string) string {
	if len(s) < storageKeyLen {
		return s
	}
	var masks []span
	for i := 0; i < len(s); {
		if !base64Byte[s[i]] && s[i] != '%' && s[i] != '\\' {
			i++ // the common case: a byte that cannot start a key
			continue
		}
		n, w := base64Token(s, i)
		if n == 0 {
			i += w
			continue
		}
		start, count := i, 0
		for i < len(s) {
			w := 1
			if !base64Byte[s[i]] {
				if n, w = base64Token(s, i); n == 0 {
					break
				}
			}
			count++
			i += w
		}
		if count != storageKeyLen {
			continue
		}
		var upper, lower, digit bool
		for _, c := range []byte(s[start:i]) {
			switch {
			case c >= 'A' && c <= 'Z':
				upper = true
			case c >= 'a' && c <= 'z':
				lower = true
			case c >= '0' && c <= '9':
				digit = true
			}
		}
		if upper && lower && digit {
			end := i
			for pads := 0; pads < 2; pads++ {
				w := paddingAt(s, end)
				if w == 0 {
					break
				}
				end += w
			}
			masks = append(masks, span{start, end})
		}
	}
	return apply(s, masks)
}

// base64Byte marks the bytes of the standard base64 alphabet.
var base64Byte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isAlnum(byte(c)) || c == '+' || c == '/'
	}
	return t
}()

// base64Token reports whether a base64 character starts at i (n=1) and how many bytes it (or the
// escape that is not one) takes: %2B, %2F, \u002b, \u002f and \/ count as one character; any
// other %XX or \uXXXX escape is a boundary, so that the run after %3D or \u003d starts afresh.
func base64Token(s string, i int) (n, width int) {
	c := s[i]
	switch {
	case isAlnum(c) || c == '+' || c == '/':
		return 1, 1
	case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
		if s[i+1] == '2' && (s[i+2]|0x20 == 'b' || s[i+2]|0x20 == 'f') {
			return 1, 3
		}
		return 0, 3
	case c == '\\' && i+1 < len(s) && s[i+1] == '/':
		return 1, 2
	case c == '\\' && i+1 < len(s) && (s[i+1] == 'n' || s[i+1] == 'r' || s[i+1] == 't'):
		return 0, 2 // an escaped line break before a key is not part of it
	case c == '\\' && i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') && isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]) && isHex(s[i+5]):
		if hasPrefixFold(s[i+2:], "002b") || hasPrefixFold(s[i+2:], "002f") {
			return 1, 6
		}
		return 0, 6
	}
	return 0, 1
}

// paddingAt reports the width of one "=" at i, plain or escaped.
func paddingAt(s string, i int) int {
	switch {
	case i < len(s) && s[i] == '=':
		return 1
	case hasPrefixFold(s[i:], "%3d"):
		return 3
	case hasPrefixFold(s[i:], `\u003d`):
		return 6
	}
	return 0
}
