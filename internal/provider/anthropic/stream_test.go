package anthropic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	codec "github.com/sluicehq/sluice/internal/codec/anthropic"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// streamed is what a client makes of a stream.
type streamed struct {
	ID, Model string
	Text      string
	Calls     []llm.ToolCall
	Finish    llm.FinishReason
	Usage     llm.Usage
}

// drain reads s to its end and returns what it said and the error that ended
// it (nil for io.EOF).
func drain(t *testing.T, s llm.Stream) (streamed, error) {
	t.Helper()
	defer s.Close()
	var out streamed
	for range 100000 {
		c, err := s.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out.ID += c.ID
		out.Model += c.Model
		if c.Usage != nil {
			out.Usage = *c.Usage
		}
		for _, d := range c.Deltas {
			out.Text += d.Text
			if d.FinishReason != "" {
				out.Finish = d.FinishReason
			}
			for _, tc := range d.ToolCalls {
				for len(out.Calls) <= tc.Index {
					out.Calls = append(out.Calls, llm.ToolCall{})
				}
				call := &out.Calls[tc.Index]
				call.ID += tc.ID
				call.Type += tc.Type
				call.Name += tc.Name
				call.Arguments += tc.Arguments
			}
		}
	}
	t.Fatal("stream did not end")
	return out, nil
}

var wantStreams = map[string]streamed{
	"basic_response.txt": {ID: "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK", Model: "claude-3-opus-latest", Text: "Hello there!",
		Finish: llm.FinishStop, Usage: llm.Usage{InputTokens: 11, OutputTokens: 6}},
	"tool_use_response.txt": {ID: "msg_019Q1hrJbZG26Fb9BQhrkHEr", Model: "claude-sonnet-4-20250514",
		Text:   "I'll check the current weather in Paris for you.",
		Calls:  []llm.ToolCall{{ID: "toolu_01NRLabsLyVHZPKxbKvkfSMn", Type: "function", Name: "get_weather", Arguments: `{"location": "Paris"}`}},
		Finish: llm.FinishToolCalls, Usage: llm.Usage{InputTokens: 377, OutputTokens: 65}},
}

// writeSplit writes b in pieces of n bytes, flushing after each, so the
// client reads events cut at arbitrary places.
func writeSplit(w http.ResponseWriter, b []byte, n int) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for len(b) > 0 {
		k := min(n, len(b))
		w.Write(b[:k])
		w.(http.Flusher).Flush()
		b = b[k:]
	}
}

// TestChatStreamFixtures replays recorded Anthropic streams over HTTP, cut
// into pieces of various sizes.
func TestChatStreamFixtures(t *testing.T) {
	for name, want := range wantStreams {
		for _, split := range []int{1, 2, 7, 61, 1 << 20} {
			t.Run(fmt.Sprintf("%s/split=%d", name, split), func(t *testing.T) {
				body := fixture(t, name)
				up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { writeSplit(w, body, split) })
				p := newProvider(t, provider.Config{BaseURL: up.URL})
				s, err := p.ChatStream(context.Background(), chatRequest())
				if err != nil {
					t.Fatal(err)
				}
				got, err := drain(t, s)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("stream (-want +got):\n%s", diff)
				}
				rec := <-up.reqs
				if rec.Body["stream"] != true || rec.Header.Get("Accept") != "text/event-stream" || rec.Header.Get("X-Api-Key") != testKey {
					t.Errorf("streamed request: stream=%v accept=%q key set=%v", rec.Body["stream"], rec.Header.Get("Accept"), rec.Header.Get("X-Api-Key") != "")
				}
			})
		}
	}
}

