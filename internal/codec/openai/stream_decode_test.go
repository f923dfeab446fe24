package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/sse"
)

// streamFixtures are the recorded OpenAI streams.
func streamFixtures(t testing.TB) []string { return fixtures(t, "testdata/streams/*.sse") }

// recvAll reads s to its end. Each chunk is snapshotted as JSON at once:
// the stream reuses it.
func recvAll(t testing.TB, s llm.Stream) ([]json.RawMessage, error) {
	t.Helper()
	var out []json.RawMessage
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

func sseStream(r io.Reader) *provider.SSEStream {
	return provider.NewSSEStream(context.Background(), "up", io.NopCloser(r), NewStreamDecoder("up"))
}

func TestStreamDecoderGolden(t *testing.T) {
	for _, path := range streamFixtures(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".sse")
		t.Run(name, func(t *testing.T) {
			raw := readFile(t, path)
			want, err := recvAll(t, sseStream(bytes.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			if name != "long" {
				goldenValue(t, filepath.Join("testdata/golden/stream_decode", name+".json"), want)
			}
			// The same stream split at awkward places gives the same chunks.
			step := max(61, len(raw)/50)
			for cut := 1; cut < len(raw); cut += step {
				r := io.MultiReader(iotest.OneByteReader(bytes.NewReader(raw[:cut])), iotest.HalfReader(bytes.NewReader(raw[cut:])))
				got, err := recvAll(t, sseStream(r))
				if err != nil {
					t.Fatalf("split at %d: %v", cut, err)
				}
				if !slices.EqualFunc(want, got, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
					t.Fatalf("split at %d (-want +got):\n%s", cut, cmp.Diff(want, got))
				}
			}
		})
	}
}

// assembled is what a client builds from a stream.
type assembled struct {
	Text, Refusal string
	Calls         map[int]*llm.ToolCall
	Finish        llm.FinishReason
}

func assemble(t *testing.T, s llm.Stream) (map[int]*assembled, *llm.Usage) {
	t.Helper()
	out := map[int]*assembled{}
	var usage *llm.Usage
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return out, usage
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.Usage != nil {
			u := *c.Usage
			usage = &u
		}
		for _, d := range c.Deltas {
			a := out[d.Index]
			if a == nil {
				a = &assembled{Calls: map[int]*llm.ToolCall{}}
				out[d.Index] = a
			}
			a.Text += d.Text
			a.Refusal += d.Refusal
			if d.FinishReason != "" {
				a.Finish = d.FinishReason
			}
			for _, tc := range d.ToolCalls {
				call := a.Calls[tc.Index]
				if call == nil {
					call = &llm.ToolCall{ID: tc.ID, Type: tc.Type, Name: tc.Name}
					a.Calls[tc.Index] = call
				}
				call.Arguments += tc.Arguments
			}
		}
	}
}

func TestStreamDecoderAssembles(t *testing.T) {
	open := func(name string) llm.Stream {
		return sseStream(bytes.NewReader(readFile(t, "testdata/streams/"+name)))
	}
	t.Run("parallel tool calls", func(t *testing.T) {
		got, usage := assemble(t, open("parallel_tool_calls.sse"))
		a := got[0]
		if a.Finish != llm.FinishToolCalls || len(a.Calls) != 2 {
			t.Fatalf("finish %q, %d calls", a.Finish, len(a.Calls))
		}
		for i, name := range []string{"GetWeatherArgs", "get_stock_price"} {
			c := a.Calls[i]
			if c.Name != name || c.Type != "function" || !strings.HasPrefix(c.ID, "call_") || !json.Valid([]byte(c.Arguments)) {
				t.Errorf("call %d = %+v", i, c)
			}
		}
		if want := (&llm.Usage{InputTokens: 149, OutputTokens: 60}); !cmp.Equal(want, usage) {
			t.Errorf("usage = %+v, want %+v", usage, want)
		}
	})
	t.Run("refusal", func(t *testing.T) {
		got, _ := assemble(t, open("refusal.sse"))
		if want := "I'm sorry, I can't assist with that request."; got[0].Refusal != want || got[0].Text != "" {
			t.Errorf("refusal %q text %q", got[0].Refusal, got[0].Text)
		}
	})
	t.Run("three choices", func(t *testing.T) {
		got, _ := assemble(t, open("n3.sse"))
		if len(got) != 3 {
			t.Fatalf("%d choices", len(got))
		}
		for i := range 3 {
			if !json.Valid([]byte(got[i].Text)) || got[i].Finish != llm.FinishStop {
				t.Errorf("choice %d: %+v", i, got[i])
			}
		}
	})
	t.Run("length", func(t *testing.T) {
		got, _ := assemble(t, open("length.sse"))
		if got[0].Finish != llm.FinishLength || got[0].Text != `{"` {
			t.Errorf("%+v", got[0])
		}
	})
}

func TestStreamDecoderEvents(t *testing.T) {
	const head = `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":`
	tests := []struct {
		name      string
		stream    string
		want      []string // chunks as JSON, compared parsed
		wantErr   *llm.Error
		truncated bool
	}{
		{"done ends the stream", "data: " + head + `[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n",
			[]string{`{"ID":"c1","Model":"m","Created":1,"Deltas":[{"Index":0,"Role":"","Text":"hi","Reasoning":"","ReasoningSignature":"","RedactedReasoning":"","Refusal":"","ToolCalls":null,"FinishReason":"stop","StopSequence":"","Logprobs":null,"Citation":null}],"Usage":null,"SystemFingerprint":"","ServiceTier":""}`}, nil, false},
		{"missing done is truncation", "data: " + head + `[{"index":0,"delta":{"content":"hi"}}]}` + "\n\n",
			[]string{`{"ID":"c1","Model":"m","Created":1,"Deltas":[{"Index":0,"Role":"","Text":"hi","Reasoning":"","ReasoningSignature":"","RedactedReasoning":"","Refusal":"","ToolCalls":null,"FinishReason":"","StopSequence":"","Logprobs":null,"Citation":null}],"Usage":null,"SystemFingerprint":"","ServiceTier":""}`}, nil, true},
		{"comments, empty data and empty choices are skipped", ": OPENROUTER PROCESSING\n\ndata:\n\n" +
			"data: " + `{"id":"","object":"","created":0,"model":"","choices":[],"prompt_filter_results":[{"prompt_index":0}]}` + "\n\n" +
			"data: " + head + `[{"index":0,"delta":{},"content_filter_results":{}}]}` + "\n\ndata: [DONE]\n\n", nil, nil, false},
		{"reasoning content and groq usage", "data: " + head + `[{"index":0,"delta":{"reasoning_content":"hmm"}}],"x_groq":{"usage":{"prompt_tokens":3,"completion_tokens":4}}}` + "\n\ndata: [DONE]\n\n",
			[]string{`{"ID":"c1","Model":"m","Created":1,"Deltas":[{"Index":0,"Role":"","Text":"","Reasoning":"hmm","ReasoningSignature":"","RedactedReasoning":"","Refusal":"","ToolCalls":null,"FinishReason":"","StopSequence":"","Logprobs":null,"Citation":null}],"Usage":{"InputTokens":3,"OutputTokens":4,"CachedInputTokens":0,"CacheWriteTokens":0,"ReasoningTokens":0,"AudioInputTokens":0,"AudioOutputTokens":0},"SystemFingerprint":"","ServiceTier":""}`}, nil, false},
		{"error object mid-stream", "data: " + head + `[{"index":0,"delta":{"content":"a"}}]}` + "\n\n" +
			`data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}` + "\n\n",
			[]string{`{"ID":"c1","Model":"m","Created":1,"Deltas":[{"Index":0,"Role":"","Text":"a","Reasoning":"","ReasoningSignature":"","RedactedReasoning":"","Refusal":"","ToolCalls":null,"FinishReason":"","StopSequence":"","Logprobs":null,"Citation":null}],"Usage":null,"SystemFingerprint":"","ServiceTier":""}`},
			&llm.Error{Status: 502, Type: "server_error", Message: "The server had an error while processing your request."}, false},
		{"rate limit mid-stream", `data: {"error":{"message":"Rate limit reached","type":"tokens","code":"rate_limit_exceeded"}}` + "\n\n", nil,
			&llm.Error{Status: 429, Type: llm.TypeRateLimit, Code: "rate_limit_exceeded", Message: "Rate limit reached"}, false},
		{"numeric code mid-stream", `data: {"id":"x","choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}],"error":{"code":503,"message":"Provider overloaded"}}` + "\n\n", nil,
			&llm.Error{Status: 503, Type: llm.TypeOverloaded, Message: "Provider overloaded"}, false},
		{"error event type", "event: error\ndata: {\"message\":\"boom\"}\n\n", nil,
			&llm.Error{Status: 502, Type: llm.TypeAPI, Message: "boom"}, false},
		{"invalid JSON event", "data: {\"id\":\n\n", nil,
			&llm.Error{Status: 502, Type: llm.TypeAPI, Code: "invalid_stream_event", Message: "the provider sent a stream event the gateway could not read"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := recvAll(t, sseStream(strings.NewReader(tc.stream)))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d chunks, want %d: %s", len(got), len(tc.want), got)
			}
			for i := range got {
				if diff := cmp.Diff(prune(parseJSON(t, []byte(tc.want[i]))), prune(parseJSON(t, got[i]))); diff != "" {
					t.Errorf("chunk %d (-want +got):\n%s", i, diff)
				}
			}
			switch {
			case tc.truncated:
				var e *llm.Error
				if !errors.As(err, &e) || e.Code != "stream_truncated" {
					t.Errorf("err = %v, want stream_truncated", err)
				}
			case tc.wantErr != nil:
				var e *llm.Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v, want an *llm.Error", err)
				}
				w := tc.wantErr
				if e.Status != w.Status || e.Type != w.Type || e.Code != w.Code || e.Message != w.Message ||
					e.Provider != "up" || e.Fault != llm.FaultProvider {
					t.Errorf("err = %d %q %q %q provider %q fault %v; want %d %q %q %q provider up",
						e.Status, e.Type, e.Code, e.Message, e.Provider, e.Fault, w.Status, w.Type, w.Code, w.Message)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			}
		})
	}
}

