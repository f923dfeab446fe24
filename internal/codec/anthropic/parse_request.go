package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// This file reads the top level of a Messages API request with the hand
// parser (see parse.go), in one pass over the body.

// parse reads the top level of a request body (valid JSON) in one pass:
// known members into w, others into w.Extra. Type errors are 400s naming
// the member.
func (w *wireRequest) parse(body []byte) error {
	i := jsonw.SkipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return llm.BadRequest("", "the request body must be a JSON object, got %s", jsonw.KindOf(body[i:]))
	}
	err := jsonw.EachMember(body, func(k, v []byte) error {
		if bytes.IndexByte(k, '\\') >= 0 {
			k = []byte(jsonw.Key(k))
		}
		var err error
		switch string(k) {
		case "model":
			w.Model, err = parseString("model", v)
		case "messages":
			err = w.parseMessages(v)
		case "system":
			err = at(w.System.parse(v), "system")
			if err == nil && !isNull(v) && !w.System.IsString && !w.System.IsArray {
				err = typeError("system", "a string or an array", v)
			}
		case "max_tokens":
			w.MaxTokens, err = parseInt("max_tokens", v)
		case "metadata":
			err = w.parseMetadata(v)
		case "stop_sequences":
			w.StopSequences, err = parseStrings("stop_sequences", v)
		case "stream":
			w.Stream, err = parseBool("stream", v)
		case "temperature":
			w.Temperature, err = parseFloat("temperature", v)
		case "top_p":
			w.TopP, err = parseFloat("top_p", v)
		case "top_k":
			w.TopK, err = parseInt("top_k", v)
		case "tools":
			err = w.parseTools(v)
		case "tool_choice":
			err = w.parseToolChoice(v)
		case "thinking":
			if !isNull(v) {
				w.Thinking = v
			}
		case "service_tier":
			w.ServiceTier, err = parseString("service_tier", v)
		default:
			if w.Extra == nil {
				w.Extra = make(map[string]json.RawMessage)
			}
			w.Extra[string(k)] = bytes.Clone(v)
		}
		return err
	})
	var pe *parseError
	if errors.As(err, &pe) {
		return llm.BadRequest(pe.path, "%s", pe.Error())
	}
	if err != nil {
		return llm.BadRequest("", "the request body is not valid JSON")
	}
	return nil
}

func (w *wireRequest) parseMessages(v []byte) error {
	if isNull(v) {
		return nil
	}
	if v[0] != '[' {
		return typeError("messages", "an array", v)
	}
	return jsonw.EachElement(v, func(i int, e []byte) error {
		if len(e) == 0 || e[0] != '{' {
			return typeError("messages"+index(i), "an object", e)
		}
		w.Messages = append(w.Messages, wireMessage{})
		m := &w.Messages[len(w.Messages)-1]
		return at(jsonw.EachMember(e, func(k, val []byte) error {
			switch string(k) {
			case "role":
				var err error
				m.Role, err = parseName("role", val)
				return err
			case "content":
				return at(m.Content.parse(val), "content")
			}
			return nil
		}), "messages"+index(i))
	})
}

func (w *wireRequest) parseMetadata(v []byte) error {
	if isNull(v) {
		return nil
	}
	if v[0] != '{' {
		return typeError("metadata", "an object", v)
	}
	return at(jsonw.EachMember(v, func(k, val []byte) error {
		if string(k) != "user_id" || isNull(val) {
			return nil
		}
		s, err := parseString("user_id", val)
		w.UserID = &s
		return err
	}), "metadata")
}

func (w *wireRequest) parseTools(v []byte) error {
	if isNull(v) {
		return nil
	}
	if v[0] != '[' {
		return typeError("tools", "an array", v)
	}
	return jsonw.EachElement(v, func(i int, e []byte) error {
		if len(e) == 0 || e[0] != '{' {
			return typeError("tools"+index(i), "an object", e)
		}
		w.Tools = append(w.Tools, wireTool{})
		t := &w.Tools[len(w.Tools)-1]
		plain := true
		err := jsonw.EachMember(e, func(k, val []byte) error {
			var err error
			switch string(k) {
			case "type":
				t.Type, err = parseString("type", val)
			case "name":
				t.Name, err = parseString("name", val)
			case "description":
				t.Description, err = parseString("description", val)
			case "input_schema":
				t.InputSchema = cloneRaw(val)
			case "cache_control":
				t.CacheControl = cloneRaw(val)
			case "strict":
				if !isNull(val) {
					var b bool
					b, err = parseBool("strict", val)
					t.Strict = &b
				}
			default:
				plain = false
			}
			return err
		})
		if !plain || (t.Type != "" && t.Type != "custom") {
			t.raw = bytes.Clone(e)
		}
		return at(err, "tools"+index(i))
	})
}

func (w *wireRequest) parseToolChoice(v []byte) error {
	if isNull(v) {
		return nil
	}
	if v[0] != '{' {
		return typeError("tool_choice", "an object", v)
	}
	tc := &wireToolChoice{}
	w.ToolChoice = tc
	return at(jsonw.EachMember(v, func(k, val []byte) error {
		var err error
		switch string(k) {
		case "type":
			tc.Type, err = parseString("type", val)
		case "name":
			tc.Name, err = parseString("name", val)
		case "disable_parallel_tool_use":
			tc.DisableParallelToolUse, err = parseBool("disable_parallel_tool_use", val)
		}
		return err
	}), "tool_choice")
}

// decodeThinking maps {"type":"enabled","budget_tokens":N} and
// {"type":"disabled"} onto Reasoning; any other form (adaptive thinking,
// display options) is kept whole in Extra["thinking"].
func decodeThinking(req *llm.Request, raw []byte) error {
	if raw == nil {
		return nil
	}
	if raw[0] != '{' {
		return llm.BadRequest("thinking", "thinking: expected an object, got %s", jsonw.KindOf(raw))
	}
	var typ string
	var budget *int
	plain := true
	err := jsonw.EachMember(raw, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "type":
			typ, err = parseString("thinking.type", v)
		case "budget_tokens":
			budget, err = parseInt("thinking.budget_tokens", v)
		default:
			plain = false
		}
		return err
	})
	var pe *parseError
	if errors.As(err, &pe) {
		return llm.BadRequest(pe.path, "%s", pe.Error())
	}
	switch {
	case plain && typ == "enabled":
		if budget == nil {
			return llm.BadRequest("thinking.budget_tokens", "thinking.budget_tokens: field required when type is \"enabled\"")
		}
		req.Reasoning = &llm.Reasoning{BudgetTokens: *budget}
	case plain && typ == "disabled":
		req.Reasoning = &llm.Reasoning{Disabled: true}
	case typ == "":
		return llm.BadRequest("thinking.type", "thinking.type: field required")
	default:
		setExtra(req, "thinking", bytes.Clone(raw))
	}
	return nil
}
