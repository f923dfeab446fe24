package openai

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

// sseData returns the data of every event in an SSE body, checking that
// each event is framed as "data: …\n\n".
func sseData(t *testing.T, body []byte) []string {
	t.Helper()
	if len(body) > 0 && !bytes.HasSuffix(body, []byte("\n\n")) {
		t.Errorf("stream does not end with a blank line: %q", body[max(0, len(body)-40):])
	}
	r := sse.NewReader(bytes.NewReader(body), 0)
	var out []string
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Type) != 0 {
			t.Errorf("unexpected event type %q", ev.Type)
		}
		out = append(out, string(ev.Data))
	}
}

// normalizeEvent removes what the canonical model does not carry from an
// OpenAI chunk: null versus "" in a delta's content and refusal, and usage
// detail objects whose counts are all zero.
func normalizeEvent(t *testing.T, data string) any {
	t.Helper()
	if data == "[DONE]" {
		return data
	}
	v := parseJSON(t, []byte(data)).(map[string]any)
	if choices, ok := v["choices"].([]any); ok {
		for _, c := range choices {
			delta := c.(map[string]any)["delta"].(map[string]any)
			for _, k := range []string{"content", "refusal"} {
				if x, ok := delta[k]; ok && (x == nil || x == "") {
					delete(delta, k)
				}
			}
		}
	}
	if u, ok := v["usage"].(map[string]any); ok {
		for _, k := range []string{"prompt_tokens_details", "completion_tokens_details"} {
			if d, ok := u[k].(map[string]any); ok {
				zero := true
				for _, n := range d {
					zero = zero && n.(json.Number) == "0"
				}
				if zero {
					delete(u, k)
				}
			}
		}
	}
	return v
}

// Re-encoding OpenAI's own recorded streams must give OpenAI's events back:
// identical bytes for every content event, and the same JSON (modulo what
// normalizeEvent removes) for the first delta of a choice and the usage
// chunk.
func TestStreamEncoderReproducesRecordedStreams(t *testing.T) {
	for _, path := range streamFixtures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw := readFile(t, path)
			want := sseData(t, raw)
			dec := NewStreamDecoder("up")
			enc := NewStreamEncoder(true)
			var out []byte
			r := sse.NewReader(bytes.NewReader(raw), 0)
			for {
				ev, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				c, done, err := dec.Decode(ev)
				if err != nil {
					t.Fatal(err)
				}
				if done {
					out = enc.AppendDone(out)
					break
				}
				if c != nil {
					if out, err = enc.AppendChunk(out, c); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := sseData(t, out)
			if len(got) != len(want) {
				t.Fatalf("got %d events, want %d:\n%s", len(got), len(want), out)
			}
			identical := 0
			for i := range want {
				if strings.Contains(want[i], `"role":`) || strings.Contains(want[i], `"usage":`) || want[i] == "[DONE]" {
					if diff := cmp.Diff(normalizeEvent(t, want[i]), normalizeEvent(t, got[i])); diff != "" {
						t.Errorf("event %d (-want +got):\n%s", i, diff)
					}
					continue
				}
				if got[i] != want[i] {
					t.Errorf("event %d differs:\nwant %s\n got %s", i, want[i], got[i])
				}
				identical++
			}
			if identical == 0 {
				t.Error("no event compared byte for byte")
			}
		})
	}
}

