package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

var streamFixtures = []string{
	"basic_response.txt", "tool_use_response.txt", "refusal_response.txt", "incomplete_partial_json_response.txt",
	"compaction_response.txt", "fallback_response.txt", "fallback_credit_response.txt",
	"thinking.sse", "web_search.sse", "overloaded.sse",
}

// decodeStream runs a StreamDecoder over an SSE stream and returns copies of
// the chunks, whether message_stop was seen, and the error that ended it.
func decodeStream(t testing.TB, stream []byte) (chunks []llm.Chunk, done bool, err error) {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(stream), 0)
	d := NewStreamDecoder("claude")
	for {
		ev, rerr := r.Next()
		if rerr == io.EOF {
			return chunks, false, nil
		}
		if rerr != nil {
			t.Fatal(rerr)
		}
		c, done, err := d.Decode(ev)
		if c != nil {
			chunks = append(chunks, copyChunk(c))
		}
		if done || err != nil {
			return chunks, done, err
		}
	}
}

// TestStreamDecoderGolden decodes recorded streams into canonical chunks.
func TestStreamDecoderGolden(t *testing.T) {
	for _, name := range streamFixtures {
		t.Run(name, func(t *testing.T) {
			chunks, done, err := decodeStream(t, readFile(t, filepath.Join("sse", name)))
			got := map[string]any{"chunks": canonicalJSON(t, chunks), "done": done}
			if err != nil {
				e := llmError(t, err)
				got["error"] = map[string]any{"status": e.Status, "type": e.Type, "message": e.Message, "provider": e.Provider}
			}
			golden(t, filepath.Join("sse", strings.TrimSuffix(name, filepath.Ext(name))+".chunks.golden.json"), jsonValue(t, mustJSON(t, got)))
		})
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// accumulate folds chunks into the canonical message they describe.
type accumulated struct {
	Text, Reasoning, Signature string
	Calls                      []llm.ToolCall
	Finish                     llm.FinishReason
	StopSequence               string
	Usage                      llm.Usage
	Raw                        int
}

func accumulate(chunks []llm.Chunk) accumulated {
	var a accumulated
	for _, c := range chunks {
		if c.Usage != nil {
			a.Usage = *c.Usage
		}
		for _, d := range c.Deltas {
			a.Text += d.Text
			a.Reasoning += d.Reasoning
			a.Signature += d.ReasoningSignature
			if d.Raw != nil {
				a.Raw++
			}
			if d.FinishReason != "" {
				a.Finish, a.StopSequence = d.FinishReason, d.StopSequence
			}
			for _, tc := range d.ToolCalls {
				for len(a.Calls) <= tc.Index {
					a.Calls = append(a.Calls, llm.ToolCall{})
				}
				c := &a.Calls[tc.Index]
				c.ID += tc.ID
				c.Name += tc.Name
				c.Type += tc.Type
				c.Arguments += tc.Arguments
			}
		}
	}
	return a
}

func TestStreamDecoderAccumulates(t *testing.T) {
	tests := []struct {
		file string
		want accumulated
	}{
		{"basic_response.txt", accumulated{Text: "Hello there!", Finish: llm.FinishStop,
			Usage: llm.Usage{InputTokens: 11, OutputTokens: 6}}},
		{"tool_use_response.txt", accumulated{Text: "I'll check the current weather in Paris for you.",
			Calls:  []llm.ToolCall{{ID: "toolu_01NRLabsLyVHZPKxbKvkfSMn", Type: "function", Name: "get_weather", Arguments: `{"location": "Paris"}`}},
			Finish: llm.FinishToolCalls, Usage: llm.Usage{InputTokens: 377, OutputTokens: 65}}},
		{"refusal_response.txt", accumulated{Finish: llm.FinishContentFilter, Usage: llm.Usage{InputTokens: 20}}},
		{"thinking.sse", accumulated{Text: "1001 = 7 × 11 × 13, so it is not prime.\n", Reasoning: "7 * 11 = 77; 77 * 13 = 1001.",
			Signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds", Finish: llm.FinishStop,
			Usage: llm.Usage{InputTokens: 2130, CachedInputTokens: 2000, CacheWriteTokens: 100, OutputTokens: 152}}},
		{"web_search.sse", accumulated{Text: "I'll search for that.It is sunny in NYC today.", Finish: llm.FinishStop, Raw: 6,
			Usage: llm.Usage{InputTokens: 2679, OutputTokens: 510}}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			chunks, done, err := decodeStream(t, readFile(t, filepath.Join("sse", tc.file)))
			if err != nil || !done {
				t.Fatalf("done=%v err=%v, want a complete stream", done, err)
			}
			if diff := cmp.Diff(tc.want, accumulate(chunks)); diff != "" {
				t.Errorf("accumulated stream (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStreamDecoderEvents(t *testing.T) {
	tests := []struct {
		name       string
		events     string // SSE
		wantChunks int
		wantStatus int // of the error, 0 for none
		wantType   string
	}{
		{"ping and unknown events", "event: ping\ndata: {\"type\":\"ping\"}\n\nevent: future\ndata: {\"type\":\"future\"}\n\nevent: ping\n\n", 0, 0, ""},
		{"invalid json", "event: content_block_delta\ndata: {\"type\":\n\n", 0, 502, llm.TypeAPI},
		{"overloaded", "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n", 0, 503, llm.TypeOverloaded},
		{"rate limited", "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}\n\n", 0, 429, llm.TypeRateLimit},
		{"api error", "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"boom\"}}\n\n", 0, 502, llm.TypeAPI},
		{"invalid request", "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"bad\"}}\n\n", 0, 400, llm.TypeInvalidRequest},
		{"error without detail", "event: error\ndata: {\"type\":\"error\"}\n\n", 0, 502, llm.TypeAPI},
		{"delta for unknown block", "data: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n", 0, 502, llm.TypeAPI},
		{"index far ahead", "data: {\"type\":\"content_block_start\",\"index\":100000,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n", 0, 502, llm.TypeAPI},
		{"start without block", "data: {\"type\":\"content_block_start\",\"index\":0}\n\n", 0, 502, llm.TypeAPI},
		{"tool without deltas gets empty object", "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\",\"input\":{}}}\n\n" +
			"data: {\"type\":\"content_block_stop\",\"index\":0}\n\n", 2, 0, ""},
		{"stop for unknown block", "data: {\"type\":\"content_block_stop\",\"index\":9}\n\n", 0, 0, ""},
		{"message_delta without anything", "data: {\"type\":\"message_delta\",\"delta\":{}}\n\n", 0, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chunks, _, err := decodeStream(t, []byte(tc.events))
			if len(chunks) != tc.wantChunks {
				t.Errorf("got %d chunks, want %d: %+v", len(chunks), tc.wantChunks, chunks)
			}
			if tc.wantStatus == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			e := llmError(t, err)
			if e.Status != tc.wantStatus || e.Type != tc.wantType || e.Provider != "claude" || e.Fault != llm.FaultProvider {
				t.Errorf("error = %d %s provider %q fault %s, want %d %s claude provider", e.Status, e.Type, e.Provider, e.Fault, tc.wantStatus, tc.wantType)
			}
		})
	}
}

func TestStreamDecoderToolWithoutDeltas(t *testing.T) {
	chunks, _, err := decodeStream(t, []byte(
		"data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\",\"input\":{}}}\n\n"+
			"data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"+
			"data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"u\",\"name\":\"m\",\"input\":{\"a\": 1}}}\n\n"+
			"data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.ToolCall{{ID: "t", Type: "function", Name: "n", Arguments: "{}"}, {ID: "u", Type: "function", Name: "m", Arguments: `{"a": 1}`}}
	if diff := cmp.Diff(want, accumulate(chunks).Calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// summary is a comparable digest of an Anthropic event stream: pings are
// left out, consecutive deltas of one kind for one block are joined, and
// usage is reduced to numbers (absent means 0).
type summaryEntry struct {
	Event      string
	Index      int
	Block      string // content_block_start: the block's type, or its JSON for blocks without canonical meaning
	ID, Name   string
	DeltaType  string
	Content    string // joined text, partial_json, thinking or signature; joined raw JSON otherwise
	StopReason string
	StopSeq    string
	Usage      [4]int // input, cache write, cache read, output
}

func summarize(t testing.TB, stream []byte) []summaryEntry {
	t.Helper()
	var out []summaryEntry
	r := sse.NewReader(bytes.NewReader(stream), 0)
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Type         string          `json:"type"`
			Index        int             `json:"index"`
			ContentBlock json.RawMessage `json:"content_block"`
			Delta        json.RawMessage `json:"delta"`
			Message      *struct {
				ID, Model string
				Usage     map[string]any `json:"usage"`
			} `json:"message"`
			Usage map[string]any `json:"usage"`
		}
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			t.Fatalf("event %s: %v", ev.Data, err)
		}
		if string(ev.Type) != e.Type {
			t.Errorf("SSE event name %q differs from data type %q", ev.Type, e.Type)
		}
		s := summaryEntry{Event: e.Type}
		switch e.Type {
		case "ping":
			continue
		case "message_start":
			s.ID, s.Name, s.Usage = e.Message.ID, e.Message.Model, usageDigest(e.Message.Usage)
		case "content_block_start":
			var b struct{ Type, ID, Name string }
			_ = json.Unmarshal(e.ContentBlock, &b)
			s.Index, s.Block, s.ID, s.Name = e.Index, b.Type, b.ID, b.Name
			if !knownBlock(b.Type) {
				s.Block = compactJSON(t, e.ContentBlock)
			}
		case "content_block_delta":
			var d map[string]any
			_ = json.Unmarshal(e.Delta, &d)
			typ, _ := d["type"].(string)
			text := ""
			switch typ {
			case "text_delta", "input_json_delta", "thinking_delta", "signature_delta":
				for _, k := range []string{"text", "partial_json", "thinking", "signature"} {
					if v, ok := d[k].(string); ok {
						text = v
					}
				}
			default:
				text = compactJSON(t, e.Delta)
			}
			if n := len(out); n > 0 && out[n-1].Event == e.Type && out[n-1].Index == e.Index && out[n-1].DeltaType == typ {
				out[n-1].Content += text
				continue
			}
			s.Index, s.DeltaType, s.Content = e.Index, typ, text
		case "content_block_stop":
			s.Index = e.Index
		case "message_delta":
			var d struct {
				StopReason   string `json:"stop_reason"`
				StopSequence string `json:"stop_sequence"`
			}
			_ = json.Unmarshal(e.Delta, &d)
			s.StopReason, s.StopSeq = d.StopReason, d.StopSequence
			s.Usage[3] = usageDigest(e.Usage)[3]
		}
		out = append(out, s)
	}
}

func usageDigest(u map[string]any) [4]int {
	var d [4]int
	for i, k := range []string{"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens"} {
		if v, ok := u[k].(float64); ok {
			d[i] = int(v)
		}
	}
	return d
}

func compactJSON(t testing.TB, raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("compact %s: %v", raw, err)
	}
	return b.String()
}

// dropEmptyBlocks removes text blocks that carry nothing (a start and a
// stop) and renumbers the rest: the canonical stream has no way to say
// "an empty block", so a re-encoded stream omits them.
func dropEmptyBlocks(in []summaryEntry) []summaryEntry {
	var out []summaryEntry
	shift := 0
	for i := 0; i < len(in); i++ {
		s := in[i]
		if s.Event == "content_block_start" && s.Block == "text" && i+1 < len(in) &&
			in[i+1].Event == "content_block_stop" && in[i+1].Index == s.Index {
			i++
			shift++
			continue
		}
		if s.Event == "content_block_start" || s.Event == "content_block_delta" || s.Event == "content_block_stop" {
			s.Index -= shift
		}
		out = append(out, s)
	}
	return out
}

// reencode decodes an Anthropic stream to canonical chunks and encodes them
// again with the StreamEncoder.
func reencode(t testing.TB, stream []byte) []byte {
	t.Helper()
	chunks, done, err := decodeStream(t, stream)
	if err != nil || !done {
		t.Fatalf("decode: done=%v err=%v", done, err)
	}
	enc := NewStreamEncoder("")
	var out []byte
	for i := range chunks {
		if out, err = enc.AppendChunk(out, &chunks[i]); err != nil {
			t.Fatalf("encode chunk %d: %v", i, err)
		}
	}
	return enc.AppendEnd(out)
}

// TestStreamCrossFormat decodes recorded Anthropic streams to canonical
// chunks and re-encodes them with the StreamEncoder: the event sequence
// (types, block indexes, joined text and tool input, stop reason, usage)
// must be the same.
func TestStreamCrossFormat(t *testing.T) {
	for _, name := range []string{
		"basic_response.txt", "tool_use_response.txt", "refusal_response.txt", "compaction_response.txt",
		"fallback_response.txt", "fallback_credit_response.txt", "thinking.sse", "web_search.sse",
	} {
		t.Run(name, func(t *testing.T) {
			orig := readFile(t, filepath.Join("sse", name))
			out := reencode(t, orig)
			want, got := dropEmptyBlocks(summarize(t, orig)), summarize(t, out)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("re-encoded stream differs (-want +got):\n%s\n%s", diff, out)
			}
			// The final usage also repeats the input tokens.
			inWant := want[0].Usage
			var last map[string]any
			forEachEvent(t, out, func(typ string, data []byte) {
				if typ == "message_delta" {
					var e struct{ Usage map[string]any }
					_ = json.Unmarshal(data, &e)
					last = e.Usage
				}
			})
			if got := usageDigest(last); got[0] != inWant[0] || got[1] != inWant[1] || got[2] != inWant[2] {
				t.Errorf("message_delta usage %v, want input tokens %v", got, inWant)
			}
		})
	}
}

// TestStreamCrossFormatUnclosedBlock: an upstream that sends message_delta
// with a block still open gets the block closed in the re-encoded stream.
func TestStreamCrossFormatUnclosedBlock(t *testing.T) {
	out := reencode(t, readFile(t, "sse/incomplete_partial_json_response.txt"))
	var types []string
	forEachEvent(t, out, func(typ string, _ []byte) { types = append(types, typ) })
	tail := strings.Join(types[len(types)-3:], " ")
	if tail != "content_block_stop message_delta message_stop" {
		t.Errorf("stream ends with %q, want the open block closed before message_delta", tail)
	}
}

func forEachEvent(t testing.TB, stream []byte, fn func(typ string, data []byte)) {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(stream), 0)
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		fn(string(ev.Type), ev.Data)
	}
}
