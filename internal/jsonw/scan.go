package jsonw

import (
	"bytes"
	"errors"
)

// This file holds a structural scanner: it walks one level of an object or
// array without decoding the values, so a decoder can find the members its
// typed structs do not know (for Extra) and slice out the raw bytes of
// single elements in one cheap pass. It is meant for JSON that Valid or
// encoding/json has already accepted; on that it yields exactly the members
// and elements encoding/json sees (FuzzEachMember holds it to that). On
// anything else it never panics, and it reports ErrSyntax for the structural
// faults it meets, but it does not validate the values it skips.

// ErrSyntax reports malformed JSON.
var ErrSyntax = errors.New("jsonw: malformed JSON")

// IsSpace reports whether c is JSON whitespace: space, tab, CR or LF.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// SkipSpace returns the index of the first non-whitespace byte of b at or
// after i, or len(b).
func SkipSpace(b []byte, i int) int {
	for i < len(b) && IsSpace(b[i]) {
		i++
	}
	return i
}

// TrimSpace returns b without leading and trailing JSON whitespace. Unlike
// bytes.TrimSpace it leaves other Unicode spaces alone, as JSON does.
func TrimSpace(b []byte) []byte {
	for len(b) > 0 && IsSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && IsSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// KindOf names the kind of the JSON value that starts v (after any
// whitespace) in the words error messages use: "a string", "an object",
// "an array", "a boolean", "null" or "a number"; "nothing" when v is blank.
// It looks at the first byte only.
func KindOf(v []byte) string {
	i := SkipSpace(v, 0)
	if i == len(v) {
		return "nothing"
	}
	switch v[i] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// EachMember calls fn with the key and raw value of every member of the
// object obj (surrounding whitespace allowed), in order, duplicates
// included. key is the text between the key's quotes with escapes left in
// (see Key); key and value alias obj and are valid only during the call.
// It returns fn's first error, or ErrSyntax when obj is not an object.
func EachMember(obj []byte, fn func(key, value []byte) error) error {
	i := SkipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return ErrSyntax
	}
	i = SkipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return ErrSyntax
		}
		ke, ok := stringEnd(obj, i)
		if !ok {
			return ErrSyntax
		}
		key := obj[i+1 : ke-1]
		i = SkipSpace(obj, ke)
		if i >= len(obj) || obj[i] != ':' {
			return ErrSyntax
		}
		i = SkipSpace(obj, i+1)
		ve, ok := valueEnd(obj, i)
		if !ok {
			return ErrSyntax
		}
		if err := fn(key, obj[i:ve]); err != nil {
			return err
		}
		if i = SkipSpace(obj, ve); i >= len(obj) {
			return ErrSyntax
		}
		switch obj[i] {
		case ',':
			i = SkipSpace(obj, i+1)
		case '}':
			return nil
		default:
			return ErrSyntax
		}
	}
}

// EachElement calls fn with the index and raw value of every element of the
// array arr (surrounding whitespace allowed), in order. value aliases arr
// and is valid only during the call. It returns fn's first error, or
// ErrSyntax when arr is not an array.
func EachElement(arr []byte, fn func(i int, value []byte) error) error {
	i := SkipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return ErrSyntax
	}
	i = SkipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return nil
	}
	for n := 0; ; n++ {
		ve, ok := valueEnd(arr, i)
		if !ok {
			return ErrSyntax
		}
		if err := fn(n, arr[i:ve]); err != nil {
			return err
		}
		if i = SkipSpace(arr, ve); i >= len(arr) {
			return ErrSyntax
		}
		switch arr[i] {
		case ',':
			i = SkipSpace(arr, i+1)
		case ']':
			return nil
		default:
			return ErrSyntax
		}
	}
}

// stringEnd returns the index just past the string literal that starts at
// d[i] (a '"'). It jumps from quote to quote, so long strings cost a fast
// byte search rather than a loop.
func stringEnd(d []byte, i int) (int, bool) {
	for j := i + 1; j < len(d); j++ {
		k := bytes.IndexByte(d[j:], '"')
		if k < 0 {
			return 0, false
		}
		j += k
		// The quote is escaped if an odd number of backslashes precede it.
		n := 0
		for p := j - 1; p > i && d[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, true
		}
	}
	return 0, false
}

// valueEnd returns the index just past the value that starts at d[i].
// Containers are matched by bracket depth, scalars run to the next
// delimiter; neither is validated.
func valueEnd(d []byte, i int) (int, bool) {
	if i >= len(d) {
		return 0, false
	}
	switch d[i] {
	case '"':
		return stringEnd(d, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(d); j++ {
			switch d[j] {
			case '"':
				k, ok := stringEnd(d, j)
				if !ok {
					return 0, false
				}
				j = k - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	case '}', ']', ',', ':':
		return 0, false
	}
	j := i
	for j < len(d) {
		switch c := d[j]; {
		case IsSpace(c), c == ',', c == '}', c == ']', c == ':', c == '"', c == '{', c == '[':
			return j, true
		}
		j++
	}
	return j, true
}