func TestStreamEncoderGolden(t *testing.T) {
	u1 := &llm.Usage{InputTokens: 120, CachedInputTokens: 100}
	u2 := &llm.Usage{InputTokens: 120, CachedInputTokens: 100, OutputTokens: 42, ReasoningTokens: 12}
	// A stream as the Anthropic adapter produces it: id only at the start,
	// usage twice, signatures and server-tool items the OpenAI wire cannot
	// show, a final delta that also carries usage.
	anthropic := []*llm.Chunk{
		{ID: "msg_01XFDUDYJgAACzvnptvVoYEL", Model: "claude-sonnet-4-5", Deltas: []llm.Delta{{Role: llm.RoleAssistant}}, Usage: u1},
		{Deltas: []llm.Delta{{Reasoning: "The user asks "}}},
		{Deltas: []llm.Delta{{Reasoning: "about \"weather\"."}}},
		{Deltas: []llm.Delta{{ReasoningSignature: "EqQBCgIYAhIM"}}},
		{Deltas: []llm.Delta{{Raw: json.RawMessage(`{"type":"content_block_start","index":2,"content_block":{"type":"server_tool_use"}}`), RawFormat: "anthropic"}}},
		{Deltas: []llm.Delta{{Text: "Checking.\n"}}},
		{Deltas: []llm.Delta{{ToolCalls: []llm.ToolCallDelta{{Index: 0, ID: "toolu_01", Type: "function", Name: "get_weather"}}}}},
		{Deltas: []llm.Delta{{ToolCalls: []llm.ToolCallDelta{{Index: 0, Arguments: `{"city":`}}}}},
		{Deltas: []llm.Delta{{ToolCalls: []llm.ToolCallDelta{{Index: 0, Arguments: ` "Oslo"}`}}}}},
		{Deltas: []llm.Delta{{ToolCalls: []llm.ToolCallDelta{{Index: 1, ID: "ctc_02", Type: "custom", Name: "sql", Arguments: "SELECT"}}}}},
		{Deltas: []llm.Delta{{ToolCalls: []llm.ToolCallDelta{{Index: 1, Arguments: " 1"}}}}},
		{Deltas: []llm.Delta{{FinishReason: llm.FinishToolCalls, StopSequence: ""}}, Usage: u2},
	}
	tests := []struct {
		name         string
		includeUsage bool
		chunks       []*llm.Chunk
	}{
		{"anthropic_with_usage", true, anthropic},
		{"anthropic_without_usage", false, anthropic},
		{"two_choices_in_one_chunk", true, []*llm.Chunk{
			{ID: "c", Model: "m", Created: 7, SystemFingerprint: "fp", ServiceTier: "default", Deltas: []llm.Delta{{Index: 0, Role: llm.RoleAssistant, Text: "a"}, {Index: 1, Role: llm.RoleAssistant, Refusal: "no"}}},
			{Deltas: []llm.Delta{{Index: 0, FinishReason: llm.FinishStop, Logprobs: json.RawMessage(`{"content":[],"refusal":null}`)}, {Index: 1, FinishReason: llm.FinishContentFilter}}},
		}},
		{"no_usage_reported", true, []*llm.Chunk{{ID: "c", Model: "m", Deltas: []llm.Delta{{Role: llm.RoleAssistant, Text: "x", FinishReason: llm.FinishStop}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := NewStreamEncoder(tc.includeUsage)
			var out []byte
			for _, c := range tc.chunks {
				var err error
				if out, err = enc.AppendChunk(out, c); err != nil {
					t.Fatal(err)
				}
			}
			out = enc.AppendDone(out)
			events := sseData(t, out)
			if events[len(events)-1] != "[DONE]" {
				t.Errorf("last event %q, want [DONE]", events[len(events)-1])
			}
			// Golden: the events as one JSON array.
			arr := []byte("[")
			for i, ev := range events {
				if i > 0 {
					arr = append(arr, ',')
				}
				if ev == "[DONE]" {
					ev = `"[DONE]"`
				}
				arr = append(arr, ev...)
			}
			arr = append(arr, ']')
			goldenJSON(t, filepath.Join("testdata/golden/stream_encode", tc.name+".json"), arr)
		})
	}
}

func TestStreamEncoderUsage(t *testing.T) {
	usage := &llm.Usage{InputTokens: 3, OutputTokens: 4}
	tests := []struct {
		name         string
		includeUsage bool
		chunk        *llm.Chunk
		wantChunk    string // what AppendChunk appends
		wantDone     string // what AppendDone appends
	}{
		{"usage-only chunk dropped without include_usage", false, &llm.Chunk{ID: "c", Model: "m", Usage: usage},
			``, "data: [DONE]\n\n"},
		{"usage-only chunk held for the end", true, &llm.Chunk{ID: "c", Model: "m", Usage: usage},
			``, `data: {"id":"c","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}` + "\n\ndata: [DONE]\n\n"},
		{"deltas with usage, without include_usage", false, &llm.Chunk{ID: "c", Model: "m", Usage: usage, Deltas: []llm.Delta{{FinishReason: llm.FinishStop}}},
			`data: {"id":"c","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}` + "\n\n",
			"data: [DONE]\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := NewStreamEncoder(tc.includeUsage)
			got, err := enc.AppendChunk([]byte("prefix|"), tc.chunk)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff("prefix|"+tc.wantChunk, string(got)); diff != "" {
				t.Errorf("AppendChunk (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantDone, string(enc.AppendDone(nil))); diff != "" {
				t.Errorf("AppendDone (-want +got):\n%s", diff)
			}
		})
	}
}
