package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// This file holds the append-style JSON writer the encoders share. Writing
// JSON by hand keeps the hot path free of reflection and lets raw pieces
// (schemas, cache hints, opaque blocks) be copied without re-encoding.

const hexDigits = "0123456789abcdef"

var errInvalidRaw = errors.New("invalid JSON value")

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD and
// U+2028/U+2029 are escaped, as encoding/json does; <, > and & are not.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
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
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendKey appends `"key":` (key must need no escaping), preceded by a
// comma unless dst ends an opening brace.
func appendKey(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' && dst[n-1] != '[' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// appendStringField appends `,"key":"value"`.
func appendStringField(dst []byte, key, value string) []byte {
	return appendString(appendKey(dst, key), value)
}

// appendIntField appends `,"key":n`.
func appendIntField(dst []byte, key string, n int64) []byte {
	return strconv.AppendInt(appendKey(dst, key), n, 10)
}

// appendRawField appends `,"key":raw`; see appendRaw.
func appendRawField(dst []byte, key string, raw []byte) ([]byte, error) {
	return appendRaw(appendKey(dst, key), raw)
}

// appendRaw appends the JSON value raw, compacted to one line when it spans
// several (so it can sit in an SSE data line). It fails, leaving dst as it
// was, when raw is not exactly one valid JSON value.
func appendRaw(dst, raw []byte) ([]byte, error) {
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		if !validJSON(raw) {
			return dst, errInvalidRaw
		}
		return append(dst, raw...), nil
	}
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, raw); err != nil {
		return dst, errInvalidRaw
	}
	return buf.Bytes(), nil
}

// isNull reports whether raw is absent or the JSON null literal, which
// encoding/json stores verbatim in a json.RawMessage.
func isNull(raw []byte) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// nonNull returns raw, or nil when it is absent or null.
func nonNull(raw json.RawMessage) json.RawMessage {
	if isNull(raw) {
		return nil
	}
	return raw
}
