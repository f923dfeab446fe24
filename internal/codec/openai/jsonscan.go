package openai

import "encoding/json"

// This file holds a minimal scanner over JSON that encoding/json has already
// validated. The decoders use it to find top-level members the typed structs
// do not know (they go to Extra) without decoding the document a second time
// into a map.

// eachMember calls fn with the key and raw value of every member of the
// top-level object in data. data must be valid JSON whose top-level value is
// an object. key and value alias data and are valid only during the call;
// escaped reports that key still holds JSON escapes (see unescapeKey).
func eachMember(data []byte, fn func(key []byte, escaped bool, value []byte) error) error {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil
	}
	i++
	for {
		i = skipWS(data, i)
		if i >= len(data) || data[i] != '"' {
			return nil // '}' or, defensively, the end of input
		}
		start := i + 1
		end, escaped := scanString(data, i)
		key := data[start : end-1]
		i = skipWS(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil
		}
		i = skipWS(data, i+1)
		vstart := i
		i = skipValue(data, i)
		if err := fn(key, escaped, data[vstart:i]); err != nil {
			return err
		}
		i = skipWS(data, i)
		if i >= len(data) || data[i] != ',' {
			return nil
		}
		i++
	}
}

// memberElements returns the elements of the array that is the value of the
// top-level member named key in data (the last one, if repeated, as
// encoding/json decodes it). The slices alias data.
func memberElements(data []byte, key string) [][]byte {
	var arr []byte
	eachMember(data, func(k []byte, escaped bool, v []byte) error {
		if string(k) == key || escaped && unescapeKey(k) == key {
			arr = v
		}
		return nil
	})
	if len(arr) == 0 || arr[0] != '[' {
		return nil
	}
	var out [][]byte
	for i := 1; ; {
		i = skipWS(arr, i)
		if i >= len(arr) || arr[i] == ']' {
			return out
		}
		start := i
		i = skipValue(arr, i)
		out = append(out, arr[start:i])
		i = skipWS(arr, i)
		if i < len(arr) && arr[i] == ',' {
			i++
		}
	}
}

// unescapeKey returns the text of a key that holds JSON escapes.
func unescapeKey(key []byte) string {
	var s string
	quoted := make([]byte, 0, len(key)+2)
	quoted = append(append(append(quoted, '"'), key...), '"')
	if err := json.Unmarshal(quoted, &s); err != nil {
		return string(key)
	}
	return s
}

func skipWS(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// scanString returns the index just past the string starting at data[i]
// (a '"'), and whether it contains escapes.
func scanString(data []byte, i int) (int, bool) {
	escaped := false
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return i + 1, escaped
		}
	}
	return len(data), escaped
}

// skipValue returns the index just past the value starting at data[i].
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		end, _ := scanString(data, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i, _ = scanString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// jsonKind names the kind of the JSON value that starts raw, in the words
// error messages use.
func jsonKind(raw []byte) string {
	raw = trimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
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
