package gemini

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	codec "github.com/sluicehq/sluice/internal/codec/gemini"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// streamResult is everything a stream produced, in golden-file form.
type streamResult struct {
	Chunks []llm.Chunk
	Err    *errView
}

// drain reads s to the end, copying each chunk (the stream reuses them).
func drain(t *testing.T, s llm.Stream) streamResult {
	t.Helper()
	defer s.Close()
	var res streamResult
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return res
		}
		if err != nil {
			v := viewErr(t, err)
			res.Err = &v
			return res
		}
		cp := *c
		cp.Created = 0 // the codec's clock; not what these tests are about
		cp.Deltas = nil
		for _, d := range c.Deltas {
			d.ToolCalls = append([]llm.ToolCallDelta(nil), d.ToolCalls...)
			cp.Deltas = append(cp.Deltas, d)
		}
		if c.Usage != nil {
			u := *c.Usage
			cp.Usage = &u
		}
		res.Chunks = append(res.Chunks, cp)
	}
}

func fixtures(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/*.sse")
	if err != nil || len(files) == 0 {
		t.Fatalf("no stream fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".sse")] = b
	}
	return out
}

// awkwardWrites writes b in pieces of 1, 2, 3, 5, 8, … bytes, flushing
// each, so events, lines, CRLF pairs and UTF-8 sequences arrive split.
func awkwardWrites(w http.ResponseWriter, b []byte) {
	f := w.(http.Flusher)
	x, y := 1, 2
	for len(b) > 0 {
		n := min(x, len(b))
		w.Write(b[:n])
		f.Flush()
		b = b[n:]
		x, y = y, x+y
		if x > 64 {
			x, y = 1, 2
		}
	}
}

// TestChatStreamFixtures replays the recorded streams through a real HTTP
// upstream that writes them in awkward pieces, and compares the canonical
// chunks and the final error with golden files.
func TestChatStreamFixtures(t *testing.T) {
	for name, raw := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent" || r.URL.RawQuery != "alt=sse" {
					t.Errorf("stream request to %s?%s", r.URL.Path, r.URL.RawQuery)
				}
				if r.Header.Get("X-Goog-Api-Key") != testKey {
					t.Error("no API key header")
				}
				readBody(t, r)
				w.Header().Set("Content-Type", "text/event-stream")
				awkwardWrites(w, raw)
			})
			s, err := p.ChatStream(context.Background(), hello("gemini-2.5-flash"))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".golden.json", drain(t, s))
		})
	}
}

// TestStreamSplitAnywhere cuts every fixture at many byte offsets, the rest
// arriving a byte at a time: the chunks must not change.
func TestStreamSplitAnywhere(t *testing.T) {
	for name, raw := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			run := func(r io.Reader) streamResult {
				s := provider.NewSSEStream(context.Background(), "google", io.NopCloser(r), codec.NewStreamDecoder("google"))
				return drain(t, s)
			}
			want := run(bytes.NewReader(raw))
			for cut := 1; cut < len(raw); cut += 5 {
				got := run(io.MultiReader(bytes.NewReader(raw[:cut]), iotest.OneByteReader(bytes.NewReader(raw[cut:]))))
				// IDs are the fixture's responseId; nothing else may vary.
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("split at %d (-whole +split):\n%s", cut, diff)
				}
			}
		})
	}
}

// TestStreamOutcomes spells out what the golden files hold for each kind of
// ending.
func TestStreamOutcomes(t *testing.T) {
	fx := fixtures(t)
	tests := []struct {
		fixture    string
		wantFinish llm.FinishReason
		wantCode   string // final error code, "" for a clean end
		wantUsage  *llm.Usage
	}{
		{"text", llm.FinishStop, "", &llm.Usage{InputTokens: 9, OutputTokens: 35}},
		{"tool_call", llm.FinishToolCalls, "", &llm.Usage{InputTokens: 85, CachedInputTokens: 32, OutputTokens: 88, ReasoningTokens: 64}},
		{"safety", llm.FinishContentFilter, "", &llm.Usage{InputTokens: 14, OutputTokens: 5}},
		{"truncated", "", "stream_truncated", nil},
		{"error_midstream", "", "unavailable", nil},
		{"blocked", "", "content_filter", nil},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			s := provider.NewSSEStream(context.Background(), "google", io.NopCloser(bytes.NewReader(fx[tc.fixture])), codec.NewStreamDecoder("google"))
			res := drain(t, s)
			var finish llm.FinishReason
			var usage *llm.Usage
			usages := 0
			for _, c := range res.Chunks {
				for _, d := range c.Deltas {
					if d.FinishReason != "" {
						finish = d.FinishReason
					}
				}
				if c.Usage != nil {
					usage = c.Usage
					usages++
				}
			}
			code := ""
			if res.Err != nil {
				code = res.Err.Code
			}
			if finish != tc.wantFinish || code != tc.wantCode || usages > 1 {
				t.Errorf("finish %q, error %q, %d usage chunks; want %q, %q, at most 1", finish, code, usages, tc.wantFinish, tc.wantCode)
			}
			if diff := cmp.Diff(tc.wantUsage, usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChatStreamClientGone(t *testing.T) {
	fx := fixtures(t)
	release := make(chan struct{})
	p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		raw := fx["text"]
		first := bytes.Index(raw, []byte("\r\n\r\n")) + 4
		w.Write(raw[:first])
		w.(http.Flusher).Flush()
		select { // hold the stream open until the client goes away
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := p.ChatStream(ctx, hello("gemini-2.5-flash"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Recv(); err != nil {
		t.Fatalf("first chunk: %v", err)
	}
	cancel()
	_, err = s.Recv()
	if got := viewErr(t, err); got.Status != provider.StatusClientClosed || got.Code != "client_closed" {
		t.Errorf("after cancel: %+v, want 499 client_closed", got)
	}
}
