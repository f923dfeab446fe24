package admin

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// This file reads JSON request bodies: one object whose members are
// decoded one by one, so that every refusal names the member at fault.
// Rules shared by every body: UTF-8 JSON, an object (or nothing at all),
// no member given twice, no member the endpoint does not take. A member
// whose value is null is the same as the zero value: on PATCH it clears
// the field.

// maxBody bounds a request body, in bytes.
const maxBody = 64 << 10

// fields are a body's members by name, values raw JSON (aliasing the body).
type fields map[string][]byte

// readFields reads r's body (at most maxBody bytes) and splits it with
// parseFields.
func readFields(w http.ResponseWriter, r *http.Request) (fields, *llm.Error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &llm.Error{Status: http.StatusRequestEntityTooLarge, Type: llm.TypeInvalidRequest,
				Code: "body_too_large", Fault: llm.FaultCaller,
				Message: "the request body is larger than " + strconv.Itoa(maxBody) + " bytes"}
		}
		return nil, llm.BadRequest("", "reading the request body failed")
	}
	return parseFields(body)
}

// parseFields splits body, one JSON object, into its members. A body of
// only whitespace is an empty object. The values alias body.
func parseFields(body []byte) (fields, *llm.Error) {
	body = jsonw.TrimSpace(body)
	if len(body) == 0 {
		return fields{}, nil
	}
	if !utf8.Valid(body) || !jsonw.Valid(body) {
		return nil, llm.BadRequest("", "the request body is not valid UTF-8 JSON")
	}
	f := fields{}
	var dup string
	err := jsonw.EachMember(body, func(key, value []byte) error {
		name := jsonw.Key(key)
		if _, ok := f[name]; ok {
			dup = name
			return errDuplicate
		}
		f[name] = value
		return nil
	})
	switch {
	case dup != "":
		return nil, llm.BadRequest(dup, "%s is given more than once", short(dup))
	case err != nil:
		return nil, llm.BadRequest("", "the request body must be a JSON object, got %s", jsonw.KindOf(body))
	}
	return f, nil
}

var errDuplicate = errors.New("duplicate member")

// only refuses the first member (in name order, so the answer does not
// depend on map order) that is not one of names.
func (f fields) only(names ...string) *llm.Error {
	var unknown string
	for name := range f {
		if !slices.Contains(names, name) && (unknown == "" || name < unknown) {
			unknown = name
		}
	}
	if unknown != "" {
		return llm.BadRequest(unknown, "unknown field %s", short(unknown))
	}
	return nil
}

func isNull(v []byte) bool { return string(v) == "null" }

// wrongKind is the 400 for a member of the wrong JSON type.
func wrongKind(name, want string, v []byte) *llm.Error {
	return llm.BadRequest(name, "%s: want %s, got %s", name, want, jsonw.KindOf(v))
}

// text decodes member name as a string: null is "". It must be UTF-8
// without NUL (JSON escapes could smuggle one in) and at most max bytes.
func (f fields) text(name string, max int) (*string, *llm.Error) {
	v, ok := f[name]
	if !ok {
		return nil, nil
	}
	var s string
	if !isNull(v) {
		if v[0] != '"' {
			return nil, wrongKind(name, "a string", v)
		}
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, wrongKind(name, "a string", v)
		}
	}
	if perr := checkText(name, s, max); perr != nil {
		return nil, perr
	}
	return &s, nil
}

// checkText refuses s, the value of param, when it holds NUL or invalid
// UTF-8 (the store keeps text exactly) or is longer than max bytes.
func checkText(param, s string, max int) *llm.Error {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return llm.BadRequest(param, "%s: must be UTF-8 text without NUL", param)
	}
	if len(s) > max {
		return llm.BadRequest(param, "%s: at most %d bytes, got %d", param, max, len(s))
	}
	return nil
}

// count decodes member name as an integer from 0 to max: null is 0.
func (f fields) count(name string, max int64) (*int64, *llm.Error) {
	v, ok := f[name]
	if !ok {
		return nil, nil
	}
	var n int64
	if !isNull(v) {
		var err error
		if n, err = strconv.ParseInt(string(v), 10, 64); err != nil || n < 0 || n > max {
			return nil, llm.BadRequest(name, "%s: want an integer from 0 to %d, got %s", name, max, short(string(v)))
		}
	}
	return &n, nil
}

