package anthropic

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

func textChunk(s string) *llm.Chunk { return &llm.Chunk{Deltas: []llm.Delta{{Text: s}}} }

func callChunk(calls ...llm.ToolCallDelta) *llm.Chunk {
	return &llm.Chunk{Deltas: []llm.Delta{{ToolCalls: calls}}}
}

func finishChunk(f llm.FinishReason) *llm.Chunk {
	return &llm.Chunk{Deltas: []llm.Delta{{FinishReason: f}}}
}

// TestStreamEncoderWire pins the exact bytes of a simple stream.
func TestStreamEncoderWire(t *testing.T) {
	e := NewStreamEncoder("claude-x")
	var out []byte
	for _, c := range []*llm.Chunk{
		{ID: "chatcmpl-1", Model: "gpt-4o", Deltas: []llm.Delta{{Role: llm.RoleAssistant}}},
		textChunk("Hi \"you\"\n"),
		finishChunk(llm.FinishStop),
		{Usage: &llm.Usage{InputTokens: 10, OutputTokens: 3, CachedInputTokens: 4}},
	} {
		var err error
		if out, err = e.AppendChunk(out, c); err != nil {
			t.Fatal(err)
		}
	}
	out = e.AppendEnd(out)
	want := `event: message_start
data: {"type":"message_start","message":{"id":"chatcmpl-1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi \"you\"\n"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":6,"cache_creation_input_tokens":0,"cache_read_input_tokens":4,"output_tokens":3}}

event: message_stop
data: {"type":"message_stop"}

`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("stream (-want +got):\n%s", diff)
	}
	if again := e.AppendEnd(nil); len(again) != 0 {
		t.Errorf("second AppendEnd appended %q", again)
	}
	if _, err := e.AppendChunk(nil, textChunk("late")); err == nil {
		t.Error("AppendChunk after AppendEnd: no error")
	}
}

