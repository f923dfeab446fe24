package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// This file holds the hand parser for the bulky parts of Anthropic bodies
// (messages, content blocks, tools). It runs on bodies that have already
// passed jsonw.Valid and utf8.Valid (or been made valid UTF-8, see
// validUTF8), so it only walks structure with the jsonw scanner and decodes
// strings with jsonw.UnquoteTrusted: one fast pass instead of
// encoding/json's several.

// parseError is a type error at a path relative to where it was found;
// callers prefix their own position as it travels up.
type parseError struct {
	path string
	msg  string
}

func (e *parseError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

// at prefixes the path of a *parseError with p ("content", "[3]").
func at(err error, p string) error {
	if err == nil {
		return nil
	}
	var pe *parseError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case pe.path == "":
		pe.path = p
	case pe.path[0] == '[':
		pe.path = p + pe.path
	default:
		pe.path = p + "." + pe.path
	}
	return err
}

func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

func typeError(field, want string, v []byte) error {
	return &parseError{path: field, msg: "expected " + want + ", got " + jsonw.KindOf(v)}
}

// parseString decodes a string member; null is "".
func parseString(field string, v []byte) (string, error) {
	if len(v) > 0 && v[0] == '"' {
		return jsonw.UnquoteTrusted(v)
	}
	if isNull(v) {
		return "", nil
	}
	return "", typeError(field, "a string", v)
}

// parseName is parseString for the small vocabulary of type, role and
// stop-reason values: known ones are returned as constants, without
// allocating.
func parseName(field string, v []byte) (string, error) {
	switch string(v) {
	case `"text"`:
		return "text", nil
	case `"tool_use"`:
		return "tool_use", nil
	case `"tool_result"`:
		return "tool_result", nil
	case `"thinking"`:
		return "thinking", nil
	case `"image"`:
		return "image", nil
	case `"user"`:
		return "user", nil
	case `"assistant"`:
		return "assistant", nil
	case `"message"`:
		return "message", nil
	case `"content_block_delta"`:
		return "content_block_delta", nil
	case `"content_block_start"`:
		return "content_block_start", nil
	case `"content_block_stop"`:
		return "content_block_stop", nil
	case `"message_start"`:
		return "message_start", nil
	case `"message_delta"`:
		return "message_delta", nil
	case `"message_stop"`:
		return "message_stop", nil
	case `"ping"`:
		return "ping", nil
	case `"text_delta"`:
		return "text_delta", nil
	case `"input_json_delta"`:
		return "input_json_delta", nil
	case `"thinking_delta"`:
		return "thinking_delta", nil
	case `"signature_delta"`:
		return "signature_delta", nil
	case `"end_turn"`:
		return "end_turn", nil
	case `"max_tokens"`:
		return "max_tokens", nil
	case `"base64"`:
		return "base64", nil
	}
	return parseString(field, v)
}

func parseBool(field string, v []byte) (bool, error) {
	switch string(v) {
	case "true":
		return true, nil
	case "false", "null":
		return false, nil
	}
	return false, typeError(field, "a boolean", v)
}

// parseInt decodes an integer member; null is nil.
func parseInt(field string, v []byte) (*int, error) {
	if isNull(v) {
		return nil, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return nil, typeError(field, "an integer", v)
	}
	return &n, nil
}

// parseIndex decodes a non-null integer member without allocating.
func parseIndex(field string, v []byte) (int, error) {
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, typeError(field, "an integer", v)
	}
	return n, nil
}

// parseFloat decodes a number member; null is nil.
func parseFloat(field string, v []byte) (*float64, error) {
	if isNull(v) {
		return nil, nil
	}
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return nil, typeError(field, "a number", v)
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return nil, typeError(field, "a number", v)
	}
	return &f, nil
}

// parseStrings decodes an array of strings; null is nil.
func parseStrings(field string, v []byte) ([]string, error) {
	if isNull(v) {
		return nil, nil
	}
	if v[0] != '[' {
		return nil, typeError(field, "an array", v)
	}
	var out []string
	err := jsonw.EachElement(v, func(i int, e []byte) error {
		s, err := parseString("", e)
		out = append(out, s)
		return at(err, field+index(i))
	})
	return out, err
}

// cloneRaw copies a raw member for keeping; null is nil.
func cloneRaw(v []byte) json.RawMessage {
	if isNull(v) {
		return nil
	}
	return bytes.Clone(v)
}

// parse reads content: a string, an array of blocks, or (tolerated, left
// unset) anything else.
func (c *content) parse(v []byte) error {
	if len(v) == 0 {
		return nil
	}
	switch v[0] {
	case '"':
		s, err := jsonw.UnquoteTrusted(v)
		c.Text, c.IsString = s, true
		return err
	case '[':
		c.IsArray = true
		return jsonw.EachElement(v, func(i int, e []byte) error {
			c.Blocks = append(c.Blocks, wireBlock{})
			return at(c.Blocks[len(c.Blocks)-1].parse(e), index(i))
		})
	}
	return nil
}

// parse reads one content block. Type errors in blocks of types without a
// canonical meaning are ignored: those blocks are kept raw.
func (b *wireBlock) parse(v []byte) error {
	if len(v) == 0 || v[0] != '{' {
		return typeError("", "an object", v)
	}
	err := jsonw.EachMember(v, func(k, val []byte) error {
		var err error
		switch string(k) {
		case "type":
			b.Type, err = parseName("type", val)
		case "text":
			b.Text, err = parseString("text", val)
		case "citations":
			b.Citations = cloneRaw(val)
		case "cache_control":
			b.CacheControl = cloneRaw(val)
		case "source":
			err = b.Source.parse(val)
		case "id":
			b.ID, err = parseString("id", val)
		case "name":
			b.Name, err = parseString("name", val)
		case "input":
			b.Input = cloneRaw(val)
		case "tool_use_id":
			b.ToolUseID, err = parseString("tool_use_id", val)
		case "content":
			err = at(b.Content.parse(val), "content")
		case "is_error":
			b.IsError, err = parseBool("is_error", val)
		case "thinking":
			b.Thinking, err = parseString("thinking", val)
		case "signature":
			b.Signature, err = parseString("signature", val)
		case "data":
			b.Data, err = parseString("data", val)
		}
		return err
	})
	if !knownBlock(b.Type) && b.Type != "" {
		b.raw = bytes.Clone(v)
		if b.Type != blockDocument {
			return nil
		}
	}
	return err
}

// parse reads a source object; other JSON values (search results use a
// string "source") leave it zero.
func (s *wireSource) parse(v []byte) error {
	if len(v) == 0 || v[0] != '{' {
		return nil
	}
	return at(jsonw.EachMember(v, func(k, val []byte) error {
		var dst *string
		switch string(k) {
		case "type":
			dst = &s.Type
		case "media_type":
			dst = &s.MediaType
		case "data":
			dst = &s.Data
		case "url":
			dst = &s.URL
		case "file_id":
			dst = &s.FileID
		default:
			return nil
		}
		str, err := parseString(jsonw.Key(k), val)
		*dst = str
		return err
	}), "source")
}

// validUTF8 returns data with any invalid UTF-8 replaced by U+FFFD, as
// encoding/json would decode it; data itself when it is valid (the
// common case, at the cost of one fast scan).
func validUTF8(data []byte) []byte {
	if utf8.Valid(data) {
		return data
	}
	return bytes.ToValidUTF8(data, []byte("\uFFFD"))
}
