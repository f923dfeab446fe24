package openai

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/sluicehq/sluice/internal/llm"
)

// DecodeChatResponse decodes an upstream's Chat Completions response. It
// keeps no reference to body. Errors are *llm.Error values (502 for a body
// that is not a chat completion, or the upstream's own error when it
// answered 200 with an error object); their Provider is empty for the
// caller to fill in.
//
// Its strings share one copy of body (names such as the model excepted:
// they are interned, see jsonw.Text).
func DecodeChatResponse(body []byte) (*llm.Response, error) {
	if resp, ok := decodeChatResponseFast(body); ok {
		return resp, nil
	}
	return decodeChatResponseStd(body)
}

// decodeChatResponseStd is DecodeChatResponse through encoding/json: the
// path for what the fast path leaves, and the reference it is held to.
func decodeChatResponseStd(body []byte) (*llm.Response, error) {
	var w responseWire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, invalidResponse(err)
	}
	return convertResponse(&w)
}

// responseBlock is a decoded response with room for its usual contents
// (one choice, a text part and one more), allocated together.
type responseBlock struct {
	resp   llm.Response
	choice [1]llm.Choice
	parts  [2]llm.Part
}

// convertResponse checks w and converts it.
func convertResponse(w *responseWire) (*llm.Response, error) {
	if w.Error != nil && w.Error.Message != "" {
		return nil, streamError("", *w.Error)
	}
	if w.Choices == nil {
		return nil, invalidResponse(fmt.Errorf("openai: response has no choices"))
	}
	blk := new(responseBlock)
	resp := &blk.resp
	*resp = llm.Response{ID: w.ID, Model: w.Model, Created: int64(w.Created),
		SystemFingerprint: w.SystemFingerprint, ServiceTier: w.ServiceTier}
	if w.Usage != nil {
		resp.Usage = w.Usage.usage()
	} else if w.XGroq != nil && w.XGroq.Usage != nil {
		resp.Usage = w.XGroq.Usage.usage()
	}
	if len(w.Choices) == len(blk.choice) {
		resp.Choices = blk.choice[:]
	} else {
		resp.Choices = make([]llm.Choice, len(w.Choices))
	}
	for i := range w.Choices {
		cw, c := &w.Choices[i], &resp.Choices[i]
		c.Index, c.FinishReason = cw.Index, finishReason(cw.FinishReason)
		c.Logprobs = json.RawMessage(cw.Logprobs)
		c.Message.Role = llm.RoleAssistant
		if m := cw.Message; m != nil {
			var room []llm.Part
			if i == 0 {
				room = blk.parts[:0]
			}
			c.Message.Parts = responseParts(m, room)
		}
	}
	return resp, nil
}

// invalidResponse is the error for an upstream answer that cannot be read.
func invalidResponse(err error) *llm.Error {
	return &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "invalid_response",
		Message: "the provider sent a response the gateway could not read", Fault: llm.FaultProvider,
		Err: fmt.Errorf("openai: decode response: %w", err)}
}

// responseParts orders a response message's content as the model produced
// it: reasoning, text (with its annotations as citations), refusal, audio,
// then tool calls.
//
// The parts are appended to room when it has the capacity, else to a new
// array.
func responseParts(m *respMessageWire, room []llm.Part) []llm.Part {
	n := len(m.ToolCalls)
	for _, s := range []text{m.Content, m.Refusal, text(reasoningText(m))} {
		if s != "" {
			n++
		}
	}
	if a := m.Audio; a != nil && (a.ID != "" || a.Data != "") {
		n++
	}
	parts := room
	if cap(room) < n || room == nil {
		parts = make([]llm.Part, 0, n)
	}
	if r := reasoningText(m); r != "" {
		parts = append(parts, llm.Part{Kind: llm.PartReasoning, Text: r})
	}
	if m.Content != "" {
		p := llm.Part{Kind: llm.PartText, Text: string(m.Content), Citations: annotations(m.Annotations)}
		if p.Citations != nil {
			p.CitationsFormat = FormatName
		}
		parts = append(parts, p)
	}
	if m.Refusal != "" {
		parts = append(parts, llm.Part{Kind: llm.PartRefusal, Text: string(m.Refusal)})
	}
	if a := m.Audio; a != nil && (a.ID != "" || a.Data != "") {
		parts = append(parts, llm.Part{Kind: llm.PartAudio, Media: &llm.Media{FileID: a.ID, Data: a.Data}})
	}
	if len(m.ToolCalls) > 0 {
		calls := make([]llm.ToolCall, len(m.ToolCalls))
		for i := range m.ToolCalls {
			calls[i] = toolCall(&m.ToolCalls[i])
			parts = append(parts, llm.Part{Kind: llm.PartToolCall, ToolCall: &calls[i]})
		}
	}
	return parts
}

// annotations keeps a non-empty annotations array as citations.
func annotations(raw rawJSON) json.RawMessage {
	if len(raw) < 2 || string(raw) == "[]" {
		return nil
	}
	return json.RawMessage(raw)
}

func reasoningText(m *respMessageWire) string {
	if m.ReasoningContent != "" {
		return string(m.ReasoningContent)
	}
	return string(m.Reasoning)
}

func toolCall(w *toolDeltaWire) llm.ToolCall {
	c := llm.ToolCall{ID: w.ID, Type: w.Type}
	switch {
	case w.Custom != nil:
		c.Name, c.Arguments = w.Custom.Name, w.Custom.Input
		if c.Type == "" {
			c.Type = "custom"
		}
	case w.Function != nil:
		c.Name, c.Arguments = w.Function.Name, string(w.Function.Arguments)
	}
	if c.Type == "" {
		c.Type = "function"
	}
	return c
}

// finishReason maps OpenAI's finish reasons; the deprecated function_call
// is tool_calls. Unknown reasons from compatible servers pass unchanged.
func finishReason(s string) llm.FinishReason {
	if s == "function_call" {
		return llm.FinishToolCalls
	}
	return llm.FinishReason(s)
}
