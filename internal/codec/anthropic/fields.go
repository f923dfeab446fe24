package anthropic

import (
	"encoding/json"
	"strconv"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// This file holds the small member helpers the encoders and decoders share,
// on top of package jsonw.

// appendStringField appends `,"key":"value"` (no comma after '{' or '[').
func appendStringField(dst []byte, key, value string) []byte {
	return jsonw.AppendString(jsonw.AppendKey(dst, key), value)
}

// appendIntField appends `,"key":n`.
func appendIntField(dst []byte, key string, n int64) []byte {
	return strconv.AppendInt(jsonw.AppendKey(dst, key), n, 10)
}

// appendRawField appends `,"key":raw`; see jsonw.AppendCompact, which
// fails unless raw is one valid JSON value.
func appendRawField(dst []byte, key string, raw []byte) ([]byte, error) {
	return jsonw.AppendCompact(jsonw.AppendKey(dst, key), raw)
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

// eachField calls fn for each member of the object v, in order; a JSON
// null is an object without members, anything else is a type error.
func eachField(v []byte, fn func(key, value []byte) error) error {
	if isNull(v) {
		return nil
	}
	if v[0] != '{' {
		return typeError("", "an object", v)
	}
	return jsonw.EachMember(v, fn)
}
