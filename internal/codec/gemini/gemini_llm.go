package gemini

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// now is the clock for Response.Created and Chunk.Created; tests replace it.
var now = time.Now

// DecodeGenerateResponse converts a whole generateContent answer. Model is
// the answer's modelVersion, ID its responseId (a random one when absent)
// and Created the time of decoding. A prompt the provider blocked
// (promptFeedback.blockReason and no candidates) is a 400 *llm.Error with
// code "content_filter"; a body that is not a Gemini answer is a 502. The
// errors' Provider is empty: the caller sets it.
func DecodeGenerateResponse(body []byte) (*llm.Response, error) {
	var gr generateResponse
	if err := json.Unmarshal(body, &gr); err != nil {
		return nil, invalidResponse("", fmt.Errorf("gemini: decode response: %w", err))
	}
	if gr.Error != nil {
		return nil, decodeAPIError("", 0, gr.Error)
	}
	if len(gr.Candidates) == 0 {
		if gr.PromptFeedback != nil && gr.PromptFeedback.BlockReason != "" {
			return nil, promptBlocked("", gr.PromptFeedback.BlockReason)
		}
		return nil, invalidResponse("", fmt.Errorf("gemini: response has no candidates"))
	}
	resp := &llm.Response{ID: gr.ResponseID, Model: gr.ModelVersion, Created: now().Unix()}
	if resp.ID == "" {
		resp.ID = newID()
	}
	resp.Choices = make([]llm.Choice, 0, len(gr.Candidates))
	for i := range gr.Candidates {
		c := &gr.Candidates[i]
		ch := llm.Choice{Index: c.Index, Message: llm.Message{Role: llm.RoleAssistant}}
		calls := 0
		if len(c.Content.Parts) > 0 {
			parts := make([]llm.Part, 0, len(c.Content.Parts))
			for j := range c.Content.Parts {
				p := &c.Content.Parts[j]
				switch {
				case p.FunctionCall != nil:
					parts = append(parts, llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{
						ID:   makeCallID(resp.ID, c.Index, calls, p.FunctionCall.ID, p.ThoughtSignature),
						Type: "function", Name: p.FunctionCall.Name,
						Arguments: compactArgs(nil, p.FunctionCall.Args),
					}})
					calls++
				case p.InlineData != nil:
					parts = append(parts, llm.Part{Kind: mediaKind(p.InlineData.MIMEType),
						Media: &llm.Media{MIMEType: p.InlineData.MIMEType, Data: p.InlineData.Data}})
				case p.FileData != nil:
					parts = append(parts, llm.Part{Kind: mediaKind(p.FileData.MIMEType),
						Media: &llm.Media{MIMEType: p.FileData.MIMEType, URL: p.FileData.FileURI}})
				case p.Thought:
					parts = appendText(parts, llm.PartReasoning, p.Text, p.ThoughtSignature)
				case p.Text != "":
					parts = appendText(parts, llm.PartText, p.Text, "")
				}
			}
			ch.Message.Parts = parts
		}
		ch.FinishReason = finishReason(c.FinishReason, calls > 0)
		if ch.FinishReason == "" {
			// A whole answer has ended even if Gemini did not say why.
			ch.FinishReason = finishReason("STOP", calls > 0)
		}
		if c.LogprobsResult != nil {
			ch.Logprobs = encodeLogprobs(c.LogprobsResult)
		}
		resp.Choices = append(resp.Choices, ch)
	}
	if gr.UsageMetadata != nil {
		resp.Usage = usage(gr.UsageMetadata)
	}
	return resp, nil
}

// appendText appends a text or reasoning part, merging it into the previous
// part of the same kind: Gemini splits one answer's text into several parts
// for no reason a client can see.
func appendText(parts []llm.Part, kind llm.PartKind, text, sig string) []llm.Part {
	if n := len(parts); n > 0 && parts[n-1].Kind == kind && parts[n-1].Signature == "" {
		parts[n-1].Text += text
		parts[n-1].Signature = sig
		return parts
	}
	if text == "" && sig == "" {
		return parts
	}
	return append(parts, llm.Part{Kind: kind, Text: text, Signature: sig})
}

func mediaKind(mime string) llm.PartKind {
	switch {
	case len(mime) >= 6 && mime[:6] == "image/":
		return llm.PartImage
	case len(mime) >= 6 && mime[:6] == "audio/":
		return llm.PartAudio
	}
	return llm.PartFile
}

// compactArgs appends the compact JSON text of a functionCall's args to dst
// and returns it as a string; absent or null args are "{}".
func compactArgs(dst *bytes.Buffer, args json.RawMessage) string {
	if len(args) == 0 || string(args) == "null" {
		return "{}"
	}
	if dst == nil {
		dst = new(bytes.Buffer)
	}
	dst.Reset()
	if err := json.Compact(dst, args); err != nil {
		return string(args) // unreachable: args was decoded from valid JSON
	}
	return dst.String()
}

// finishReason maps Gemini's finish reasons. STOP is "tool_calls" when the
// candidate called functions; the safety family is "content_filter";
// MAX_TOKENS is "length"; anything else (OTHER, MALFORMED_FUNCTION_CALL,
// LANGUAGE, …) is "stop", since OpenAI's vocabulary has nothing closer. An
// empty reason (mid-stream) stays empty.
func finishReason(r string, calls bool) llm.FinishReason {
	switch r {
	case "":
		return ""
	case "MAX_TOKENS":
		return llm.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "MODEL_ARMOR":
		return llm.FinishContentFilter
	}
	if calls {
		return llm.FinishToolCalls
	}
	return llm.FinishStop
}

// usage converts usageMetadata; see the package doc of llm for the meaning
// of each canonical field. Tool-use prompt tokens (search results fed to
// the model) are prompt tokens too.
func usage(u *usageMetadata) llm.Usage {
	out := llm.Usage{
		InputTokens:       u.PromptTokenCount + u.ToolUsePromptTokenCount,
		CachedInputTokens: u.CachedContentTokenCount,
		OutputTokens:      u.CandidatesTokenCount + u.ThoughtsTokenCount,
		ReasoningTokens:   u.ThoughtsTokenCount,
	}
	for _, d := range u.PromptTokensDetails {
		if d.Modality == "AUDIO" {
			out.AudioInputTokens += d.TokenCount
		}
	}
	for _, d := range u.CandidatesTokensDetails {
		if d.Modality == "AUDIO" {
			out.AudioOutputTokens += d.TokenCount
		}
	}
	return out
}

// promptBlocked is the error for a prompt Gemini refused to answer.
func promptBlocked(provider, reason string) *llm.Error {
	return &llm.Error{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Code: "content_filter",
		Param: "messages", Provider: provider, Fault: llm.FaultProvider,
		Message: fmt.Sprintf("the provider's safety filters blocked the prompt (reason: %s)", reason)}
}

// invalidResponse is the 502 for an answer the codec cannot read.
func invalidResponse(provider string, err error) *llm.Error {
	return &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "invalid_upstream_response",
		Message: "the provider sent a response the gateway could not read", Provider: provider,
		Fault: llm.FaultProvider, Err: err}
}

// newID returns a random response ID for answers without a responseId.
func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return "gen-" + hex.EncodeToString(b[:])
}
