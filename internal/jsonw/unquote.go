package jsonw

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// This file decodes JSON string literals. A literal without escapes, the
// common case, costs one scan and one copy.

// Unquote decodes the JSON string literal lit, quotes included and nothing
// around them, exactly as json.Unmarshal into a string does: it fails with
// ErrSyntax on whatever json.Unmarshal rejects (raw control characters, bad
// escapes, a stray quote), and it turns invalid UTF-8 bytes and unpaired
// surrogate escapes into U+FFFD. FuzzUnquote holds it to encoding/json.
func Unquote(lit []byte) (string, error) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return "", ErrSyntax
	}
	return unquoteBody(lit[1:len(lit)-1], false)
}

// UnquoteTrusted is Unquote for a literal from a body that has passed Valid
// and utf8.Valid: it looks only for escapes, so a literal without any costs
// a fast byte search and a copy. On other input it never panics and still
// reports malformed escapes, but it may accept raw control characters and
// pass invalid UTF-8 through.
func UnquoteTrusted(lit []byte) (string, error) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return "", ErrSyntax
	}
	return unquoteBody(lit[1:len(lit)-1], true)
}

// Key returns a member key as EachMember yields it (the text between the
// quotes) as a Go string, decoding escapes and replacing invalid UTF-8 as
// Unquote does. A key Unquote would reject, which valid JSON never holds, is
// returned as is.
func Key(key []byte) string {
	s, err := unquoteBody(key, false)
	if err != nil {
		return string(key)
	}
	return s
}

// smallBody is the length up to which a literal with escapes is decoded in
// a stack buffer: the result then costs one allocation, and none when it is
// a single byte (a "\n" token in a stream).
const smallBody = 64

// unquoteBody decodes the text between a literal's quotes; trusted is
// UnquoteTrusted's precondition.
func unquoteBody(s []byte, trusted bool) (string, error) {
	i := nextSpecial(s, 0, trusted)
	if i == len(s) {
		return string(s), nil
	}
	if len(s) <= smallBody {
		var buf [smallBody]byte
		out, err := appendUnquoted(append(buf[:0], s[:i]...), s, i, trusted)
		if err != nil {
			return "", err
		}
		return string(out), nil
	}
	out, err := appendUnquoted(append(make([]byte, 0, len(s)), s[:i]...), s, i, trusted)
	if err != nil {
		return "", err
	}
	// out is never written again, so the string can share its memory (as
	// strings.Builder does), saving a copy of a long text.
	return unsafe.String(unsafe.SliceData(out), len(out)), nil
}

// appendUnquoted appends the decoding of s[i:] to out, where s[i] is the
// first byte nextSpecial found.
func appendUnquoted(out, s []byte, i int, trusted bool) ([]byte, error) {
	for i < len(s) {
		switch c := s[i]; {
		case c == '\\':
			r, n := unescape(s[i:])
			if n == 0 {
				return nil, ErrSyntax
			}
			out = utf8.AppendRune(out, r)
			i += n
		case c < utf8.RuneSelf: // '"' or a control character
			return nil, ErrSyntax
		default: // a byte that does not start valid UTF-8
			out = utf8.AppendRune(out, utf8.RuneError)
			i++
		}
		j := nextSpecial(s, i, trusted)
		out = append(out, s[i:j]...)
		i = j
	}
	return out, nil
}

// nextSpecial returns the index of the first byte of s at or after i that
// does not stand for itself: a backslash and, unless trusted, a control
// character, '"' or a byte of invalid UTF-8; len(s) if there is none.
func nextSpecial(s []byte, i int, trusted bool) int {
	if trusted {
		if j := bytes.IndexByte(s[i:], '\\'); j >= 0 {
			return i + j
		}
		return len(s)
	}
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if !safeASCII[c] {
				return i
			}
			// In ASCII text, skip plain bytes a word at a time.
			for i++; i+8 <= len(s) && special(load8b(s, i)) == 0; i += 8 {
			}
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(s)
}

// unescape decodes the escape sequence at the start of s (s[0] is '\\')
// and returns the rune it stands for and its length, or a length of 0 if it
// is malformed. Half a surrogate pair that is not followed by the other half
// stands for U+FFFD, as in encoding/json.
func unescape(s []byte) (rune, int) {
	if len(s) < 2 {
		return 0, 0
	}
	switch e := s[1]; e {
	case '"', '\\', '/':
		return rune(e), 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r, ok := hex4(s[2:])
		if !ok {
			return 0, 0
		}
		if !utf16.IsSurrogate(r) {
			return r, 6
		}
		if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
			if r2, ok := hex4(s[8:]); ok {
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					return dec, 12
				}
			}
		}
		return utf8.RuneError, 6
	}
	return 0, 0
}

// hex4 decodes the four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
