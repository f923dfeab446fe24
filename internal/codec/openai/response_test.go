package openai

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

func TestChatResponseGolden(t *testing.T) {
	for _, path := range fixtures(t, "testdata/responses/*.json") {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			resp, err := DecodeChatResponse(readFile(t, path))
			if err != nil {
				t.Fatal(err)
			}
			goldenValue(t, filepath.Join("testdata/golden/response_decode", name+".json"), resp)
			body, err := EncodeChatResponse(resp)
			if err != nil {
				t.Fatal(err)
			}
			goldenJSON(t, filepath.Join("testdata/golden/response_encode", name+".json"), body)
			// What we send a client decodes to what we had.
			back, err := DecodeChatResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(resp, back); diff != "" {
				t.Errorf("re-decoded response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeChatResponse(t *testing.T) {
	resp := &llm.Response{ID: "msg_01", Model: "claude-sonnet-4", Created: 1700000000,
		Choices: []llm.Choice{{FinishReason: llm.FinishToolCalls, Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Kind: llm.PartReasoning, Text: "The user wants", Signature: "sig"},
			{Kind: llm.PartReasoning, Text: " SQL."},
			{Kind: llm.PartText, Text: "Running it", Citations: json.RawMessage(`[{"type":"char_location","cited_text":"x"}]`)},
			{Kind: llm.PartText, Text: " now."},
			{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_1", Type: "function", Name: "q", Arguments: `{"a":1}`}},
			{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "ct_2", Type: "custom", Name: "sql", Arguments: "SELECT 1"}},
		}}}},
		Usage: llm.Usage{InputTokens: 100, OutputTokens: 20, CachedInputTokens: 80, CacheWriteTokens: 10, ReasoningTokens: 5},
	}
	body, err := EncodeChatResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"msg_01","object":"chat.completion","created":1700000000,"model":"claude-sonnet-4",
	"choices":[{"index":0,"message":{"role":"assistant","content":"Running it now.","reasoning_content":"The user wants SQL.","refusal":null,
	"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"q","arguments":"{\"a\":1}"}},
	{"id":"ct_2","type":"custom","custom":{"name":"sql","input":"SELECT 1"}}]},"logprobs":null,"finish_reason":"tool_calls"}],
	"usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,
	"prompt_tokens_details":{"cached_tokens":80,"audio_tokens":0,"cache_write_tokens":10},
	"completion_tokens_details":{"reasoning_tokens":5,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`
	if diff := cmp.Diff(parseJSON(t, []byte(want)), parseJSON(t, body)); diff != "" {
		t.Errorf("body (-want +got):\n%s\n%s", diff, body)
	}
}

func TestDecodeChatResponseErrors(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"not JSON", `<html>bad gateway</html>`, 502, "invalid_response"},
		{"truncated", `{"id":"x","choices":[`, 502, "invalid_response"},
		{"no choices", `{"id":"x","object":"chat.completion"}`, 502, "invalid_response"},
		{"wrong shape", `{"choices":"none"}`, 502, "invalid_response"},
		{"error in a 200 answer", `{"error":{"message":"Rate limit exceeded","code":429}}`, 429, ""},
		{"server error in a 200 answer", `{"error":{"message":"upstream died","type":"server_error"}}`, 502, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeChatResponse([]byte(tc.body))
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *llm.Error", err)
			}
			if e.Status != tc.wantStatus || e.Code != tc.wantCode || e.Fault != llm.FaultProvider {
				t.Errorf("got %d %q fault %v, want %d %q provider", e.Status, e.Code, e.Fault, tc.wantStatus, tc.wantCode)
			}
		})
	}
}
