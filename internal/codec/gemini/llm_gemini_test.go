package gemini

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
)

// testSig is a thought signature as Gemini sends it (standard base64 with
// '+', '/' and padding, so the URL-safe conversion is exercised).
const testSig = "CvMBAXLI2nz+Qm/9kA=="

func text(role llm.Role, s string) llm.Message {
	return llm.Message{Role: role, Parts: []llm.Part{llm.TextPart(s)}}
}

func toolCall(id, name, args string) llm.Part {
	return llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: id, Type: "function", Name: name, Arguments: args}}
}

func toolResult(callID, name, content string, isErr bool) llm.Message {
	return llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult,
		ToolResult: &llm.ToolResult{CallID: callID, Name: name, Parts: []llm.Part{llm.TextPart(content)}, IsError: isErr}}}}
}

// encodeCases are the canonical requests whose encodings are kept as golden
// files under testdata/encode/; the fuzz and benchmark code reuses them.
func encodeCases() []struct {
	name string
	req  *llm.Request
} {
	signedID := makeCallID("resp-1", 0, 0, "", testSig)
	weather := json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}`)
	return []struct {
		name string
		req  *llm.Request
	}{
		{"basic", &llm.Request{Model: "gemini-2.5-flash", Messages: []llm.Message{
			text(llm.RoleSystem, "You are terse."),
			text(llm.RoleUser, "Say <hi> & bye"),
		}}},
		{"generation_config", &llm.Request{Model: "gemini-2.5-pro",
			Messages:  []llm.Message{text(llm.RoleUser, "Give me JSON")},
			MaxTokens: ptr(256), Temperature: ptr(0.2), TopP: ptr(0.9), TopK: ptr(40), N: ptr(2),
			Stop: []string{"END"}, Seed: ptr(int64(7)), PresencePenalty: ptr(0.5), FrequencyPenalty: ptr(-0.5),
			Logprobs: ptr(true), TopLogprobs: ptr(3),
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: "answer",
				Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"integer"}}}`)},
			Reasoning: &llm.Reasoning{Effort: "medium"},
			// Dropped: preferences and OpenAI bookkeeping (see EncodeGenerateRequest).
			User: "u-1", Metadata: map[string]string{"k": "v"}, ParallelToolCalls: ptr(false),
			ServiceTier: "auto", Store: ptr(false), Modalities: []string{"text"},
		}},
		{"json_object", &llm.Request{Model: "gemini-2.0-flash",
			Messages:       []llm.Message{text(llm.RoleUser, "JSON please")},
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject}}},
		{"thinking_level_gemini3", &llm.Request{Model: "gemini-3-pro-preview",
			Messages:  []llm.Message{text(llm.RoleUser, "Think hard")},
			Reasoning: &llm.Reasoning{Effort: "high"}}},
		{"thinking_budget", &llm.Request{Model: "models/gemini-3-flash",
			Messages:  []llm.Message{text(llm.RoleUser, "Think a bit")},
			Reasoning: &llm.Reasoning{BudgetTokens: 2048}}},
		{"thinking_disabled", &llm.Request{Model: "gemini-2.5-flash",
			Messages:  []llm.Message{text(llm.RoleUser, "No thinking")},
			Reasoning: &llm.Reasoning{Disabled: true}}},
		{"tools_round_trip", &llm.Request{Model: "gemini-3-flash",
			Messages: []llm.Message{
				text(llm.RoleDeveloper, "Use tools."),
				text(llm.RoleUser, "Weather in Paris and Rome?"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{
					llm.TextPart("Checking."),
					toolCall(signedID, "get_weather", `{"city": "Paris"}`),
					toolCall(makeCallID("resp-1", 0, 1, "", ""), "get_weather", `{"city":"Rome"}`),
				}},
				toolResult(signedID, "", `{"temp_c": 21}`, false),
				toolResult(makeCallID("resp-1", 0, 1, "", ""), "", "sunny, 25C", false),
				text(llm.RoleUser, "Thanks. And tomorrow?"),
			},
			Tools: []llm.Tool{
				{Type: "function", Name: "get_weather", Description: "Current weather", Parameters: weather, Strict: ptr(true)},
				{Type: "function", Name: "no_params"},
			},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Name: "get_weather", DisableParallel: true},
		}},
		{"unsigned_history_gemini3", &llm.Request{Model: "gemini-3-pro",
			Messages: []llm.Message{
				text(llm.RoleUser, "List files"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{toolCall("call_openai_1", "ls", ""), toolCall("call_openai_2", "pwd", "{}")}},
				toolResult("call_openai_1", "", `["a.txt","b.txt"]`, false),
				toolResult("call_openai_2", "pwd", "permission denied", true),
			},
			Tools:      []llm.Tool{{Type: "function", Name: "ls"}, {Type: "function", Name: "pwd"}},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired},
		}},
		{"unsigned_history_gemini25", &llm.Request{Model: "gemini-2.5-pro",
			Messages: []llm.Message{
				text(llm.RoleUser, "List files"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{toolCall("toolu_1", "ls", "")}},
				toolResult("toolu_1", "", "42", false),
			},
			Tools:      []llm.Tool{{Type: "function", Name: "ls"}},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone},
		}},
		{"multimodal", &llm.Request{Model: "gemini-2.5-flash", Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{
				llm.TextPart("What is in these?"),
				{Kind: llm.PartImage, Media: &llm.Media{URL: "data:image/png;base64,iVBORw0KGgo="}},
				{Kind: llm.PartImage, Media: &llm.Media{URL: "https://example.com/cat.jpg", MIMEType: "image/jpeg", Detail: "high"}},
				{Kind: llm.PartAudio, Media: &llm.Media{Data: "UklGRg==", Format: "wav"}},
				{Kind: llm.PartFile, Media: &llm.Media{Data: "JVBERi0=", MIMEType: "application/pdf", Filename: "a.pdf"}},
				{Kind: llm.PartFile, Media: &llm.Media{FileID: "https://generativelanguage.googleapis.com/v1beta/files/abc", MIMEType: "video/mp4"}},
			}},
		}}},
		{"merge_and_skip", &llm.Request{Model: "gemini-2.5-flash", Messages: []llm.Message{
			text(llm.RoleUser, "one"),
			text(llm.RoleUser, ""),
			text(llm.RoleUser, "two"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Kind: llm.PartReasoning, Text: "hmm", Signature: "sig"},
				llm.TextPart("answer"),
			}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartRefusal, Text: "I can't."}}},
			text(llm.RoleAssistant, ""),
			text(llm.RoleSystem, "Late system note."),
			text(llm.RoleUser, "three"),
		}}},
		{"gemini_format_passthrough", &llm.Request{Model: "gemini-2.5-flash", Format: "gemini",
			Messages: []llm.Message{text(llm.RoleUser, "Search the web")},
			Tools:    []llm.Tool{{Type: "google_search", Raw: json.RawMessage(`{"googleSearch": {}}`)}},
			Extra: map[string]json.RawMessage{
				"safetySettings": json.RawMessage(`[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]`),
				"cachedContent":  json.RawMessage(`"cachedContents/abc"`),
				"contents":       json.RawMessage(`[]`), // the encoder's own field wins
			}}},
	}
}