// flag decodes member name as a boolean: null is false.
func (f fields) flag(name string) (*bool, *llm.Error) {
	v, ok := f[name]
	if !ok {
		return nil, nil
	}
	b := string(v) == "true"
	if !b && string(v) != "false" && !isNull(v) {
		return nil, wrongKind(name, "true or false", v)
	}
	return &b, nil
}

// strings decodes member name as an array of at most max strings, each
// checked with checkText(itemMax): null is an empty list.
func (f fields) strings(name string, max, itemMax int) (*[]string, *llm.Error) {
	v, ok := f[name]
	if !ok {
		return nil, nil
	}
	var list []string
	if !isNull(v) {
		if v[0] != '[' {
			return nil, wrongKind(name, "an array of strings", v)
		}
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, wrongKind(name, "an array of strings", v)
		}
		if len(list) > max {
			return nil, llm.BadRequest(name, "%s: at most %d entries, got %d", name, max, len(list))
		}
		for _, s := range list {
			if perr := checkText(name, s, itemMax); perr != nil {
				return nil, perr
			}
		}
	}
	return &list, nil
}

// Bounds of a metadata object (keys', tenants' and teams' alike).
const (
	maxMetadataEntries = 32
	maxMetadataKeyLen  = 64
	maxMetadataValLen  = 1024
)

// metadata decodes member name as an object of string values: at most
// maxMetadataEntries, keys 1 to maxMetadataKeyLen bytes, values at most
// maxMetadataValLen. null is an empty map.
func (f fields) metadata(name string) (*map[string]string, *llm.Error) {
	v, ok := f[name]
	if !ok {
		return nil, nil
	}
	m := map[string]string{}
	if !isNull(v) {
		if v[0] != '{' {
			return nil, wrongKind(name, "an object of strings", v)
		}
		// Duplicate keys would silently collapse in a map; refuse them.
		inner, perr := parseFields(v)
		if perr != nil {
			return nil, llm.BadRequest(name, "%s: %s", name, perr.Message)
		}
		if len(inner) > maxMetadataEntries {
			return nil, llm.BadRequest(name, "%s: at most %d entries, got %d", name, maxMetadataEntries, len(inner))
		}
		for k, raw := range inner {
			var s string
			if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
				return nil, llm.BadRequest(name, "%s: the value of %s must be a string, got %s", name, short(k), jsonw.KindOf(raw))
			}
			if k == "" {
				return nil, llm.BadRequest(name, "%s: keys must not be empty", name)
			}
			if perr := checkText(name, k, maxMetadataKeyLen); perr != nil {
				return nil, perr
			}
			if perr := checkText(name, s, maxMetadataValLen); perr != nil {
				return nil, perr
			}
			m[k] = s
		}
	}
	return &m, nil
}

// instant decodes member name as a time: an RFC 3339 string or unix
// seconds (as a number or a string), UTC, cut to microseconds (the
// store's precision). null is the zero time.
func (f fields) instant(name string) (*time.Time, *llm.Error) {
	v, ok := f[name]
	if !ok {
		return nil, nil
	}
	var t time.Time
	if !isNull(v) {
		s := string(v)
		if v[0] == '"' {
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, wrongKind(name, "an RFC 3339 time", v)
			}
		}
		var ok bool
		if t, ok = parseTime(s); !ok {
			return nil, llm.BadRequest(name, "%s: want an RFC 3339 time (2026-01-02T15:04:05Z) or unix seconds, got %s", name, short(s))
		}
		t = t.Truncate(time.Microsecond)
	}
	return &t, nil
}

// money decodes member name as dollars into micro-dollars: a decimal
// string ("12.50") or number (12.5) with at most 6 decimals and no sign
// or exponent, below maxUSD. null is 0.
func (f fields) money(name string) (*int64, *llm.Error) {
	v, ok := f[name]
	if !ok {
		return nil, nil
	}
	var micros int64
	if !isNull(v) {
		s := string(v)
		if v[0] == '"' {
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, wrongKind(name, "a decimal string", v)
			}
		}
		var ok bool
		if micros, ok = parseUSD(s); !ok {
			return nil, llm.BadRequest(name, "%s: want dollars as a decimal with at most 6 places below %d (\"12.50\"), got %s", name, maxUSD, short(s))
		}
	}
	return &micros, nil
}

// names returns f's member names, sorted and joined with commas: what an
// audit entry records of a write (never the values, which may be
// sensitive).
func (f fields) names() string {
	return strings.Join(slices.Sorted(maps.Keys(f)), ",")
}

// entityText bounds names and IDs as the store does.
const entityText = store.MaxEntityText
