package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// collect reads a stream to its end, assembling text and tool calls.
type collected struct {
	text   string
	calls  map[int]*llm.ToolCall
	finish llm.FinishReason
	usage  *llm.Usage
	chunks int
}

func collect(t *testing.T, s llm.Stream) (*collected, error) {
	t.Helper()
	c := &collected{calls: map[int]*llm.ToolCall{}}
	for {
		ch, err := s.Recv()
		if err != nil {
			if err == io.EOF {
				return c, nil
			}
			return c, err
		}
		c.chunks++
		if ch.Usage != nil {
			u := *ch.Usage
			c.usage = &u
		}
		for _, d := range ch.Deltas {
			c.text += d.Text
			if d.FinishReason != "" {
				c.finish = d.FinishReason
			}
			for _, tc := range d.ToolCalls {
				if c.calls[tc.Index] == nil {
					c.calls[tc.Index] = &llm.ToolCall{ID: tc.ID, Type: tc.Type, Name: tc.Name}
				}
				c.calls[tc.Index].Arguments += tc.Arguments
			}
		}
	}
}

func TestChatStream(t *testing.T) {
	for _, piece := range []int{1 << 20, 7, 1} {
		u := newUpstream(t, serveFile(t, "parallel_tool_calls.sse", piece))
		p := newProvider(t, u, nil)
		req := chatRequest()
		s, err := p.ChatStream(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := collect(t, s)
		if err != nil {
			t.Fatalf("piece %d: %v", piece, err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if req.Stream || req.IncludeUsage {
			t.Error("ChatStream modified the caller's request")
		}
		if got.finish != llm.FinishToolCalls || len(got.calls) != 2 ||
			got.calls[0].Name != "GetWeatherArgs" || got.calls[1].Name != "get_stock_price" {
			t.Fatalf("piece %d: assembled %+v", piece, got)
		}
		for i, c := range got.calls {
			if !json.Valid([]byte(c.Arguments)) {
				t.Errorf("call %d arguments %q", i, c.Arguments)
			}
		}
		if want := (&llm.Usage{InputTokens: 149, OutputTokens: 60}); !cmp.Equal(want, got.usage) {
			t.Errorf("usage %+v", got.usage)
		}
		sent := u.last(t)
		if sent.Header.Get("Accept") != "text/event-stream" || sent.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("headers %v", sent.Header)
		}
		var body struct {
			Stream        bool `json:"stream"`
			StreamOptions struct {
				IncludeUsage bool `json:"include_usage"`
			} `json:"stream_options"`
		}
		if err := json.Unmarshal(sent.Body, &body); err != nil || !body.Stream || !body.StreamOptions.IncludeUsage {
			t.Errorf("body %s", sent.Body)
		}
	}
}

func TestChatStreamEndings(t *testing.T) {
	full, err := os.ReadFile("testdata/text.sse")
	if err != nil {
		t.Fatal(err)
	}
	events := strings.SplitAfter(string(full), "\n\n")
	half := strings.Join(events[:len(events)/2], "")
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"cut mid-way", half, 502, "stream_truncated", "before it was complete"},
		{"cut inside an event is a truncation", half + events[len(events)/2][:30], 502, "stream_truncated", "ended the stream"},
		{"error event", half + `data: {"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}` + "\n\n",
			502, "", "The server had an error"},
		{"rate limited mid-stream", half + `data: {"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}` + "\n\n",
			429, "rate_limit_exceeded", "Rate limit reached"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Write([]byte(tc.body))
			})
			s, err := newProvider(t, u, nil).ChatStream(context.Background(), chatRequest())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := collect(t, s)
			if got.chunks == 0 || got.text == "" {
				t.Errorf("no content before the failure: %+v", got)
			}
			e := wantError(t, err, tc.wantStatus, tc.wantCode)
			if !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("message %q, want %q", e.Message, tc.wantMsg)
			}
			if _, again := s.Recv(); again != err {
				t.Errorf("the error is not sticky: %v then %v", err, again)
			}
		})
	}
}

// streamThenBlock sends the first event of a recorded stream and then
// holds the response open until the request is abandoned, reporting that.
func streamThenBlock(t *testing.T, abandoned chan struct{}) http.HandlerFunc {
	full, err := os.ReadFile("testdata/text.sse")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(full), "\n\n")
	var once sync.Once
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte(first + "\n\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		once.Do(func() { close(abandoned) })
	}
}

func TestChatStreamIdleTimeout(t *testing.T) {
	abandoned := make(chan struct{})
	u := newUpstream(t, streamThenBlock(t, abandoned))
	p := newProvider(t, u, func(c *provider.Config) { c.Timeout = 100 * time.Millisecond })
	s, err := p.ChatStream(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Recv(); err != nil {
		t.Fatalf("first chunk: %v", err)
	}
	_, err = s.Recv()
	wantError(t, err, 504, "upstream_timeout")
	waitFor(t, abandoned, "the upstream request to be abandoned")
}

// A stream that keeps sending is not cut by the timeout, however long it
// lasts: the timeout bounds silences, not streams.
func TestChatStreamTimeoutIsNotATotalBound(t *testing.T) {
	if testing.Short() {
		t.Skip("paced stream")
	}
	full, err := os.ReadFile("testdata/text.sse")
	if err != nil {
		t.Fatal(err)
	}
	events := strings.SplitAfter(string(full), "\n\n")
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i, ev := range events {
			w.Write([]byte(ev))
			w.(http.Flusher).Flush()
			if i < 5 {
				// Pacing the upstream, not synchronising: five gaps, each
				// well under the timeout, adding up to more than it.
				time.Sleep(400 * time.Millisecond)
			}
		}
	})
	p := newProvider(t, u, func(c *provider.Config) { c.Timeout = 1500 * time.Millisecond })
	s, err := p.ChatStream(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := collect(t, s)
	if err != nil {
		t.Fatalf("a steady stream longer than the timeout failed: %v", err)
	}
	if got.finish != llm.FinishStop {
		t.Errorf("finish %q", got.finish)
	}
}

func TestChatStreamCallerCancel(t *testing.T) {
	abandoned := make(chan struct{})
	u := newUpstream(t, streamThenBlock(t, abandoned))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := newProvider(t, u, nil).ChatStream(ctx, chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = s.Recv()
	wantError(t, err, provider.StatusClientClosed, "client_closed")
	waitFor(t, abandoned, "the upstream request to be cancelled")
}

func TestChatStreamCloseReleasesUpstream(t *testing.T) {
	abandoned := make(chan struct{})
	u := newUpstream(t, streamThenBlock(t, abandoned))
	s, err := newProvider(t, u, func(c *provider.Config) { c.Timeout = time.Hour }).ChatStream(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	waitFor(t, abandoned, "the upstream request to be released by Close")
	s.Close() // a second Close is harmless
	if _, err := s.Recv(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Recv after Close = %v, want an error", err)
	}
}
