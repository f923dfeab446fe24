package openai

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sluicehq/sluice/internal/llm"
)

// fixtureType is the provider type each request fixture is encoded for.
var fixtureType = map[string]string{"history": "openrouter"}

func TestEncodeChatRequestGolden(t *testing.T) {
	for _, path := range requestFixtures(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			req, err := DecodeChatRequest(readFile(t, path))
			if err != nil {
				t.Fatal(err)
			}
			typ := fixtureType[name]
			if typ == "" {
				typ = "openai"
			}
			body, err := EncodeChatRequest(req, EncodeOptions{Provider: "up", Type: typ, IncludeUsage: true})
			if err != nil {
				t.Fatal(err)
			}
			goldenJSON(t, filepath.Join("testdata/golden/request_encode", name+".json"), body)
		})
	}
}

// roundTripOpts ignores what the OpenAI wire cannot carry to an OpenAI
// upstream by design (cache hints) and nil-versus-empty differences.
var roundTripOpts = cmp.Options{
	cmpopts.IgnoreFields(llm.Part{}, "CacheControl"),
	cmpopts.IgnoreFields(llm.Tool{}, "CacheControl"),
	cmpopts.EquateEmpty(),
}

func TestChatRequestRoundTripFixtures(t *testing.T) {
	for _, path := range requestFixtures(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			want, err := DecodeChatRequest(readFile(t, path))
			if err != nil {
				t.Fatal(err)
			}
			typ := fixtureType[name]
			if typ == "" {
				typ = "openai"
			}
			body, err := EncodeChatRequest(want, EncodeOptions{Type: typ})
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeChatRequest(body)
			if err != nil {
				t.Fatalf("decoding the encoding: %v\n%s", err, body)
			}
			if diff := cmp.Diff(want, got, roundTripOpts); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func userText(s string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(s)}}
}

