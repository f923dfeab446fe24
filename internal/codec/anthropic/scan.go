package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// This file holds a small structural JSON scanner: it walks the top level of
// an object or array without decoding the values, so that a decoder can find
// unknown keys (for Extra) and slice out the raw bytes of individual elements
// (for opaque blocks) in one cheap pass. It never panics on malformed input;
// callers use it on JSON that encoding/json has already validated.

var errScan = errors.New("malformed JSON")

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(d []byte, i int) int {
	for i < len(d) && isSpace(d[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the string literal starting at d[i]
// (which must be '"').
func stringEnd(d []byte, i int) (int, error) {
	for j := i + 1; j < len(d); {
		k := bytes.IndexByte(d[j:], '"')
		if k < 0 {
			return 0, errScan
		}
		j += k
		// The quote is escaped if an odd number of backslashes precede it.
		n := 0
		for p := j - 1; p > i && d[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, nil
		}
		j++
	}
	return 0, errScan
}

// valueEnd returns the index just past the JSON value starting at d[i].
func valueEnd(d []byte, i int) (int, error) {
	if i >= len(d) {
		return 0, errScan
	}
	switch d[i] {
	case '"':
		return stringEnd(d, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(d); j++ {
			switch d[j] {
			case '"':
				k, err := stringEnd(d, j)
				if err != nil {
					return 0, err
				}
				j = k - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errScan
	case '}', ']', ',', ':':
		return 0, errScan
	}
	j := i
	for j < len(d) {
		switch c := d[j]; {
		case isSpace(c), c == ',', c == '}', c == ']', c == ':', c == '"', c == '{', c == '[':
			return j, nil
		}
		j++
	}
	return j, nil
}

// scanObject calls fn for each member of the JSON object d, in order, with
// the key as it appears between its quotes (escapes not decoded; see
// keyString) and the raw value. It stops at fn's first error.
func scanObject(d []byte, fn func(key, value []byte) error) error {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return errScan
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return nil
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return errScan
		}
		ke, err := stringEnd(d, i)
		if err != nil {
			return err
		}
		key := d[i+1 : ke-1]
		i = skipSpace(d, ke)
		if i >= len(d) || d[i] != ':' {
			return errScan
		}
		i = skipSpace(d, i+1)
		ve, err := valueEnd(d, i)
		if err != nil {
			return err
		}
		if err := fn(key, d[i:ve]); err != nil {
			return err
		}
		i = skipSpace(d, ve)
		if i >= len(d) {
			return errScan
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case '}':
			return nil
		default:
			return errScan
		}
	}
}

// scanArray calls fn for each element of the JSON array d, in order.
func scanArray(d []byte, fn func(i int, value []byte) error) error {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '[' {
		return errScan
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == ']' {
		return nil
	}
	for n := 0; ; n++ {
		ve, err := valueEnd(d, i)
		if err != nil {
			return err
		}
		if err := fn(n, d[i:ve]); err != nil {
			return err
		}
		i = skipSpace(d, ve)
		if i >= len(d) {
			return errScan
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case ']':
			return nil
		default:
			return errScan
		}
	}
}

// keyString returns a key from scanObject as a Go string, decoding escapes.
func keyString(key []byte) string {
	if bytes.IndexByte(key, '\\') < 0 && utf8.Valid(key) {
		return string(key)
	}
	q := make([]byte, 0, len(key)+2)
	q = append(append(append(q, '"'), key...), '"')
	var s string
	if json.Unmarshal(q, &s) != nil {
		return string(key)
	}
	return s
}