func TestStreamEncoder(t *testing.T) {
	tests := []struct {
		name    string
		chunks  []*llm.Chunk
		want    []summaryEntry // message_start is checked apart
		wantErr string         // substring of the error of the last chunk
	}{
		{
			name: "interleaved tool calls wait for the open call to complete",
			chunks: []*llm.Chunk{
				callChunk(llm.ToolCallDelta{Index: 0, ID: "a", Name: "f"}),
				callChunk(llm.ToolCallDelta{Index: 1, ID: "b", Name: "g", Arguments: `{"b"`}),
				callChunk(llm.ToolCallDelta{Index: 0, Arguments: `{"a":"}"`}),
				callChunk(llm.ToolCallDelta{Index: 0, Arguments: `}`}),
				callChunk(llm.ToolCallDelta{Index: 1, Arguments: `:2}`}),
				finishChunk(llm.FinishToolCalls),
			},
			want: []summaryEntry{
				{Event: "content_block_start", Index: 0, Block: "tool_use", ID: "a", Name: "f"},
				{Event: "content_block_delta", Index: 0, DeltaType: "input_json_delta", Content: `{"a":"}"}`},
				{Event: "content_block_stop", Index: 0},
				{Event: "content_block_start", Index: 1, Block: "tool_use", ID: "b", Name: "g"},
				{Event: "content_block_delta", Index: 1, DeltaType: "input_json_delta", Content: `{"b":2}`},
				{Event: "content_block_stop", Index: 1},
				{Event: "message_delta", StopReason: "tool_use"},
				{Event: "message_stop"},
			},
		},
		{
			name: "a waiting call opens before a later one",
			chunks: []*llm.Chunk{
				callChunk(llm.ToolCallDelta{Index: 0, ID: "a", Name: "f", Arguments: `{"x":`}),
				callChunk(llm.ToolCallDelta{Index: 1, ID: "b", Name: "g", Arguments: `{"y":`}),
				callChunk(llm.ToolCallDelta{Index: 0, Arguments: `1}`}),
				callChunk(llm.ToolCallDelta{Index: 2, ID: "c", Name: "h", Arguments: `{}`}),
				callChunk(llm.ToolCallDelta{Index: 1, Arguments: `2}`}),
			},
			want: []summaryEntry{
				{Event: "content_block_start", Index: 0, Block: "tool_use", ID: "a", Name: "f"},
				{Event: "content_block_delta", Index: 0, DeltaType: "input_json_delta", Content: `{"x":1}`},
				{Event: "content_block_stop", Index: 0},
				{Event: "content_block_start", Index: 1, Block: "tool_use", ID: "b", Name: "g"},
				{Event: "content_block_delta", Index: 1, DeltaType: "input_json_delta", Content: `{"y":2}`},
				{Event: "content_block_stop", Index: 1},
				{Event: "content_block_start", Index: 2, Block: "tool_use", ID: "c", Name: "h"},
				{Event: "content_block_delta", Index: 2, DeltaType: "input_json_delta", Content: `{}`},
				{Event: "content_block_stop", Index: 2},
				{Event: "message_delta", StopReason: "tool_use"},
				{Event: "message_stop"},
			},
		},
		{
			name: "calls still buffered are written at the end",
			chunks: []*llm.Chunk{
				callChunk(llm.ToolCallDelta{Index: 0, ID: "a", Name: "f", Arguments: `{"x":`},
					llm.ToolCallDelta{Index: 1, ID: "b", Name: "g", Arguments: `{}`}),
				callChunk(llm.ToolCallDelta{Index: 0, Arguments: `1}`}),
			},
			want: []summaryEntry{
				{Event: "content_block_start", Index: 0, Block: "tool_use", ID: "a", Name: "f"},
				{Event: "content_block_delta", Index: 0, DeltaType: "input_json_delta", Content: `{"x":1}`},
				{Event: "content_block_stop", Index: 0},
				{Event: "content_block_start", Index: 1, Block: "tool_use", ID: "b", Name: "g"},
				{Event: "content_block_delta", Index: 1, DeltaType: "input_json_delta", Content: `{}`},
				{Event: "content_block_stop", Index: 1},
				{Event: "message_delta", StopReason: "tool_use"},
				{Event: "message_stop"},
			},
		},
		{
			name: "sequential calls after text stream live",
			chunks: []*llm.Chunk{
				textChunk("Let me check."),
				callChunk(llm.ToolCallDelta{Index: 0, ID: "a", Name: "f", Arguments: `{}`}),
				callChunk(llm.ToolCallDelta{Index: 1, ID: "b", Name: "g", Arguments: `{"q"`}),
				callChunk(llm.ToolCallDelta{Index: 1, Arguments: `:1}`}),
				finishChunk(llm.FinishToolCalls),
			},
			want: []summaryEntry{
				{Event: "content_block_start", Index: 0, Block: "text"},
				{Event: "content_block_delta", Index: 0, DeltaType: "text_delta", Content: "Let me check."},
				{Event: "content_block_stop", Index: 0},
				{Event: "content_block_start", Index: 1, Block: "tool_use", ID: "a", Name: "f"},
				{Event: "content_block_delta", Index: 1, DeltaType: "input_json_delta", Content: `{}`},
				{Event: "content_block_stop", Index: 1},
				{Event: "content_block_start", Index: 2, Block: "tool_use", ID: "b", Name: "g"},
				{Event: "content_block_delta", Index: 2, DeltaType: "input_json_delta", Content: `{"q":1}`},
				{Event: "content_block_stop", Index: 2},
				{Event: "message_delta", StopReason: "tool_use"},
				{Event: "message_stop"},
			},
		},
		{
			name: "arguments for a closed block",
			chunks: []*llm.Chunk{
				callChunk(llm.ToolCallDelta{Index: 0, ID: "a", Name: "f", Arguments: `{"x":`}),
				textChunk("interrupt"),
				callChunk(llm.ToolCallDelta{Index: 0, Arguments: `1}`}),
			},
			wantErr: "after its block was closed",
		},
		{
			name: "thinking blocks split at signatures, redacted whole",
			chunks: []*llm.Chunk{
				{Deltas: []llm.Delta{{Reasoning: "a"}}},
				{Deltas: []llm.Delta{{Reasoning: "b", ReasoningSignature: "sig1"}}},
				{Deltas: []llm.Delta{{Reasoning: "c"}}},
				{Deltas: []llm.Delta{{ReasoningSignature: "sig2"}}},
				{Deltas: []llm.Delta{{RedactedReasoning: "opaque"}}},
				{Deltas: []llm.Delta{{Text: "answer", FinishReason: llm.FinishStop, StopSequence: "##"}}},
			},
			want: []summaryEntry{
				{Event: "content_block_start", Index: 0, Block: "thinking"},
				{Event: "content_block_delta", Index: 0, DeltaType: "thinking_delta", Content: "ab"},
				{Event: "content_block_delta", Index: 0, DeltaType: "signature_delta", Content: "sig1"},
				{Event: "content_block_stop", Index: 0},
				{Event: "content_block_start", Index: 1, Block: "thinking"},
				{Event: "content_block_delta", Index: 1, DeltaType: "thinking_delta", Content: "c"},
				{Event: "content_block_delta", Index: 1, DeltaType: "signature_delta", Content: "sig2"},
				{Event: "content_block_stop", Index: 1},
				{Event: "content_block_start", Index: 2, Block: "redacted_thinking"},
				{Event: "content_block_stop", Index: 2},
				{Event: "content_block_start", Index: 3, Block: "text"},
				{Event: "content_block_delta", Index: 3, DeltaType: "text_delta", Content: "answer"},
				{Event: "content_block_stop", Index: 3},
				{Event: "message_delta", StopReason: "stop_sequence", StopSeq: "##"},
				{Event: "message_stop"},
			},
		},
		{
			name: "a citation after text starts a new block; refusals are text",
			chunks: []*llm.Chunk{
				textChunk("Plain. "),
				{Deltas: []llm.Delta{{Citation: json.RawMessage(`{"type":"char_location","cited_text":"x"}`), CitationFormat: "anthropic"}}},
				textChunk("Cited."),
				{Deltas: []llm.Delta{{Refusal: " No more."}}},
				finishChunk(llm.FinishContentFilter),
			},
			want: []summaryEntry{
				{Event: "content_block_start", Index: 0, Block: "text"},
				{Event: "content_block_delta", Index: 0, DeltaType: "text_delta", Content: "Plain. "},
				{Event: "content_block_stop", Index: 0},
				{Event: "content_block_start", Index: 1, Block: "text"},
				{Event: "content_block_delta", Index: 1, DeltaType: "citations_delta", Content: `{"type":"citations_delta","citation":{"type":"char_location","cited_text":"x"}}`},
				{Event: "content_block_delta", Index: 1, DeltaType: "text_delta", Content: "Cited. No more."},
				{Event: "content_block_stop", Index: 1},
				{Event: "message_delta", StopReason: "refusal"},
				{Event: "message_stop"},
			},
		},
		{
			name: "other choices are ignored; no finish without tools is end_turn",
			chunks: []*llm.Chunk{
				{Deltas: []llm.Delta{{Index: 1, Text: "other"}, {Index: 0, Text: "mine"}}},
			},
			want: []summaryEntry{
				{Event: "content_block_start", Index: 0, Block: "text"},
				{Event: "content_block_delta", Index: 0, DeltaType: "text_delta", Content: "mine"},
				{Event: "content_block_stop", Index: 0},
				{Event: "message_delta", StopReason: "end_turn"},
				{Event: "message_stop"},
			},
		},
		{
			name: "content after the stop reason",
			chunks: []*llm.Chunk{
				{Deltas: []llm.Delta{{FinishReason: llm.FinishStop}}, Usage: &llm.Usage{OutputTokens: 1}},
				textChunk("late"),
			},
			wantErr: "after the message's stop reason",
		},
		{
			name:    "tool index out of range",
			chunks:  []*llm.Chunk{callChunk(llm.ToolCallDelta{Index: maxStreamTools})},
			wantErr: "out of range",
		},
		{
			name:   "no chunks at all",
			chunks: nil,
			want: []summaryEntry{
				{Event: "message_delta", StopReason: "end_turn"},
				{Event: "message_stop"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewStreamEncoder("m")
			var out []byte
			var err error
			for _, c := range tc.chunks {
				if out, err = e.AppendChunk(out, c); err != nil {
					break
				}
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out = e.AppendEnd(out)
			got := summarize(t, out)
			if got[0].Event != "message_start" || got[0].Name != "m" || !strings.HasPrefix(got[0].ID, "msg_") {
				t.Errorf("first event = %+v, want message_start for model m with a msg_ id", got[0])
			}
			if diff := cmp.Diff(tc.want, got[1:]); diff != "" {
				t.Errorf("events (-want +got):\n%s\n%s", diff, out)
			}
		})
	}
}

// TestStreamEncoderUsageTiming: usage that arrives with or after the finish
// reason writes message_delta at once; AppendEnd then only stops.
func TestStreamEncoderUsageTiming(t *testing.T) {
	e := NewStreamEncoder("")
	out, err := e.AppendChunk(nil, &llm.Chunk{ID: "msg_1", Model: "claude", Usage: &llm.Usage{InputTokens: 50, CachedInputTokens: 20, OutputTokens: 1},
		Deltas: []llm.Delta{{Role: llm.RoleAssistant}}})
	if err != nil {
		t.Fatal(err)
	}
	if s := summarize(t, out); len(s) != 1 || s[0].Usage != [4]int{30, 0, 20, 1} || s[0].Name != "claude" || s[0].ID != "msg_1" {
		t.Fatalf("message_start = %+v, want input 30 (50 minus 20 cached), model and id of the chunk", s)
	}
	out, err = e.AppendChunk(nil, &llm.Chunk{Deltas: []llm.Delta{{FinishReason: llm.FinishLength}},
		Usage: &llm.Usage{InputTokens: 50, CachedInputTokens: 20, OutputTokens: 99}})
	if err != nil {
		t.Fatal(err)
	}
	want := []summaryEntry{{Event: "message_delta", StopReason: "max_tokens", Usage: [4]int{0, 0, 0, 99}}}
	if diff := cmp.Diff(want, summarize(t, out)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// A later usage-only chunk changes nothing; AppendEnd only stops.
	if out, err = e.AppendChunk(nil, &llm.Chunk{Usage: &llm.Usage{OutputTokens: 1}}); err != nil || len(out) != 0 {
		t.Errorf("usage after message_delta: %q, %v; want nothing", out, err)
	}
	if end := string(e.AppendEnd(nil)); end != "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n" {
		t.Errorf("AppendEnd = %q, want only message_stop", end)
	}
}

func TestStreamEncoderRawEvents(t *testing.T) {
	e := NewStreamEncoder("m")
	raw := func(s string) *llm.Chunk {
		return &llm.Chunk{Deltas: []llm.Delta{{Raw: json.RawMessage(s), RawFormat: Format}}}
	}
	var out []byte
	for _, c := range []*llm.Chunk{
		textChunk("a"),
		raw(`{"type":"content_block_start","index":7,"content_block":{"type":"server_tool_use","id":"s","name":"web_search","input":{}}}`),
		raw(`{"type":"content_block_delta","index":7,"delta":{"type":"input_json_delta","partial_json":"{}"}}`),
		raw(`{"type":"content_block_stop","index":7}`),
		{Deltas: []llm.Delta{{Raw: json.RawMessage(`{"type":"content_block_start"}`), RawFormat: "gemini"}}},
	} {
		var err error
		if out, err = e.AppendChunk(out, c); err != nil {
			t.Fatal(err)
		}
	}
	want := []summaryEntry{
		{Event: "content_block_start", Index: 0, Block: "text"},
		{Event: "content_block_delta", Index: 0, DeltaType: "text_delta", Content: "a"},
		{Event: "content_block_stop", Index: 0},
		{Event: "content_block_start", Index: 1, Block: `{"type":"server_tool_use","id":"s","name":"web_search","input":{}}`, ID: "s", Name: "web_search"},
		{Event: "content_block_delta", Index: 1, DeltaType: "input_json_delta", Content: "{}"},
		{Event: "content_block_stop", Index: 1},
	}
	if diff := cmp.Diff(want, summarize(t, out)[1:]); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
