package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// FormatName is the value of llm.Request.Format (and EmbeddingsRequest.Format)
// for requests decoded by this package.
const FormatName = "openai"

// DecodeChatRequest decodes a Chat Completions request body. It never keeps a
// reference to body, which the caller may reuse.
//
// Every member the canonical model has a field for is mapped (top_k, an
// extension many OpenAI-compatible servers accept, goes to TopK); any other
// top-level member is kept raw in Extra, and Format is "openai". A
// tool_choice that names something other than a function
// (allowed_tools, custom) is also kept in Extra, with ToolChoice nil.
// Content parts and tools may carry cache_control (Anthropic prompt-caching
// hints, as LiteLLM-style clients send them); it lands in CacheControl.
//
// Errors are *llm.Error 400 invalid_request_error values naming the
// parameter at fault ("messages[3].role").
//
// The request's strings share one copy of body (names such as the model
// and roles excepted: they are interned, see jsonw.Text), so a component
// that keeps a string of it for longer than the request should clone it.
func DecodeChatRequest(body []byte) (*llm.Request, error) {
	if e := checkBody(body); e != nil {
		return nil, e
	}
	if req, ok := decodeChatRequestFast(body); ok {
		return req, nil
	}
	return decodeChatRequestStd(body)
}

// decodeChatRequestStd is DecodeChatRequest through encoding/json: the
// path for what the fast path leaves, and the reference it is held to.
func decodeChatRequestStd(body []byte) (*llm.Request, error) {
	var w chatRequestWire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, decodeError(body, err)
	}
	req := &llm.Request{Format: FormatName}
	extra, err := collectExtra(body, requestKeys)
	if err != nil {
		return nil, err
	}
	req.Extra = extra
	if err := convertRequest(req, &w, body, nil); err != nil {
		return nil, err
	}
	return req, nil
}

// collectExtra returns the top-level members of body not named in names,
// copied. A member whose name differs from a known one only in case is
// rejected: encoding/json has already decoded it into that field, and
// OpenAI's parameter names are case-sensitive.
func collectExtra(body []byte, names []string) (map[string]json.RawMessage, error) {
	var extra map[string]json.RawMessage
	known := func(k []byte) bool {
		for _, n := range names {
			if string(k) == n {
				return true
			}
		}
		return false
	}
	err := jsonw.EachMember(body, func(k, v []byte) error {
		if known(k) {
			return nil
		}
		key := string(k)
		if bytes.IndexByte(k, '\\') >= 0 {
			key = jsonw.Key(k)
			if known([]byte(key)) {
				return nil
			}
		}
		for _, n := range names {
			if strings.EqualFold(n, key) {
				return llm.BadRequest(key, "unknown parameter '%s' (parameter names are case-sensitive; did you mean '%s'?)", key, n)
			}
		}
		if extra == nil {
			extra = make(map[string]json.RawMessage, 2)
		}
		extra[key] = append(json.RawMessage(nil), v...)
		return nil
	})
	if errors.Is(err, jsonw.ErrSyntax) {
		// Not reached: encoding/json has accepted body.
		err = nil
	}
	return extra, err
}

// memberElements returns the elements of the array that is the value of the
// top-level member named key in data, valid JSON (the last such member, if
// repeated, as encoding/json decodes it). The slices alias data.
func memberElements(data []byte, key string) [][]byte {
	var arr []byte
	jsonw.EachMember(data, func(k, v []byte) error {
		if string(k) == key || bytes.IndexByte(k, '\\') >= 0 && jsonw.Key(k) == key {
			arr = v
		}
		return nil
	})
	var out [][]byte
	jsonw.EachElement(arr, func(_ int, v []byte) error {
		out = append(out, v)
		return nil
	})
	return out
}

