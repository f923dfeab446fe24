package anthropic

import (
	"errors"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// This file reads stream events with the hand parser (see parse.go): every
// streamed token passes through here, so it avoids encoding/json's
// reflection and repeated scans.

// parse reads one event's data. data must be valid JSON.
func (e *wireEvent) parse(data []byte) error {
	return jsonw.EachMember(data, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "type":
			e.Type, err = parseName("type", v)
		case "index":
			e.Index, err = parseIndex("index", v)
		case "message":
			if !isNull(v) {
				e.Message = &wireResponse{}
				err = at(e.Message.parse(v), "message")
			}
		case "content_block":
			if !isNull(v) {
				e.ContentBlock = &wireBlock{}
				err = at(e.ContentBlock.parse(v), "content_block")
			}
		case "delta":
			err = at(e.Delta.parse(v), "delta")
		case "usage":
			if !isNull(v) {
				e.Usage = &wireUsage{}
				err = at(e.Usage.parse(v), "usage")
			}
		case "error":
			if !isNull(v) {
				e.Error = &wireErrorDetail{}
				err = at(e.Error.parse(v), "error")
			}
		}
		return err
	})
}

// parse reads a response body, or the message of a message_start event.
func (m *wireResponse) parse(v []byte) error {
	if v[0] != '{' {
		return typeError("", "an object", v)
	}
	return jsonw.EachMember(v, func(k, val []byte) error {
		var err error
		switch string(k) {
		case "id":
			m.ID, err = parseString("id", val)
		case "type":
			m.Type, err = parseName("type", val)
		case "role":
			m.Role, err = parseName("role", val)
		case "model":
			m.Model, err = parseString("model", val)
		case "usage":
			err = at(m.Usage.parse(val), "usage")
		case "content":
			err = at(m.Content.parse(val), "content")
		case "stop_reason":
			if !isNull(val) {
				var s string
				s, err = parseName("stop_reason", val)
				m.StopReason = &s
			}
		case "stop_sequence":
			if !isNull(val) {
				var s string
				s, err = parseString("stop_sequence", val)
				m.StopSequence = &s
			}
		case "error":
			if !isNull(val) {
				m.Error = &wireErrorDetail{}
				err = at(m.Error.parse(val), "error")
			}
		}
		return err
	})
}

func (d *wireDelta) parse(v []byte) error {
	return eachField(v, func(k, val []byte) error {
		var err error
		switch string(k) {
		case "type":
			d.Type, err = parseName("type", val)
		case "text":
			d.Text, err = parseString("text", val)
		case "partial_json":
			d.PartialJSON, err = parseString("partial_json", val)
		case "thinking":
			d.Thinking, err = parseString("thinking", val)
		case "signature":
			d.Signature, err = parseString("signature", val)
		case "citation":
			d.Citation = cloneRaw(val)
		case "stop_reason":
			if !isNull(val) {
				var s string
				s, err = parseName("stop_reason", val)
				d.StopReason = &s
			}
		case "stop_sequence":
			if !isNull(val) {
				var s string
				s, err = parseString("stop_sequence", val)
				d.StopSequence = &s
			}
		}
		return err
	})
}

func (u *wireUsage) parse(v []byte) error {
	return eachField(v, func(k, val []byte) error {
		var err error
		switch string(k) {
		case "input_tokens":
			u.InputTokens, err = parseInt("input_tokens", val)
		case "output_tokens":
			u.OutputTokens, err = parseInt("output_tokens", val)
		case "cache_creation_input_tokens":
			u.CacheCreationInputTokens, err = parseInt("cache_creation_input_tokens", val)
		case "cache_read_input_tokens":
			u.CacheReadInputTokens, err = parseInt("cache_read_input_tokens", val)
		}
		return err
	})
}

func (d *wireErrorDetail) parse(v []byte) error {
	if v[0] != '{' {
		return typeError("", "an object", v)
	}
	return jsonw.EachMember(v, func(k, val []byte) error {
		var err error
		switch string(k) {
		case "type":
			d.Type, err = parseString("type", val)
		case "message":
			d.Message, err = parseString("message", val)
		}
		return err
	})
}

var errNotObject = errors.New("not a JSON object")
