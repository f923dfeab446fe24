package anthropic

import (
	"encoding/json"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
)

func user(text string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(text)}}
}

func toolResult(id, text string) llm.Message {
	return llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult,
		ToolResult: &llm.ToolResult{CallID: id, Parts: []llm.Part{llm.TextPart(text)}}}}}
}

func toolCall(id, name, args string) llm.Part {
	return llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: id, Type: "function", Name: name, Arguments: args}}
}

// TestEncodeMessagesRequestGolden encodes canonical requests, as other
// client formats produce them, for an Anthropic upstream.
func TestEncodeMessagesRequestGolden(t *testing.T) {
	tests := []struct {
		name string
		req  *llm.Request
		opt  EncodeOptions
	}{
		{name: "openai_chat", req: &llm.Request{
			Model: "claude-sonnet-4-5", Format: "openai", Stream: true, IncludeUsage: true,
			Messages: []llm.Message{
				{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("Be helpful.")}},
				{Role: llm.RoleUser, Name: "alice", Parts: []llm.Part{llm.TextPart("What is in this image, and the weather?"),
					{Kind: llm.PartImage, Media: &llm.Media{URL: "data:image/jpeg;base64,/9j/4AAQSkZJRg==", Detail: "high"}}}},
				{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart(""), toolCall("call_1", "get_weather", `{"city":"Paris"}`),
					toolCall("call_2", "get_time", "")}},
				toolResult("call_1", "sunny"),
				toolResult("call_2", "noon"),
				{Role: llm.RoleDeveloper, Parts: []llm.Part{llm.TextPart("Answer in French.")}},
				user("Thanks, summarise."),
			},
			Tools: []llm.Tool{
				{Type: "function", Name: "get_weather", Description: "Weather by city",
					Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`), Strict: ptr(false)},
				{Type: "function", Name: "get_time"},
			},
			ToolChoice:        &llm.ToolChoice{Mode: llm.ToolChoiceRequired},
			ParallelToolCalls: ptr(false),
			Stop:              []string{"STOP"},
			Seed:              ptr(int64(7)), PresencePenalty: ptr(0.5), FrequencyPenalty: ptr(0.1),
			LogitBias: map[string]float64{"50256": -100}, User: "user-7", Store: ptr(true),
			Metadata: map[string]string{"team": "a"}, ServiceTier: "flex",
			Reasoning: &llm.Reasoning{Effort: "medium"}, Temperature: ptr(0.7),
			N: ptr(1), Logprobs: ptr(false), ResponseFormat: &llm.ResponseFormat{Type: llm.FormatText}, Modalities: []string{"text"},
		}},
		{name: "effort_clamped", req: &llm.Request{
			Model: "m", Messages: []llm.Message{user("hi")}, MaxTokens: ptr(4000), Reasoning: &llm.Reasoning{Effort: "high"},
		}},
		{name: "budget_raises_default_max", req: &llm.Request{
			Model: "m", Messages: []llm.Message{user("hi")}, Reasoning: &llm.Reasoning{BudgetTokens: 5000},
		}, opt: EncodeOptions{DefaultMaxTokens: 1000}},
		{name: "thinking_disabled", req: &llm.Request{
			Model: "m", Messages: []llm.Message{user("hi")}, Reasoning: &llm.Reasoning{Effort: "none"}, MaxTokens: ptr(10),
		}},
		{name: "merge_and_drop", req: &llm.Request{
			Model: "m", Format: "openai",
			Messages: []llm.Message{
				user("one"), user("two"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartReasoning, Text: "unsigned thoughts"}}},
				user(""),
				{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("a")}},
				{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartRefusal, Text: "I can't."}}},
				{Role: llm.RoleAssistant},
			},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceAuto},
		}},
		{name: "media", req: &llm.Request{
			Model: "m",
			Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				{Kind: llm.PartImage, Media: &llm.Media{Data: "iVBORw0KGgoAAAA"}},
				{Kind: llm.PartImage, Media: &llm.Media{URL: "https://example.com/a.png"}},
				{Kind: llm.PartFile, Media: &llm.Media{MIMEType: "application/pdf", Data: "JVBERi0x", Filename: "a.pdf"}},
				{Kind: llm.PartFile, Media: &llm.Media{URL: "data:application/pdf;base64,JVBERi0y"}},
				{Kind: llm.PartFile, Media: &llm.Media{MIMEType: "text/plain", Data: "aGVsbG8gd29ybGQ="}},
				{Kind: llm.PartFile, Media: &llm.Media{FileID: "file_1"}, CacheControl: json.RawMessage(`{"type":"ephemeral"}`)},
				{Kind: llm.PartFile, Media: &llm.Media{URL: "https://example.com/a.pdf"}},
			}}},
		}},
		{name: "tool_results", req: &llm.Request{
			Model: "m",
			Messages: []llm.Message{
				user("go"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{toolCall("t1", "f", " {\"a\":\n1} ")}},
				{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "t1", IsError: true,
					Parts: []llm.Part{llm.TextPart("bad"), llm.TextPart(""), {Kind: llm.PartImage, Media: &llm.Media{MIMEType: "image/gif", Data: "R0lGODlh"}}}}}}},
				{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "t2"}}}},
			},
			Tools:      []llm.Tool{{Type: "function", Name: "f", Parameters: json.RawMessage(`{"type":"object"}`)}},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: "f", DisableParallel: true},
		}},
		{name: "tool_choice_without_tools", req: &llm.Request{
			Model: "m", Messages: []llm.Message{user("hi")}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone}, ParallelToolCalls: ptr(false),
		}},
		{name: "extra_passthrough", req: &llm.Request{
			Model: "m", Format: Format, Messages: []llm.Message{user("hi")}, ServiceTier: "auto",
			Extra: map[string]json.RawMessage{"zeta": json.RawMessage(`{"a":[1,2]}`), "alpha": json.RawMessage(`"x"`), "model": json.RawMessage(`"ignored"`)},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := EncodeMessagesRequest(tc.req, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("encode", tc.name+".golden.json"), jsonValue(t, body))
		})
	}
}

func TestEncodeMessagesRequestErrors(t *testing.T) {
	base := func(mod func(r *llm.Request)) *llm.Request {
		r := &llm.Request{Model: "m", Format: "openai", Messages: []llm.Message{user("hi")}}
		mod(r)
		return r
	}
	tests := []struct {
		name       string
		req        *llm.Request
		wantStatus int
		wantParam  string
		wantCode   string
	}{
		{"n", base(func(r *llm.Request) { r.N = ptr(2) }), 400, "n", "unsupported_parameter"},
		{"logprobs", base(func(r *llm.Request) { r.Logprobs = ptr(true) }), 400, "logprobs", "unsupported_parameter"},
		{"top_logprobs", base(func(r *llm.Request) { r.TopLogprobs = ptr(3) }), 400, "top_logprobs", "unsupported_parameter"},
		{"json schema", base(func(r *llm.Request) {
			r.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: json.RawMessage(`{}`)}
		}), 400, "response_format", "unsupported_parameter"},
		{"audio output", base(func(r *llm.Request) { r.Audio = json.RawMessage(`{"voice":"x"}`) }), 400, "audio", "unsupported_parameter"},
		{"modalities", base(func(r *llm.Request) { r.Modalities = []string{"text", "audio"} }), 400, "modalities", "unsupported_parameter"},
		{"extra from openai", base(func(r *llm.Request) {
			r.Extra = map[string]json.RawMessage{"web_search_options": json.RawMessage(`{}`), "a_field": json.RawMessage(`1`)}
		}), 400, "a_field", "unsupported_parameter"},
		{"audio input", base(func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Kind: llm.PartAudio, Media: &llm.Media{Data: "AAAA", Format: "wav"}})
		}), 400, "messages[0].content[1]", "unsupported_content"},
		{"opaque of another format", base(func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Kind: llm.PartOpaque, Raw: json.RawMessage(`{}`), RawFormat: "gemini"})
		}), 400, "messages[0].content[1]", "unsupported_content"},
		{"openai built-in tool", base(func(r *llm.Request) {
			r.Tools = []llm.Tool{{Type: "web_search_preview", Raw: json.RawMessage(`{"type":"web_search_preview"}`)}}
		}), 400, "tools[0]", "unsupported_parameter"},
		{"arguments not an object", base(func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{toolCall("c", "f", `[1]`)}})
		}), 400, "messages[1].content[0].arguments", ""},
		{"arguments invalid", base(func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{toolCall("c", "f", `{"a":`)}})
		}), 400, "messages[1].content[0].arguments", ""},
		{"tool result in user message", base(func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "x"}})
		}), 400, "messages[0].content[1]", ""},
		{"text in tool message", base(func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleTool, Parts: []llm.Part{llm.TextPart("x")}})
		}), 400, "messages[1].content[0]", ""},
		{"tool call in user message", base(func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, toolCall("c", "f", "{}"))
		}), 400, "messages[0].content[1]", ""},
		{"unknown role", base(func(r *llm.Request) { r.Messages[0].Role = "narrator" }), 400, "messages[0].role", ""},
		{"unknown effort", base(func(r *llm.Request) { r.Reasoning = &llm.Reasoning{Effort: "extreme"} }), 400, "reasoning_effort", ""},
		{"effort with tiny max_tokens", base(func(r *llm.Request) {
			r.Reasoning, r.MaxTokens = &llm.Reasoning{Effort: "low"}, ptr(1000)
		}), 400, "max_tokens", ""},
		{"system image", base(func(r *llm.Request) {
			r.Messages = append([]llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{{Kind: llm.PartImage, Media: &llm.Media{URL: "https://x"}}}}}, r.Messages...)
		}), 400, "messages[0].content[0]", ""},
		{"non-base64 data url", base(func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Kind: llm.PartImage, Media: &llm.Media{URL: "data:image/png,%89PNG"}})
		}), 400, "messages[0].content[1]", ""},
		{"image of unknown type", base(func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Kind: llm.PartImage, Media: &llm.Media{Data: "AAAA"}})
		}), 400, "messages[0].content[1]", ""},
		{"temperature not finite", base(func(r *llm.Request) { r.Temperature = ptr(math.NaN()) }), 400, "temperature", ""},
		{"invalid raw cache control", base(func(r *llm.Request) {
			r.Messages[0].Parts[0].CacheControl = json.RawMessage(`{"type":`)
		}), 500, "", ""},
		{"invalid raw extra", base(func(r *llm.Request) {
			r.Format = Format
			r.Extra = map[string]json.RawMessage{"x": json.RawMessage(`nope`)}
		}), 500, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := EncodeMessagesRequest(tc.req, EncodeOptions{Provider: "claude"})
			if err == nil {
				t.Fatalf("no error; body %s", body)
			}
			e := llmError(t, err)
			if e.Status != tc.wantStatus || e.Param != tc.wantParam || e.Code != tc.wantCode {
				t.Errorf("error = %d param %q code %q (%v), want %d param %q code %q",
					e.Status, e.Param, e.Code, e, tc.wantStatus, tc.wantParam, tc.wantCode)
			}
			if tc.wantStatus == http.StatusBadRequest && e.Fault != llm.FaultCaller {
				t.Errorf("Fault = %s, want caller", e.Fault)
			}
			if tc.wantCode == "unsupported_parameter" && (e.Provider != "claude" || !strings.Contains(e.Message, tc.wantParam)) {
				t.Errorf("unsupported error does not name provider and parameter: %+v", e)
			}
		})
	}
}

// TestEncodeMessagesRequestDoesNotModify guards the Provider contract: the
// router may resend the same request elsewhere.
func TestEncodeMessagesRequestDoesNotModify(t *testing.T) {
	mk := func() *llm.Request {
		return &llm.Request{Model: "m", Messages: []llm.Message{
			{Role: llm.RoleAssistant, Parts: []llm.Part{toolCall("", "f", "")}}, user("x")},
			Reasoning: &llm.Reasoning{Effort: "high"}}
	}
	req := mk()
	if _, err := EncodeMessagesRequest(req, EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmpDiff(mk(), req); diff != "" {
		t.Errorf("request modified (-want +got):\n%s", diff)
	}
}