// TestSSEStreamOddReads runs the decoder under provider.SSEStream with
// readers that return one byte, or half of what was asked, at a time.
func TestSSEStreamOddReads(t *testing.T) {
	readers := map[string]func(io.Reader) io.Reader{
		"one byte": iotest.OneByteReader, "half": iotest.HalfReader, "data with EOF": iotest.DataErrReader,
	}
	for name, want := range wantStreams {
		for rname, wrap := range readers {
			t.Run(name+"/"+rname, func(t *testing.T) {
				body := io.NopCloser(wrap(bytes.NewReader(fixture(t, name))))
				s := provider.NewSSEStream(context.Background(), "claude", body, codec.NewStreamDecoder("claude"))
				got, err := drain(t, s)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("stream (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestChatStreamTruncated(t *testing.T) {
	body := fixture(t, "basic_response.txt")
	cut := bytes.LastIndex(body, []byte("event: message_stop"))
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { writeSplit(w, body[:cut], 5) })
	s, err := newProvider(t, provider.Config{BaseURL: up.URL}).ChatStream(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(t, s)
	if e := llmError(t, err); e.Code != "stream_truncated" || e.Status != http.StatusBadGateway || e.Provider != "claude" {
		t.Errorf("error = %+v, want a 502 stream_truncated from claude", e)
	}
	if got.Text != "Hello there!" {
		t.Errorf("text before the cut = %q, want all of it", got.Text)
	}
}

func TestChatStreamErrorEvent(t *testing.T) {
	body := []byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"m\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Par\"}}\n\n" +
		"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { writeSplit(w, body, 1<<20) })
	s, err := newProvider(t, provider.Config{BaseURL: up.URL}).ChatStream(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(t, s)
	e := llmError(t, err)
	if e.Status != http.StatusServiceUnavailable || e.Type != llm.TypeOverloaded || e.Message != "Overloaded" || !e.Retryable() {
		t.Errorf("error = %d %s %q retryable %v, want a retryable 503 overloaded_error", e.Status, e.Type, e.Message, e.Retryable())
	}
	if got.Text != "Par" {
		t.Errorf("text before the error = %q, want Par", got.Text)
	}
}

func TestChatStreamHTTPErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		ctype      string
		body       string
		wantStatus int
		wantCode   string
		wantRetry  time.Duration
	}{
		{"rate limited", 429, "application/json", `{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}`, 429, "", 3 * time.Second},
		{"overloaded", 529, "application/json", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, 503, "", 3 * time.Second},
		{"json instead of a stream", 200, "application/json", `{"type":"message"}`, 502, "invalid_upstream_response", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.Header().Set("Retry-After", "3")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := newProvider(t, provider.Config{BaseURL: up.URL}).ChatStream(context.Background(), chatRequest())
			e := llmError(t, err)
			if e.Status != tc.wantStatus || e.Code != tc.wantCode || e.RetryAfter != tc.wantRetry || e.Provider != "claude" {
				t.Errorf("error = %d %q retry %v provider %q, want %d %q retry %v provider claude",
					e.Status, e.Code, e.RetryAfter, e.Provider, tc.wantStatus, tc.wantCode, tc.wantRetry)
			}
		})
	}
}

// TestChatStreamCloseCancels: closing the stream early must abort the
// upstream request.
func TestChatStreamCloseCancels(t *testing.T) {
	aborted := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\",\"usage\":{}}}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(aborted)
	})
	s, err := newProvider(t, provider.Config{BaseURL: up.URL}).ChatStream(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Recv(); err != nil || c.ID != "msg_1" {
		t.Fatalf("first Recv = %+v, %v", c, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-aborted:
	case <-time.After(10 * time.Second): // a failure guard, not synchronisation
		t.Fatal("the upstream request was not cancelled by Close")
	}
}

// TestChatTimeout: a configured timeout bounds a call to an upstream that
// never answers.
func TestChatTimeout(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	p := newProvider(t, provider.Config{BaseURL: up.URL, Timeout: 50 * time.Millisecond})
	_, err := p.Chat(context.Background(), chatRequest())
	if e := llmError(t, err); e.Status != http.StatusGatewayTimeout || e.Code != "upstream_timeout" {
		t.Errorf("error = %d %q, want 504 upstream_timeout", e.Status, e.Code)
	}
}

// TestChatClientGone: a caller that cancels gets 499, not an upstream fault.
func TestChatClientGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	})
	_, err := newProvider(t, provider.Config{BaseURL: up.URL}).Chat(ctx, chatRequest())
	if e := llmError(t, err); e.Status != provider.StatusClientClosed || e.Fault != llm.FaultCaller || !errors.Is(e, context.Canceled) {
		t.Errorf("error = %d fault %s (%v), want 499 caller fault wrapping context.Canceled", e.Status, e.Fault, e)
	}
}