func TestEncodeChatRequest(t *testing.T) {
	base := func(mod func(r *llm.Request)) *llm.Request {
		r := &llm.Request{Model: "m", Messages: []llm.Message{userText("hi")}, Format: "openai"}
		mod(r)
		return r
	}
	const hi = `{"model":"m","messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name string
		req  *llm.Request
		opt  EncodeOptions
		want string // the body, compared as JSON
	}{
		{"minimal", base(func(r *llm.Request) {}), EncodeOptions{}, hi + `}`},
		{"stream with forced usage", base(func(r *llm.Request) { r.Stream = true }), EncodeOptions{IncludeUsage: true},
			hi + `,"stream":true,"stream_options":{"include_usage":true}}`},
		{"stream with client usage", base(func(r *llm.Request) { r.Stream, r.IncludeUsage = true, true }), EncodeOptions{},
			hi + `,"stream":true,"stream_options":{"include_usage":true}}`},
		{"mistral gets no stream_options", base(func(r *llm.Request) { r.Stream = true }), EncodeOptions{Type: "mistral", IncludeUsage: true},
			hi + `,"stream":true}`},
		{"no stream_options without stream", base(func(r *llm.Request) { r.IncludeUsage = true }), EncodeOptions{IncludeUsage: true},
			hi + `}`},
		{"openai gets max_completion_tokens", base(func(r *llm.Request) { r.MaxTokens = ptr(5) }), EncodeOptions{Type: "openai"},
			hi + `,"max_completion_tokens":5}`},
		{"compatible servers get max_tokens", base(func(r *llm.Request) { r.MaxTokens = ptr(5) }), EncodeOptions{Type: "ollama"},
			hi + `,"max_tokens":5}`},
		{"top_k for vllm", base(func(r *llm.Request) { r.TopK = ptr(40) }), EncodeOptions{Type: "vllm"},
			hi + `,"top_k":40}`},
		{"developer is system for mistral", &llm.Request{Model: "m", Messages: []llm.Message{
			{Role: llm.RoleDeveloper, Parts: []llm.Part{llm.TextPart("be brief")}}, userText("hi")}},
			EncodeOptions{Type: "mistral"},
			`{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}`},
		{"developer stays for openai", &llm.Request{Model: "m", Messages: []llm.Message{
			{Role: llm.RoleDeveloper, Parts: []llm.Part{llm.TextPart("be brief")}}}},
			EncodeOptions{Type: "openai"},
			`{"model":"m","messages":[{"role":"developer","content":"be brief"}]}`},
		{"effort", base(func(r *llm.Request) { r.Reasoning = &llm.Reasoning{Effort: "minimal"} }), EncodeOptions{},
			hi + `,"reasoning_effort":"minimal"}`},
		{"budget 1024 is low", base(func(r *llm.Request) { r.Reasoning = &llm.Reasoning{BudgetTokens: 1024} }), EncodeOptions{},
			hi + `,"reasoning_effort":"low"}`},
		{"budget 4096 is low", base(func(r *llm.Request) { r.Reasoning = &llm.Reasoning{BudgetTokens: 4096} }), EncodeOptions{},
			hi + `,"reasoning_effort":"low"}`},
		{"budget 4097 is medium", base(func(r *llm.Request) { r.Reasoning = &llm.Reasoning{BudgetTokens: 4097} }), EncodeOptions{},
			hi + `,"reasoning_effort":"medium"}`},
		{"budget 16384 is medium", base(func(r *llm.Request) { r.Reasoning = &llm.Reasoning{BudgetTokens: 16384} }), EncodeOptions{},
			hi + `,"reasoning_effort":"medium"}`},
		{"budget 16385 is high", base(func(r *llm.Request) { r.Reasoning = &llm.Reasoning{BudgetTokens: 16385} }), EncodeOptions{},
			hi + `,"reasoning_effort":"high"}`},
		{"disabled reasoning sends nothing", base(func(r *llm.Request) { r.Reasoning = &llm.Reasoning{Disabled: true, BudgetTokens: 2000} }), EncodeOptions{},
			hi + `}`},
		{"disable parallel from anthropic", base(func(r *llm.Request) {
			r.Tools = []llm.Tool{{Type: "function", Name: "f"}}
			r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceRequired, DisableParallel: true}
		}), EncodeOptions{},
			hi + `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","parallel_tool_calls":false}`},
		{"json schema without a name", base(func(r *llm.Request) {
			r.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: json.RawMessage(`{"type":"object"}`)}
		}), EncodeOptions{},
			hi + `,"response_format":{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object"}}}}`},
		{"extra passes for openai clients, sorted", base(func(r *llm.Request) {
			r.Extra = map[string]json.RawMessage{"zeta": json.RawMessage(`1`), "alpha": json.RawMessage(`{"b":[true]}`)}
		}), EncodeOptions{},
			hi + `,"alpha":{"b":[true]},"zeta":1}`},
		{"thinking, cache hints and is_error dropped", &llm.Request{Model: "m", Format: "anthropic", Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: "q", CacheControl: json.RawMessage(`{"type":"ephemeral"}`)}}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Kind: llm.PartReasoning, Text: "hmm", Signature: "sig"},
				{Kind: llm.PartRedacted, Signature: "opaque"},
				{Kind: llm.PartText, Text: "Let me look."},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_1", Type: "function", Name: "f", Arguments: `{"x":1}`}},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_2", Name: "g", Arguments: `{}`}},
			}},
			{Role: llm.RoleTool, Parts: []llm.Part{
				{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_1", IsError: true, Parts: []llm.Part{llm.TextPart("boom")}}},
				{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_2", Parts: []llm.Part{llm.TextPart("ok"), llm.TextPart("!")}}},
			}},
		}}, EncodeOptions{},
			`{"model":"m","messages":[{"role":"user","content":"q"},
			{"role":"assistant","content":"Let me look.","tool_calls":[
				{"id":"toolu_1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}},
				{"id":"toolu_2","type":"function","function":{"name":"g","arguments":"{}"}}]},
			{"role":"tool","content":"boom","tool_call_id":"toolu_1"},
			{"role":"tool","content":[{"type":"text","text":"ok"},{"type":"text","text":"!"}],"tool_call_id":"toolu_2"}]}`},
		{"inline media from another format", &llm.Request{Model: "m", Format: "anthropic", Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{
				{Kind: llm.PartImage, Media: &llm.Media{MIMEType: "image/png", Data: "iVBORw0KGgo="}},
				{Kind: llm.PartFile, Media: &llm.Media{MIMEType: "application/pdf", Data: "JVBERi0=", Filename: "a.pdf"}},
				{Kind: llm.PartAudio, Media: &llm.Media{URL: "data:audio/mpeg;base64,SUQz"}},
			}}}}, EncodeOptions{},
			`{"model":"m","messages":[{"role":"user","content":[
				{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
				{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0=","filename":"a.pdf"}},
				{"type":"input_audio","input_audio":{"data":"SUQz","format":"mp3"}}]}]}`},
		{"assistant refusal only", &llm.Request{Model: "m", Messages: []llm.Message{
			{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartRefusal, Text: "No."}}}}}, EncodeOptions{},
			`{"model":"m","messages":[{"role":"assistant","content":null,"refusal":"No."}]}`},
		{"empty assistant", &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleAssistant}}}, EncodeOptions{},
			`{"model":"m","messages":[{"role":"assistant","content":""}]}`},
		{"text escaping", base(func(r *llm.Request) {
			r.Messages = []llm.Message{userText("quote \" backslash \\ nl \n tab \t bell \a sep \u2028 bad \xff é 😀 <&>")}
		}), EncodeOptions{},
			`{"model":"m","messages":[{"role":"user","content":"quote \" backslash \\ nl \n tab \t bell \u0007 sep \u2028 bad \ufffd é 😀 <&>"}]}`},
		{"sampling parameters", base(func(r *llm.Request) {
			r.Temperature, r.TopP, r.N, r.Seed = ptr(0.0), ptr(1e-7), ptr(2), ptr(int64(-9007199254740993))
			r.Stop = []string{"a"}
			r.LogitBias = map[string]float64{"9": 1, "10": -100}
		}), EncodeOptions{},
			hi + `,"temperature":0,"top_p":1e-7,"n":2,"stop":["a"],"seed":-9007199254740993,"logit_bias":{"10":-100,"9":1}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := EncodeChatRequest(tc.req, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(body) {
				t.Fatalf("invalid JSON: %s", body)
			}
			if diff := cmp.Diff(parseJSON(t, []byte(tc.want)), parseJSON(t, body)); diff != "" {
				t.Errorf("body (-want +got):\n%s\n%s", diff, body)
			}
		})
	}
}

func TestEncodeChatRequestUnsupported(t *testing.T) {
	tests := []struct {
		name      string
		req       *llm.Request
		opt       EncodeOptions
		wantParam string
	}{
		{"extra from another format names the first key", &llm.Request{Model: "m", Format: "anthropic",
			Extra: map[string]json.RawMessage{"top_a": json.RawMessage(`1`), "mcp_servers": json.RawMessage(`[]`)}},
			EncodeOptions{Provider: "oa"}, "mcp_servers"},
		{"top_k for openai", &llm.Request{Model: "m", TopK: ptr(5)}, EncodeOptions{Provider: "oa", Type: "openai"}, "top_k"},
		{"top_k for azure", &llm.Request{Model: "m", TopK: ptr(5)}, EncodeOptions{Provider: "az", Type: "azure"}, "top_k"},
		{"built-in tool of another format", &llm.Request{Model: "m", Format: "anthropic",
			Tools: []llm.Tool{{Type: "function", Name: "f"}, {Type: "web_search_20250305", Raw: json.RawMessage(`{"type":"web_search_20250305"}`)}}},
			EncodeOptions{Provider: "oa"}, "tools[1].type"},
		{"server tool call in history", &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "s1", Type: "server_tool_use", Name: "web_search"}}}}}},
			EncodeOptions{Provider: "oa"}, "messages[0].tool_calls[0].type"},
		{"image in assistant history", &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Kind: llm.PartImage, Media: &llm.Media{URL: "https://x"}}}}}},
			EncodeOptions{Provider: "oa"}, "messages[0].content[0]"},
		{"refusal in a user message", &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			llm.TextPart("a"), {Kind: llm.PartRefusal, Text: "no"}}}}},
			EncodeOptions{Provider: "oa"}, "messages[0].content[1]"},
		{"audio by URL", &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			llm.TextPart("a"), {Kind: llm.PartAudio, Media: &llm.Media{URL: "https://x/a.wav"}}}}}},
			EncodeOptions{Provider: "oa"}, "messages[0].content[1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := EncodeChatRequest(tc.req, tc.opt)
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (body %s), want an *llm.Error", err, body)
			}
			if e.Status != 400 || e.Code != "unsupported_parameter" || e.Param != tc.wantParam || e.Provider != tc.opt.Provider {
				t.Errorf("got %d %q param %q provider %q; want 400 unsupported_parameter param %q provider %q",
					e.Status, e.Code, e.Param, e.Provider, tc.wantParam, tc.opt.Provider)
			}
		})
	}
}

func TestEncodeChatRequestDoesNotModifyRequest(t *testing.T) {
	req, err := DecodeChatRequest(readFile(t, "testdata/requests/tools.json"))
	if err != nil {
		t.Fatal(err)
	}
	req.Messages = append(req.Messages, llm.Message{Role: llm.RoleDeveloper, Parts: []llm.Part{llm.TextPart("x")}})
	before, _ := json.Marshal(req)
	if _, err := EncodeChatRequest(req, EncodeOptions{Type: "mistral", IncludeUsage: true}); err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(req)
	if diff := cmp.Diff(string(before), string(after)); diff != "" {
		t.Errorf("request changed (-before +after):\n%s", diff)
	}
}
