package mock

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The mock writes its answers with append-based encoding: it is faster than
// encoding/json for these small fixed shapes, and it keeps the mock's wire
// JSON independent of any struct tags the gateway's codecs use.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string literal. Quotes, backslashes and
// control characters are escaped, invalid UTF-8 becomes U+FFFD and U+2028 /
// U+2029 are escaped as encoding/json does; the output never contains a raw
// newline, so it can go on one SSE data line.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendInt appends the decimal form of n.
func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

// appendFloat32 appends f in the shortest form that reads back as the same
// float32. f must be finite.
func appendFloat32(dst []byte, f float32) []byte {
	return strconv.AppendFloat(dst, float64(f), 'g', -1, 32)
}

// appendID appends prefix followed by the decimal n, as a JSON string.
func appendID(dst []byte, prefix string, n int64) []byte {
	dst = append(dst, '"')
	dst = append(dst, prefix...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '"')
}

// decodeString decodes the JSON string literal b. Literals without escapes
// (the common case) are copied directly; others go through encoding/json,
// which also rejects malformed ones.
func decodeString(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		inner := b[1 : len(b)-1]
		simple := true
		for _, c := range inner {
			if c < 0x20 || c == '"' || c == '\\' {
				simple = false
				break
			}
		}
		if simple && utf8.Valid(inner) {
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}