func TestEncodeGenerateRequest(t *testing.T) {
	for _, tc := range encodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			before := cloneRequest(t, tc.req)
			got, err := EncodeGenerateRequest(tc.req, EncodeOptions{Provider: "google"})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "encode/"+tc.name+".json", got)
			if diff := cmp.Diff(before, cloneRequest(t, tc.req)); diff != "" {
				t.Errorf("EncodeGenerateRequest modified the request (-before +after):\n%s", diff)
			}
		})
	}
}

// cloneRequest deep-copies a request through JSON, for "not modified" checks.
func cloneRequest(t *testing.T, r *llm.Request) *llm.Request {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var c llm.Request
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestEncodeGenerateRequestKeepsMarkup(t *testing.T) {
	// Prompts are full of <, > and &: they go out as they are, not as
	// \u003c escapes that bloat the body.
	body, err := EncodeGenerateRequest(encodeCases()[0].req, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "Say <hi> & bye") {
		t.Errorf("body %s does not hold the text unescaped", body)
	}
}

func TestEncodeGenerateRequestSignatures(t *testing.T) {
	// The signature carried in a tool-call ID goes back on its functionCall
	// part exactly as Gemini sent it.
	req := encodeCases()[6].req
	body, err := EncodeGenerateRequest(req, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var gr generateRequest
	if err := json.Unmarshal(body, &gr); err != nil {
		t.Fatal(err)
	}
	var sigs []string
	for _, c := range gr.Contents {
		for _, p := range c.Parts {
			if p.FunctionCall != nil {
				sigs = append(sigs, p.ThoughtSignature)
			}
		}
	}
	if diff := cmp.Diff([]string{testSig, ""}, sigs); diff != "" {
		t.Errorf("functionCall signatures (-want +got):\n%s", diff)
	}
}

func TestEncodeGenerateRequestErrors(t *testing.T) {
	user := []llm.Message{text(llm.RoleUser, "hi")}
	bad := func(param string) errFields {
		return errFields{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Param: param, Fault: llm.FaultCaller}
	}
	unsupported := func(param string) errFields {
		return errFields{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Code: "unsupported_parameter",
			Param: param, Provider: "google", Fault: llm.FaultCaller}
	}
	tests := []struct {
		name string
		req  *llm.Request
		want errFields
	}{
		{"logit_bias", &llm.Request{Messages: user, LogitBias: map[string]float64{"42": -100}}, unsupported("logit_bias")},
		{"openai extra", &llm.Request{Messages: user, Format: "openai",
			Extra: map[string]json.RawMessage{"prediction": json.RawMessage(`{}`), "web_search_options": json.RawMessage(`{}`)}},
			unsupported("prediction")},
		{"audio output", &llm.Request{Messages: user, Modalities: []string{"text", "audio"}}, unsupported("modalities")},
		{"audio params", &llm.Request{Messages: user, Audio: json.RawMessage(`{"voice":"alloy"}`)}, unsupported("audio")},
		{"provider tool from openai", &llm.Request{Messages: user, Format: "openai",
			Tools: []llm.Tool{{Type: "web_search", Raw: json.RawMessage(`{"type":"web_search"}`)}}}, unsupported("tools[0].type")},
		{"unknown role", &llm.Request{Messages: []llm.Message{text("wizard", "hi")}}, bad("messages[0].role")},
		{"only system", &llm.Request{Messages: []llm.Message{text(llm.RoleSystem, "hi")}}, bad("messages")},
		{"system image", &llm.Request{Messages: []llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{
			{Kind: llm.PartImage, Media: &llm.Media{URL: "https://x/y.png"}}}}, text(llm.RoleUser, "hi")}},
			bad("messages[0].content[0]")},
		{"tool result for unknown call", &llm.Request{Messages: []llm.Message{text(llm.RoleUser, "hi"),
			toolResult("call_nope", "", "x", false)}}, bad("messages[1].tool_call_id")},
		{"tool call args not an object", &llm.Request{Messages: []llm.Message{text(llm.RoleUser, "hi"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{toolCall("a", "f", "{}"), toolCall("b", "f", `[1,2]`)}}}},
			bad("messages[1].tool_calls[1].function.arguments")},
		{"tool call args invalid", &llm.Request{Messages: []llm.Message{text(llm.RoleUser, "hi"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{toolCall("a", "f", `{"x":`)}}}},
			bad("messages[1].tool_calls[0].function.arguments")},
		{"tool call without name", &llm.Request{Messages: []llm.Message{text(llm.RoleUser, "hi"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{toolCall("a", "", `{}`)}}}},
			bad("messages[1].tool_calls[0].function.name")},
		{"unknown effort", &llm.Request{Messages: user, Reasoning: &llm.Reasoning{Effort: "ludicrous"}}, bad("reasoning_effort")},
		{"top_logprobs without logprobs", &llm.Request{Messages: user, TopLogprobs: ptr(2)}, bad("top_logprobs")},
		{"invalid schema", &llm.Request{Messages: user, ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema,
			Schema: json.RawMessage(`{`)}}, bad("response_format.json_schema.schema")},
		{"invalid tool parameters", &llm.Request{Messages: user, Tools: []llm.Tool{{Type: "function", Name: "f",
			Parameters: json.RawMessage(`{"type":`)}}}, bad("tools[0].function.parameters")},
		{"nameless tool", &llm.Request{Messages: user, Tools: []llm.Tool{{Type: "function"}}}, bad("tools[0].function.name")},
		{"media without type", &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			{Kind: llm.PartImage, Media: &llm.Media{Data: "AAAA"}}}}}}, bad("messages[0].content[0]")},
		{"data url not base64", &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			{Kind: llm.PartImage, Media: &llm.Media{URL: "data:text/plain,hello"}}}}}}, bad("messages[0].content[0]")},
		{"gemini extra not JSON", &llm.Request{Messages: user, Format: "gemini",
			Extra: map[string]json.RawMessage{"safetySettings": json.RawMessage(`[`)}}, bad("safetySettings")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.req.Model == "" {
				tc.req.Model = "gemini-2.5-flash"
			}
			_, err := EncodeGenerateRequest(tc.req, EncodeOptions{Provider: "google"})
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tc.want, fieldsOf(t, err)); diff != "" {
				t.Errorf("error %v (-want +got):\n%s", err, diff)
			}
		})
	}
}

func TestModernGemini(t *testing.T) {
	for model, want := range map[string]bool{
		"gemini-3-pro-preview": true, "models/gemini-3-flash": true, "gemini-flash-latest": true,
		"gemini-2.5-flash": false, "gemini-1.5-pro": false, "gemini-2.0-flash-lite": false,
		"gemini-exp-1206": false, "gemma-3-27b-it": false, "": false,
	} {
		if got := modernGemini(model); got != want {
			t.Errorf("modernGemini(%q) = %v, want %v", model, got, want)
		}
	}
}
