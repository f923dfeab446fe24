package anthropic

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

var responseFixtures = []string{"text", "tool_use", "thinking", "server_tool", "refusal"}

// TestResponseRoundTrip decodes Anthropic responses (golden canonical
// form), encodes them back (golden) and checks nothing was lost.
func TestResponseRoundTrip(t *testing.T) {
	for _, name := range responseFixtures {
		t.Run(name, func(t *testing.T) {
			resp, err := DecodeMessagesResponse(readFile(t, filepath.Join("responses", name+".json")))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("responses", name+".llm.golden.json"), canonicalJSON(t, resp))
			body, err := EncodeMessagesResponse(resp)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("responses", name+".out.golden.json"), jsonValue(t, body))
			again, err := DecodeMessagesResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(resp, again, jsonEqual); diff != "" {
				t.Errorf("round trip changed the response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeMessagesResponseUsage(t *testing.T) {
	resp, err := DecodeMessagesResponse(readFile(t, "responses/tool_use.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Usage{InputTokens: 472 + 1024 + 2048, OutputTokens: 91, CachedInputTokens: 2048, CacheWriteTokens: 1024}
	if diff := cmp.Diff(want, resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
}

func TestDecodeMessagesResponseErrors(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantType   string
		wantCode   string
	}{
		{"not json", `<html>`, 502, llm.TypeAPI, "invalid_upstream_response"},
		{"wrong type", `{"type":"completion"}`, 502, llm.TypeAPI, "invalid_upstream_response"},
		{"content not array", `{"type":"message","content":{"type":"text"}}`, 200, "", ""},
		{"error body", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, 503, llm.TypeOverloaded, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := DecodeMessagesResponse([]byte(tc.body))
			if tc.wantStatus == 200 {
				if err != nil || len(resp.Choices) != 1 || len(resp.Choices[0].Message.Parts) != 0 {
					t.Fatalf("got %+v, %v; want an empty message", resp, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; got %+v", resp)
			}
			e := llmError(t, err)
			if e.Status != tc.wantStatus || e.Type != tc.wantType || e.Code != tc.wantCode || e.Fault != llm.FaultProvider {
				t.Errorf("error = %d %s %q fault %s, want %d %s %q provider", e.Status, e.Type, e.Code, e.Fault, tc.wantStatus, tc.wantType, tc.wantCode)
			}
		})
	}
}

func TestEncodeMessagesResponse(t *testing.T) {
	tests := []struct {
		name   string
		resp   *llm.Response
		want   string // JSON
		wantID string // prefix, when the ID is made up
	}{
		{
			name: "openai tool calls",
			resp: &llm.Response{ID: "chatcmpl-123", Model: "gpt-4o", Choices: []llm.Choice{{
				Message:      llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart(""), toolCall("call_1", "f", `{"x":1}`), toolCall("call_2", "g", "")}},
				FinishReason: llm.FinishToolCalls}},
				Usage: llm.Usage{InputTokens: 100, OutputTokens: 20, CachedInputTokens: 60}},
			want: `{"id":"chatcmpl-123","type":"message","role":"assistant","model":"gpt-4o","content":[
				{"type":"tool_use","id":"call_1","name":"f","input":{"x":1}},{"type":"tool_use","id":"call_2","name":"g","input":{}}],
				"stop_reason":"tool_use","stop_sequence":null,
				"usage":{"input_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":60,"output_tokens":20}}`,
		},
		{
			name: "stop sequence",
			resp: &llm.Response{ID: "x", Model: "m", Choices: []llm.Choice{{Message: llm.Message{Parts: []llm.Part{llm.TextPart("a")}},
				FinishReason: llm.FinishStop, StopSequence: "###"}}},
			want: `{"id":"x","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"a"}],
				"stop_reason":"stop_sequence","stop_sequence":"###",
				"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}`,
		},
		{
			name: "length drops stop sequence and media",
			resp: &llm.Response{ID: "x", Model: "m", Choices: []llm.Choice{{Message: llm.Message{Parts: []llm.Part{
				{Kind: llm.PartAudio, Media: &llm.Media{Data: "AAAA"}}, {Kind: llm.PartImage, Media: &llm.Media{URL: "https://x"}},
				{Kind: llm.PartOpaque, Raw: json.RawMessage(`{"a":1}`), RawFormat: "gemini"},
				{Kind: llm.PartRefusal, Text: "no"}, {Kind: llm.PartReasoning, Text: "hmm"}}},
				FinishReason: llm.FinishLength, StopSequence: "ignored"}}},
			want: `{"id":"x","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"no"},
				{"type":"thinking","thinking":"hmm","signature":""}],
				"stop_reason":"max_tokens","stop_sequence":null,
				"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}`,
		},
		{
			name: "no choices and no id",
			resp: &llm.Response{Model: "m", Usage: llm.Usage{InputTokens: 5, CacheWriteTokens: 9}},
			want: `{"type":"message","role":"assistant","model":"m","content":[],"stop_reason":"end_turn","stop_sequence":null,
				"usage":{"input_tokens":0,"cache_creation_input_tokens":9,"cache_read_input_tokens":0,"output_tokens":0}}`,
			wantID: "msg_",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := EncodeMessagesResponse(tc.resp)
			if err != nil {
				t.Fatal(err)
			}
			got := jsonValue(t, body).(map[string]any)
			if tc.wantID != "" {
				id, _ := got["id"].(string)
				if !strings.HasPrefix(id, tc.wantID) || len(id) != len(tc.wantID)+24 {
					t.Errorf("id = %q, want %s + 24 characters", id, tc.wantID)
				}
				delete(got, "id")
			}
			if diff := cmp.Diff(jsonValue(t, []byte(tc.want)), any(got)); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeMessagesResponseFinishReasons(t *testing.T) {
	tests := []struct {
		finish llm.FinishReason
		want   string
	}{
		{llm.FinishStop, "end_turn"}, {llm.FinishLength, "max_tokens"}, {llm.FinishToolCalls, "tool_use"},
		{llm.FinishContentFilter, "refusal"}, {llm.FinishPause, "pause_turn"}, {"function_call", "tool_use"}, {"", "end_turn"},
	}
	for _, tc := range tests {
		t.Run(string(tc.finish), func(t *testing.T) {
			body, err := EncodeMessagesResponse(&llm.Response{ID: "x", Choices: []llm.Choice{{FinishReason: tc.finish}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonValue(t, body).(map[string]any)["stop_reason"]; got != tc.want {
				t.Errorf("stop_reason = %v, want %s", got, tc.want)
			}
		})
	}
}

func TestEncodeMessagesResponseInvalidArguments(t *testing.T) {
	_, err := EncodeMessagesResponse(&llm.Response{ID: "x", Choices: []llm.Choice{{
		Message: llm.Message{Parts: []llm.Part{toolCall("c", "f", `{"unterminated`)}}}}})
	e := llmError(t, err)
	if e.Status != http.StatusBadGateway || e.Code != "invalid_tool_arguments" {
		t.Errorf("error = %d %q, want 502 invalid_tool_arguments", e.Status, e.Code)
	}
}

// TestDecodeInvalidUTF8 guards the contract that canonical strings are
// valid UTF-8 even when an upstream sends bytes that are not.
func TestDecodeInvalidUTF8(t *testing.T) {
	resp, err := DecodeMessagesResponse([]byte("{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"a\xffb\"}]}"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Parts[0].Text; got != "a\uFFFDb" {
		t.Errorf("text = %q, want a\\uFFFDb", got)
	}
	chunks, _, err := decodeStream(t, []byte("data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\xc3\"}}\n\n"))
	if err != nil || len(chunks) != 1 || chunks[0].Deltas[0].Text != "\uFFFD" {
		t.Errorf("stream text = %+v, %v; want U+FFFD", chunks, err)
	}
}
