package usage

import (
	"encoding/json"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
)

// cookbookMessages are the example messages of OpenAI's "How to count tokens
// with tiktoken" cookbook, for which the API itself reported 129 prompt
// tokens on gpt-4-0613 (cl100k_base) and 124 on gpt-4o (o200k_base).
func cookbookMessages() []llm.Message {
	text := func(role llm.Role, name, s string) llm.Message {
		return llm.Message{Role: role, Name: name, Parts: []llm.Part{llm.TextPart(s)}}
	}
	return []llm.Message{
		text(llm.RoleSystem, "", "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."),
		text(llm.RoleSystem, "example_user", "New synergies will help drive top-line growth."),
		text(llm.RoleSystem, "example_assistant", "Things working well together will increase revenue."),
		text(llm.RoleSystem, "example_user", "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."),
		text(llm.RoleSystem, "example_assistant", "Let's talk later when we're less busy about how to do better."),
		text(llm.RoleUser, "", "This late pivot means we don't have time to boil the ocean for the client deliverable."),
	}
}

func userMsg(parts ...llm.Part) []llm.Message {
	return []llm.Message{{Role: llm.RoleUser, Parts: parts}}
}

func TestCountRequest(t *testing.T) {
	// One user message: 3 framing + 1 ("user") + content + 3 priming.
	const oneUser = 3 + 1 + 3
	weatherParams := json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)
	schema := json.RawMessage(`{"type":"object","properties":{"answer":{"type":"string"}}}`)
	for _, tc := range []struct {
		name string
		req  *llm.Request
		want int
	}{
		{"nil", nil, 0},
		{"no messages", &llm.Request{Model: "gpt-4o"}, 3},
		{"cookbook gpt-4", &llm.Request{Model: "gpt-4", Messages: cookbookMessages()}, 129},
		{"cookbook gpt-4o", &llm.Request{Model: "gpt-4o", Messages: cookbookMessages()}, 124},
		{"cookbook provider/model", &llm.Request{Model: "openai/gpt-4o-mini", Messages: cookbookMessages()}, 124},
		{"hello world", &llm.Request{Model: "gpt-4o", Messages: userMsg(llm.TextPart("hello world"))}, oneUser + 2},
		{"two text parts", &llm.Request{Model: "gpt-4o", Messages: userMsg(llm.TextPart("hello"), llm.TextPart(" world"))}, oneUser + 2},
		{"name adds its tokens plus one", &llm.Request{Model: "gpt-4o", Messages: []llm.Message{
			{Role: llm.RoleUser, Name: "hello", Parts: []llm.Part{llm.TextPart("hello world")}},
		}}, oneUser + 2 + 1 + 1},
		{"image auto detail", &llm.Request{Model: "gpt-4o", Messages: userMsg(
			llm.Part{Kind: llm.PartImage, Media: &llm.Media{URL: "https://example.com/a.png"}})}, oneUser + ImagePartTokens},
		{"image low detail", &llm.Request{Model: "gpt-4o", Messages: userMsg(
			llm.Part{Kind: llm.PartImage, Media: &llm.Media{URL: "https://example.com/a.png", Detail: "low"}})}, oneUser + ImageLowDetailTokens},
		{"audio", &llm.Request{Model: "gpt-4o", Messages: userMsg(
			llm.Part{Kind: llm.PartAudio, Media: &llm.Media{Data: "AAAA", Format: "wav"}})}, oneUser + AudioPartTokens},
		{"file", &llm.Request{Model: "gpt-4o", Messages: userMsg(
			llm.Part{Kind: llm.PartFile, Media: &llm.Media{FileID: "file-1"}})}, oneUser + FilePartTokens},
		{"opaque", &llm.Request{Model: "gpt-4o", Messages: userMsg(
			llm.Part{Kind: llm.PartOpaque, Raw: json.RawMessage(`{"type":"x"}`), RawFormat: "anthropic"})}, oneUser + OpaquePartTokens},
		{"reasoning and refusal text", &llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Kind: llm.PartReasoning, Text: "hello world"}, {Kind: llm.PartRefusal, Text: "hello world"},
		}}}}, 3 + CountText("gpt-4o", "assistant") + 4 + 3},
		{"tool call", &llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}},
		}}}}, 3 + CountText("gpt-4o", "assistant") + CountText("gpt-4o", "get_weather") + CountText("gpt-4o", `{"city":"Paris"}`) + 3},
		{"tool result", &llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleTool, Parts: []llm.Part{
			{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_1", Parts: []llm.Part{llm.TextPart("hello world")}}},
		}}}}, 3 + CountText("gpt-4o", "tool") + 2 + 3},
		{"tool definition", &llm.Request{Model: "gpt-4o", Messages: userMsg(llm.TextPart("hello world")), Tools: []llm.Tool{
			{Type: "function", Name: "get_weather", Description: "Get the weather for a city.", Parameters: weatherParams},
		}}, oneUser + 2 + CountText("gpt-4o", "get_weather") + CountText("gpt-4o", "Get the weather for a city.") + CountText("gpt-4o", string(weatherParams))},
		{"built-in tool counts its raw JSON", &llm.Request{Model: "gpt-4o", Tools: []llm.Tool{
			{Type: "web_search_20250305", Name: "web_search", Raw: json.RawMessage(`{"type":"web_search_20250305","name":"web_search"}`)},
		}}, 3 + CountText("gpt-4o", `{"type":"web_search_20250305","name":"web_search"}`)},
		{"json schema response format", &llm.Request{Model: "gpt-4o", ResponseFormat: &llm.ResponseFormat{
			Type: llm.FormatJSONSchema, Name: "answer", Schema: schema,
		}}, 3 + CountText("gpt-4o", "answer") + CountText("gpt-4o", string(schema))},
		{"json object response format adds nothing", &llm.Request{Model: "gpt-4o", ResponseFormat: &llm.ResponseFormat{
			Type: llm.FormatJSONObject,
		}}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CountRequest(tc.req); got != tc.want {
				t.Errorf("CountRequest = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestCountEmbeddings(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  *llm.EmbeddingsRequest
		want int
	}{
		{"nil", nil, 0},
		{"no inputs", &llm.EmbeddingsRequest{Model: "text-embedding-3-small"}, 0},
		{"one text", &llm.EmbeddingsRequest{Model: "text-embedding-3-small", Inputs: []llm.EmbeddingInput{{Text: "hello world"}}}, 2},
		{"texts and token arrays", &llm.EmbeddingsRequest{Model: "text-embedding-3-small", Inputs: []llm.EmbeddingInput{
			{Text: "tiktoken is great!"}, {Tokens: []int{1, 2, 3}}, {Text: ""},
		}}, 6 + 3},
		{"empty token array counts zero", &llm.EmbeddingsRequest{Model: "text-embedding-3-small", Inputs: []llm.EmbeddingInput{{Tokens: []int{}}}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CountEmbeddings(tc.req); got != tc.want {
				t.Errorf("CountEmbeddings = %d, want %d", got, tc.want)
			}
		})
	}
}