// The decoder must not keep slices of an event: the SSE reader reuses them.
func TestStreamDecoderCopiesEventData(t *testing.T) {
	d := NewStreamDecoder("up")
	data := []byte(`{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"hello"},"logprobs":{"content":[]}}]}`)
	c, _, err := d.Decode(&sse.Event{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = ' '
	}
	if c.ID != "c" || c.Deltas[0].Text != "hello" || string(c.Deltas[0].Logprobs) != `{"content":[]}` {
		t.Errorf("chunk changed with the event buffer: %+v", c)
	}
}

func TestStreamDecoderRejectsTrailingData(t *testing.T) {
	d := NewStreamDecoder("up")
	ok := &sse.Event{Data: []byte(`{"id":"c","choices":[{"index":0,"delta":{"content":"a"}}]}`)}
	if _, _, err := d.Decode(ok); err != nil {
		t.Fatal(err)
	}
	_, _, err := d.Decode(&sse.Event{Data: []byte(`{"id":"c","choices":[]} {"x":1}`)})
	var e *llm.Error
	if !errors.As(err, &e) || e.Code != "invalid_stream_event" {
		t.Fatalf("err = %v, want invalid_stream_event", err)
	}
	// The decoder is still usable for a well-formed event afterwards.
	c, _, err := d.Decode(ok)
	if err != nil || c.Deltas[0].Text != "a" {
		t.Fatalf("after an error: %+v, %v", c, err)
	}
}
