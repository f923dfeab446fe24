package gateway_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/gateway"
	"github.com/sluicehq/sluice/internal/store"
)

// cannedTransport answers every upstream request with a fixed OpenAI
// answer, so the benchmarks measure the gateway alone: no sockets, no
// upstream work.
type cannedTransport struct{}

const cannedJSON = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris. It has been the capital for centuries."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":42,"completion_tokens":17,"total_tokens":59,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`

var cannedSSE = func() string {
	var b strings.Builder
	b.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n")
	for _, w := range strings.Fields("The capital of France is Paris and it has been for centuries .") {
		b.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"` + w + ` "},"finish_reason":null}]}` + "\n\n")
	}
	b.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n")
	b.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":42,"completion_tokens":17,"total_tokens":59}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.String()
}()

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Request: r, ProtoMajor: 1, ProtoMinor: 1}
	if bytes.Contains(body, []byte(`"stream":true`)) {
		resp.Header.Set("Content-Type", "text/event-stream")
		resp.Body = io.NopCloser(strings.NewReader(cannedSSE))
	} else {
		resp.Header.Set("Content-Type", "application/json")
		resp.Body = io.NopCloser(strings.NewReader(cannedJSON))
	}
	return resp, nil
}

// benchRequest is a typical chat request: a system prompt, a short
// history, a tool, some sampling parameters (about 1 KB).
const benchRequest = `{"model":"bench","temperature":0.2,"max_tokens":256,"user":"u-123",
"messages":[{"role":"system","content":"You are a helpful assistant that answers geography questions concisely and accurately."},
{"role":"user","content":"What is the capital of Germany?"},{"role":"assistant","content":"The capital of Germany is Berlin."},
{"role":"user","content":"And what is the capital of France? Please answer in one sentence."}],
"tools":[{"type":"function","function":{"name":"lookup_city","description":"Look up facts about a city","parameters":{"type":"object","properties":{"city":{"type":"string"},"fields":{"type":"array","items":{"type":"string"}}},"required":["city"]}}}]STREAM}`

// benchGateway builds the gateway under benchmark. With recorded, every
// request is recorded as in production: metrics, and the request log
// through the pipeline into SQLite (the benchmark measures the request
// path, where logging is a queue push; the writer runs alongside). With
// keyed, a gateway key is required (and sent) too.
func benchGateway(b *testing.B, recorded, keyed bool) http.Handler {
	b.Helper()
	text := `
log: { level: warn }
auth: { require_keys: false }
metrics: { enabled: false }
request_log: { enabled: false }
providers: [ { name: up, type: openai, base_url: "http://upstream.invalid/v1", api_key: k } ]
models: [ { name: bench, targets: [ { provider: up, model: gpt-4o-mini } ] } ]
`
	if recorded {
		text = strings.NewReplacer("metrics: { enabled: false }", "", "request_log: { enabled: false }",
			"server: { data_dir: \""+b.TempDir()+"\" }").Replace(text)
	}
	if keyed {
		text = strings.Replace(text, "require_keys: false", "require_keys: true", 1)
	}
	cfg, err := config.Parse([]byte(text), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := gateway.Options{Logger: log}
	if recorded {
		svc, err := gateway.OpenServices(context.Background(), cfg, log)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			st := svc.Records.Stats()
			svc.Close(context.Background())
			if st.Dropped != 0 {
				b.Errorf("%d records dropped", st.Dropped)
			}
		})
		opts = svc.Options(log, "")
		if keyed {
			if err := svc.Store.CreateKey(context.Background(), &store.Key{ID: "key_bench", Name: "bench",
				Hash: auth.HashKey(benchKey), Prefix: auth.DisplayPrefix(benchKey)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	opts.Client = &http.Client{Transport: cannedTransport{}}
	g, err := gateway.New(cfg, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(g.Close)
	return g.Handler()
}

// benchKey is the gateway key of the "production" variant.
const benchKey = "sk-sluice-Bench0123456789abcdefghijklmnopqrstuvwxyzAB"

func benchChat(b *testing.B, stream string, wantSuffix string) {
	for _, mode := range []struct {
		name            string
		recorded, keyed bool
	}{{"bare", false, false}, {"recorded", true, false}, {"production", true, true}} {
		b.Run(mode.name, func(b *testing.B) {
			h := benchGateway(b, mode.recorded, mode.keyed)
			body := strings.Replace(benchRequest, "STREAM", stream, 1)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+benchKey)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 || !strings.HasSuffix(rec.Body.String(), wantSuffix) {
					b.Fatalf("%d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkChatCompletion is one non-streamed chat request through the
// whole gateway: middleware, decode, pipeline, router, adapter encode,
// upstream decode, response encode; "recorded" adds metrics and the
// request log.
func BenchmarkChatCompletion(b *testing.B) { benchChat(b, "", "}") }

// BenchmarkChatCompletionStream is one streamed chat request (15 chunks and
// a usage chunk) through the whole gateway.
func BenchmarkChatCompletionStream(b *testing.B) {
	benchChat(b, `,"stream":true,"stream_options":{"include_usage":true}`, "data: [DONE]\n\n")
}

// BenchmarkReverseProxy is the floor the gateway's benchmarks are read
// against: the same request and canned answer through the standard
// library's reverse proxy (what the harness's "Go httputil.ReverseProxy"
// row runs), which copies bytes and understands nothing.
func BenchmarkReverseProxy(b *testing.B) {
	target, _ := url.Parse("http://upstream.invalid/v1")
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport, rp.BufferPool = cannedTransport{}, &copyBuffers{} // as the harness's proxy
	body := strings.Replace(benchRequest, "STREAM", "", 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+benchKey)
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.HasSuffix(rec.Body.String(), "}") {
			b.Fatalf("%d: %s", rec.Code, rec.Body)
		}
	}
}

// copyBuffers recycles the reverse proxy's copy buffers.
type copyBuffers struct{ p sync.Pool }

func (c *copyBuffers) Get() []byte {
	if b, ok := c.p.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (c *copyBuffers) Put(b []byte) { c.p.Put(&b) }
