package openai

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// checkBody rejects what is not a JSON object before any decoding: an empty
// body, invalid UTF-8 (encoding/json would silently replace it), and
// top-level values that are not objects.
func checkBody(body []byte) *llm.Error {
	b := jsonw.TrimSpace(body)
	if len(b) == 0 {
		return llm.BadRequest("", "the request body is empty; expected a JSON object")
	}
	if !utf8.Valid(body) {
		return llm.BadRequest("", "the request body is not valid UTF-8")
	}
	if b[0] != '{' {
		if json.Valid(b) {
			return llm.BadRequest("", "the request body must be a JSON object, got %s", jsonw.KindOf(b))
		}
		return llm.BadRequest("", "the request body is not valid JSON: it must be a JSON object")
	}
	return nil
}

// decodeError turns an error from json.Unmarshal of a request body into a
// 400 that names the parameter at fault, with array indexes
// ("messages[2].content"): encoding/json reports only the field path, so
// the body is searched for the first value of the wrong type at that path.
func decodeError(body []byte, err error) *llm.Error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &llm.Error{Status: 400, Type: llm.TypeInvalidRequest, Fault: llm.FaultCaller,
			Message: "the request body is not valid JSON: " + se.Error() + " (at byte " +
				strconv.FormatInt(se.Offset, 10) + ")", Err: err}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		param := te.Field
		var tree any
		if te.Field != "" && json.Unmarshal(body, &tree) == nil {
			if p, ok := locate(tree, strings.Split(te.Field, "."), "", te.Value); ok {
				param = p
			}
		}
		e := llm.BadRequest(param, "invalid type for '%s': expected %s, got %s",
			param, expected(te.Type), gotValue(te.Value))
		if param == "" {
			e.Message = "invalid type in the request body: expected " + expected(te.Type) +
				", got " + gotValue(te.Value)
		}
		e.Err = err
		return e
	}
	e := llm.BadRequest("", "the request body could not be decoded: %v", err)
	e.Err = err
	return e
}

// locate finds, in the generic decoding v of a body, the first value at the
// dotted field path whose JSON kind is kind (an UnmarshalTypeError.Value),
// and returns its path with array indexes.
func locate(v any, path []string, prefix, kind string) (string, bool) {
	if len(path) == 0 {
		want := strings.SplitN(kind, " ", 2)[0]
		if kindOf(v) == want {
			return prefix, true
		}
		// The bad value is an element of an array or a value of a map:
		// look one level down first, then into nested arrays.
		switch x := v.(type) {
		case []any:
			for i, e := range x {
				if kindOf(e) == want {
					return prefix + "[" + strconv.Itoa(i) + "]", true
				}
			}
			for i, e := range x {
				if _, ok := e.([]any); ok {
					if p, ok := locate(e, nil, prefix+"["+strconv.Itoa(i)+"]", kind); ok {
						return p, true
					}
				}
			}
		case map[string]any:
			for _, k := range sortedKeys(x) {
				if kindOf(x[k]) == want {
					return prefix + "." + k, true
				}
			}
		}
		return "", false
	}
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			if p, ok := locate(e, path, prefix+"["+strconv.Itoa(i)+"]", kind); ok {
				return p, true
			}
		}
	case map[string]any:
		child, ok := x[path[0]]
		if !ok {
			for k, c := range x { // encoding/json matches keys case-insensitively
				if strings.EqualFold(k, path[0]) {
					child, ok = c, true
					break
				}
			}
		}
		if !ok {
			return "", false
		}
		name := path[0]
		if prefix != "" {
			name = prefix + "." + name
		}
		return locate(child, path[1:], name, kind)
	}
	return "", false
}

// kindOf names a generically decoded value in UnmarshalTypeError.Value's
// vocabulary.
func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// gotValue words an UnmarshalTypeError.Value for a message.
func gotValue(v string) string {
	switch {
	case v == "string":
		return "a string"
	case v == "number":
		return "a number"
	case strings.HasPrefix(v, "number "):
		return strings.TrimPrefix(v, "number ")
	case v == "bool":
		return "a boolean"
	case v == "array":
		return "an array"
	case v == "object":
		return "an object"
	}
	return v
}

// Validation helpers: each returns a 400 naming the parameter.

func missing(param string) *llm.Error {
	return llm.BadRequest(param, "missing required parameter: '%s'", param)
}

func invalidValue(param, format string, args ...any) *llm.Error {
	e := llm.BadRequest(param, format, args...)
	e.Message = "invalid value for '" + param + "': " + e.Message
	return e
}

func checkRange(param string, v *float64, lo, hi float64) *llm.Error {
	if v != nil && (*v < lo || *v > hi) {
		return invalidValue(param, "must be between %g and %g, got %g", lo, hi, *v)
	}
	return nil
}

func checkIntRange(param string, v *int, lo, hi int) *llm.Error {
	if v != nil && (*v < lo || *v > hi) {
		return invalidValue(param, "must be between %d and %d, got %d", lo, hi, *v)
	}
	return nil
}

func checkMin(param string, v *int, lo int) *llm.Error {
	if v != nil && *v < lo {
		return invalidValue(param, "must be at least %d, got %d", lo, *v)
	}
	return nil
}