// convertRequest validates w, decoded from body, and fills req from it,
// its messages in room when they fit (room may be nil).
func convertRequest(req *llm.Request, w *chatRequestWire, body []byte, room *messageRoom) error {
	if w.Model == "" {
		return missing("model")
	}
	req.Model = w.Model
	if w.Messages == nil {
		return missing("messages")
	}
	if len(w.Messages) == 0 {
		return invalidValue("messages", "expected an array with at least one message, got an empty array")
	}
	msgs, err := decodeMessages(w.Messages, room)
	if err != nil {
		return err
	}
	req.Messages = msgs
	if req.Tools, err = decodeTools(w.Tools, body); err != nil {
		return err
	}
	if err := decodeToolChoice(req, &w.ToolChoice); err != nil {
		return err
	}
	req.ParallelToolCalls = w.ParallelToolCalls
	if req.ResponseFormat, err = decodeResponseFormat(w.ResponseFormat); err != nil {
		return err
	}
	req.Stream = w.Stream != nil && *w.Stream
	req.IncludeUsage = w.StreamOptions != nil && w.StreamOptions.IncludeUsage

	req.MaxTokens = w.MaxCompletionTokens
	param := "max_completion_tokens"
	if req.MaxTokens == nil {
		req.MaxTokens, param = w.MaxTokens, "max_tokens"
	}
	for _, e := range []*llm.Error{
		checkMin(param, req.MaxTokens, 1),
		checkRange("temperature", w.Temperature, 0, 2),
		checkRange("top_p", w.TopP, 0, 1),
		checkIntRange("n", w.N, 1, 128),
		checkRange("presence_penalty", w.PresencePenalty, -2, 2),
		checkRange("frequency_penalty", w.FrequencyPenalty, -2, 2),
		checkIntRange("top_logprobs", w.TopLogprobs, 0, 20),
	} {
		if e != nil {
			return e
		}
	}
	for tok, bias := range w.LogitBias {
		if bias < -100 || bias > 100 {
			return invalidValue("logit_bias", "bias for token %q must be between -100 and 100, got %g", tok, bias)
		}
	}
	req.Temperature, req.TopP, req.TopK, req.N = w.Temperature, w.TopP, w.TopK, w.N
	req.Stop = w.Stop
	req.Seed = w.Seed
	req.PresencePenalty, req.FrequencyPenalty = w.PresencePenalty, w.FrequencyPenalty
	req.LogitBias = w.LogitBias
	req.Logprobs, req.TopLogprobs = w.Logprobs, w.TopLogprobs
	req.User = w.User
	req.Metadata = w.Metadata
	if w.ReasoningEffort != nil && *w.ReasoningEffort != "" {
		req.Reasoning = &llm.Reasoning{Effort: *w.ReasoningEffort, Disabled: *w.ReasoningEffort == "none"}
	}
	req.Modalities = w.Modalities
	req.Audio = json.RawMessage(w.Audio)
	req.ServiceTier = w.ServiceTier
	req.Store = w.Store
	return nil
}

func decodeTools(ws []toolWire, body []byte) ([]llm.Tool, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	tools := make([]llm.Tool, len(ws))
	var raw [][]byte
	for i := range ws {
		w, t := &ws[i], &tools[i]
		if w.Type == "" && w.Function != nil {
			w.Type = "function"
		}
		t.Type, t.CacheControl = w.Type, json.RawMessage(w.CacheControl)
		if w.Type != "function" {
			if w.Type == "" {
				return nil, missing(fmt.Sprintf("tools[%d].type", i))
			}
			if raw == nil {
				raw = memberElements(body, "tools")
			}
			if i < len(raw) {
				t.Raw = append(json.RawMessage(nil), raw[i]...)
			}
			continue
		}
		if w.Function == nil {
			return nil, missing(fmt.Sprintf("tools[%d].function", i))
		}
		if w.Function.Name == "" {
			return nil, missing(fmt.Sprintf("tools[%d].function.name", i))
		}
		t.Name, t.Description = w.Function.Name, w.Function.Description
		t.Parameters, t.Strict = json.RawMessage(w.Function.Parameters), w.Function.Strict
	}
	return tools, nil
}

func decodeToolChoice(req *llm.Request, w *toolChoiceWire) error {
	if !w.present {
		return nil
	}
	if w.raw != nil { // a tool choice the canonical model cannot express
		if w.mode == "" {
			return missing("tool_choice.type")
		}
		if req.Extra == nil {
			req.Extra = make(map[string]json.RawMessage, 1)
		}
		req.Extra["tool_choice"] = json.RawMessage(w.raw)
		return nil
	}
	switch llm.ToolChoiceMode(w.mode) {
	case llm.ToolChoiceAuto, llm.ToolChoiceNone, llm.ToolChoiceRequired:
		req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceMode(w.mode)}
	case llm.ToolChoiceFunction:
		if w.name == "" {
			return missing("tool_choice.function.name")
		}
		req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: w.name}
	default:
		return invalidValue("tool_choice", "expected \"none\", \"auto\", \"required\" or a function, got %q", w.mode)
	}
	return nil
}

func decodeResponseFormat(w *responseFormatWire) (*llm.ResponseFormat, error) {
	if w == nil {
		return nil, nil
	}
	switch llm.ResponseFormatType(w.Type) {
	case llm.FormatText, llm.FormatJSONObject:
		return &llm.ResponseFormat{Type: llm.ResponseFormatType(w.Type)}, nil
	case llm.FormatJSONSchema:
		s := w.JSONSchema
		if s == nil {
			return nil, missing("response_format.json_schema")
		}
		if s.Name == "" {
			return nil, missing("response_format.json_schema.name")
		}
		return &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: s.Name, Description: s.Description,
			Schema: json.RawMessage(s.Schema), Strict: s.Strict}, nil
	case "":
		return nil, missing("response_format.type")
	}
	return nil, invalidValue("response_format.type", "expected \"text\", \"json_object\" or \"json_schema\", got %q", w.Type)
}
