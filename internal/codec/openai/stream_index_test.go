package openai

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

// Ollama and Gemini's OpenAI-compatible endpoint stream tool calls without
// "index"; the decoder must still tell the calls apart.
func TestStreamToolCallsWithoutIndex(t *testing.T) {
	events := []string{
		`{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"call_a","type":"function","function":{"name":"a","arguments":"{\"x\""}}]}}]}`,
		`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":":1}"}}]}}]}`,
		`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"id":"call_b","type":"function","function":{"name":"b","arguments":"{\"y\":2}"}},{"id":"call_c","type":"function","function":{"name":"c","arguments":"{}"}}]}}]}`,
		`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"id":"call_c","function":{"arguments":""}}]},"finish_reason":"tool_calls"}]}`,
	}
	type frag struct {
		Index    int
		ID, Args string
	}
	var got []frag
	d := NewStreamDecoder("up")
	for _, e := range events {
		c, _, err := d.Decode(&sse.Event{Data: []byte(e)})
		if err != nil {
			t.Fatal(err)
		}
		for _, dl := range c.Deltas {
			for _, tc := range dl.ToolCalls {
				got = append(got, frag{tc.Index, tc.ID, tc.Arguments})
			}
		}
	}
	want := []frag{{0, "call_a", `{"x"`}, {0, "", ":1}"}, {1, "call_b", `{"y":2}`}, {2, "call_c", "{}"}, {2, "call_c", ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fragments (-want +got):\n%s", diff)
	}
}

func TestStreamHugeChoiceIndexKeepsNoState(t *testing.T) {
	d := NewStreamDecoder("up")
	_, _, err := d.Decode(&sse.Event{Data: []byte(`{"choices":[{"index":1000000000,"delta":{"tool_calls":[{"id":"x","function":{"name":"n","arguments":"{}"}}]}}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.calls) > maxTrackedChoices {
		t.Fatalf("decoder grew %d tracking entries", len(d.calls))
	}
}

func TestLongToolCallIDsAreShortenedConsistently(t *testing.T) {
	long := "call_0123456789abcdef__thought__" + strings.Repeat("c2lnbmF0dXJl", 20)
	req := &llm.Request{Model: "m", Messages: []llm.Message{
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: long, Type: "function", Name: "f", Arguments: "{}"}}}},
		{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: long, Parts: []llm.Part{llm.TextPart("ok")}}}}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_short", Type: "function", Name: "f", Arguments: "{}"}}}},
	}}
	body, err := EncodeChatRequest(req, EncodeOptions{Provider: "up", Type: "openai"})
	if err != nil {
		t.Fatal(err)
	}
	var wire struct {
		Messages []struct {
			ToolCallID string `json:"tool_call_id"`
			ToolCalls  []struct {
				ID string `json:"id"`
			} `json:"tool_calls"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		t.Fatal(err)
	}
	call, result := wire.Messages[1].ToolCalls[0].ID, wire.Messages[2].ToolCallID
	if len(call) > maxCallIDLen || call != result || call == long {
		t.Errorf("call id %q, result id %q: want one id of at most %d characters", call, result, maxCallIDLen)
	}
	if got := wire.Messages[3].ToolCalls[0].ID; got != "call_short" {
		t.Errorf("a short id changed: %q", got)
	}
}
