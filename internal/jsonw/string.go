package jsonw

import "unicode/utf8"

// This file writes JSON strings. The output is byte for byte what a
// json.Encoder with SetEscapeHTML(false) writes (FuzzAppendString holds it to
// that): <, > and & are left as they are, because the gateway writes API
// JSON, never HTML, and OpenAI and Anthropic do not escape them either.
// U+2028 and U+2029 are still escaped, as encoding/json always does, so the
// output is safe to embed in JavaScript; no output contains a raw line
// break, so it can always sit on one SSE data line.

const hexDigits = "0123456789abcdef"

// safeASCII[c] is true for the ASCII bytes that stand for themselves inside a
// JSON string: everything but control characters, '"' and '\\'.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString appends s to dst as a quoted JSON string and returns the
// extended buffer. Invalid UTF-8 is written as \ufffd, one per bad byte, as
// encoding/json does, so the output is always valid UTF-8 and decodes to
// s with each invalid byte replaced by U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = AppendEscaped(dst, s)
	return append(dst, '"')
}

// AppendStringOrNull appends s as AppendString does, or null when s is
// empty: for optional string members that the wire formats send as null.
func AppendStringOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return AppendString(dst, s)
}

// AppendEscaped appends the escaped text of s without the surrounding
// quotes, for building one JSON string out of several pieces. Escaping is
// AppendString's.
func AppendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				// In ASCII text, skip plain bytes a word at a time: most
				// text needs no escaping.
				for i++; i+8 <= len(s) && special(load8(s, i)) == 0; i += 8 {
				}
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendEscapedByte(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

// appendEscapedByte appends the escape for an ASCII byte that cannot appear
// raw in a JSON string.
func appendEscapedByte(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// Word-at-a-time byte tests (see "Bit Twiddling Hacks", "Determine if a word
// has a byte less than n"). Each is exact about whether some byte matches,
// which is all the callers ask.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special returns non-zero when one of the eight bytes in x is a control
// character, '"', '\\' or not ASCII: a byte a JSON string cannot carry raw,
// or one that needs a closer look.
func special(x uint64) uint64 {
	quote := x ^ (ones * '"')
	backslash := x ^ (ones * '\\')
	below := (x - ones*0x20) &^ x                  // some byte < 0x20
	isQuote := (quote - ones) &^ quote             // some byte == '"'
	isBackslash := (backslash - ones) &^ backslash // some byte == '\\'
	return (below | isQuote | isBackslash | x) & highs
}

// stringStop returns non-zero when one of the eight bytes in x is a control
// character, '"' or '\\': a byte that ends or interrupts the plain text of
// a JSON string. Unlike special it lets non-ASCII bytes through.
func stringStop(x uint64) uint64 {
	quote := x ^ (ones * '"')
	backslash := x ^ (ones * '\\')
	below := (x - ones*0x20) &^ x
	isQuote := (quote - ones) &^ quote
	isBackslash := (backslash - ones) &^ backslash
	return (below | isQuote | isBackslash) & highs
}

// load8 reads s[i:i+8] as a little-endian word; the compiler turns it into
// one load on little-endian machines.
func load8(s string, i int) uint64 {
	w := s[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// load8b is load8 for a byte slice.
func load8b(s []byte, i int) uint64 {
	w := s[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}
