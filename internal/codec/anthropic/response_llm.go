package anthropic

import (
	"fmt"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// DecodeMessagesResponse parses an Anthropic Messages API response into a
// canonical response with one choice. Usage is converted to the canonical
// meaning (InputTokens includes cache reads and writes); Created is zero, as
// Anthropic does not report it. Blocks without a canonical meaning
// (server-tool use and results) become PartOpaque parts.
//
// A body that is not a message is an *llm.Error: 502 when it cannot be
// parsed, and the mapped upstream error when it is an Anthropic error body.
// The error's Provider is empty; the adapter sets it.
func DecodeMessagesResponse(body []byte) (*llm.Response, error) {
	var w wireResponse
	body = validUTF8(body)
	if !jsonw.Valid(body) || body[jsonw.SkipSpace(body, 0)] != '{' {
		return nil, invalidResponse(fmt.Errorf("anthropic: decode response: %w: %q", errNotObject, snippet(body)))
	}
	if err := w.parse(body); err != nil {
		return nil, invalidResponse(fmt.Errorf("anthropic: decode response: %w", err))
	}
	if w.Type == "error" && w.Error != nil {
		return nil, errorFromDetail("", w.Error)
	}
	if w.Type != "message" && w.Type != "" {
		return nil, invalidResponse(fmt.Errorf("anthropic: response of type %q, want \"message\"", w.Type))
	}
	resp := &llm.Response{ID: w.ID, Model: w.Model, Choices: make([]llm.Choice, 1)}
	usageFrom(&resp.Usage, &w.Usage)
	c := &resp.Choices[0]
	c.Message.Role = llm.RoleAssistant
	if w.StopReason != nil {
		c.FinishReason = finishReason(*w.StopReason)
	}
	if w.StopSequence != nil {
		c.StopSequence = *w.StopSequence
	}
	c.Message.Parts = make([]llm.Part, 0, len(w.Content.Blocks))
	for i := range w.Content.Blocks {
		b := &w.Content.Blocks[i]
		var p llm.Part
		switch b.Type {
		case blockText:
			p = textPart(b)
		case blockThinking:
			p = llm.Part{Kind: llm.PartReasoning, Text: b.Thinking, Signature: b.Signature}
		case blockRedactedThinking:
			p = llm.Part{Kind: llm.PartRedacted, Signature: b.Data}
		case blockToolUse:
			p = llm.Part{Kind: llm.PartToolCall,
				ToolCall: &llm.ToolCall{ID: b.ID, Type: "function", Name: b.Name, Arguments: toolInput(b.Input)}}
		default:
			p = llm.Part{Kind: llm.PartOpaque, Raw: b.raw, RawFormat: Format}
		}
		c.Message.Parts = append(c.Message.Parts, p)
	}
	return resp, nil
}

// invalidResponse is the 502 for an upstream answer that cannot be read.
func invalidResponse(err error) *llm.Error {
	return &llm.Error{Status: 502, Type: llm.TypeAPI, Code: "invalid_upstream_response",
		Message: "the provider sent a response the gateway cannot read", Fault: llm.FaultProvider, Err: err}
}
