package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// This file writes JSON values other than strings, and object keys. Every
// function appends to dst and returns the extended buffer, like strconv's
// Append functions; none keeps a reference to its arguments.

// AppendKey appends `"key":`, preceded by a comma unless dst is empty or
// ends with '{' or '[' (so the first member of an object needs no
// bookkeeping). key is written as is: it must need no escaping, which holds
// for every member name the wire formats define.
func AppendKey(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' && dst[n-1] != '[' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// AppendInt appends the decimal form of n.
func AppendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// AppendBool appends true or false.
func AppendBool(dst []byte, b bool) []byte { return strconv.AppendBool(dst, b) }

// AppendFloat appends f the way encoding/json writes a float64 (bits 64) or
// a float32 (bits 32): the shortest text that reads back as the same value,
// in plain notation unless the magnitude is below 1e-6 or at least 1e21,
// with exponents like e-7, not e-07. NaN and the infinities, which
// encoding/json refuses and JSON cannot hold, are written as null. For
// bits 32, f should hold a float32 value; it is rounded to one otherwise.
func AppendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// AppendRaw appends raw unchanged, or null when raw is empty (an absent
// json.RawMessage). raw is trusted to be one valid JSON value, as it is when
// it comes from decoded JSON; use AppendCompact for anything else.
func AppendRaw(dst, raw []byte) []byte {
	if len(raw) == 0 {
		return append(dst, "null"...)
	}
	return append(dst, raw...)
}

// AppendCompact appends the JSON value raw, compacted to one line when it
// spans several (so it can sit on an SSE data line) and otherwise copied
// unchanged. It fails with ErrSyntax, leaving dst as it was, unless raw is
// exactly one valid JSON value (surrounding whitespace allowed; empty raw
// is not a value).
func AppendCompact(dst, raw []byte) ([]byte, error) {
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		if !Valid(raw) {
			return dst, ErrSyntax
		}
		return append(dst, raw...), nil
	}
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, raw); err != nil {
		return dst, ErrSyntax
	}
	return buf.Bytes(), nil
}
