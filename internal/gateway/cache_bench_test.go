package gateway_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/gateway"
	"github.com/sluicehq/sluice/internal/mock"
)

// handlerTransport serves upstream requests from an in-process handler
// (the mock), with no sockets.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// cacheBenchPrompt is echoed by the mock: a ~2 KB answer.
var cacheBenchPrompt = strings.Repeat("Paris has been the capital of France for most of its history. ", 32)

// BenchmarkCacheHit is one chat request served from the memory cache
// through the whole gateway (middleware, decode, pipeline, key, lookup,
// decode of the entry, encode of the answer): a ~2 KB answer, whole and
// replayed as a stream. Only the first request (before the timer) reaches
// the mock.
func BenchmarkCacheHit(b *testing.B) {
	text := `
log: { level: warn }
auth: { require_keys: false }
metrics: { enabled: false }
request_log: { enabled: false }
providers: [ { name: up, type: openai, base_url: "http://upstream.invalid/v1", api_key: k } ]
models: [ { name: bench, targets: [ { provider: up, model: gpt-4o-mini } ] } ]
cache: { enabled: true }
`
	cfg, err := config.Parse([]byte(text), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	m := mock.New(mock.Options{})
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	g, err := gateway.New(cfg, gateway.Options{Logger: log, Client: &http.Client{Transport: handlerTransport{m}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(g.Close)
	h := g.Handler()
	send := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := send(chatRequest("bench", cacheBenchPrompt, false)); rec.Code != 200 || rec.Header().Get("X-Sluice-Cache") != "MISS" {
		b.Fatalf("warm-up: %d %q: %s", rec.Code, rec.Header().Get("X-Sluice-Cache"), rec.Body)
	}
	for _, tc := range []struct {
		name   string
		stream bool
		suffix string
	}{{"whole", false, "}"}, {"stream", true, "data: [DONE]\n\n"}} {
		b.Run(tc.name, func(b *testing.B) {
			body := chatRequest("bench", cacheBenchPrompt, tc.stream)
			b.ReportAllocs()
			for b.Loop() {
				rec := send(body)
				if rec.Code != 200 || rec.Header().Get("X-Sluice-Cache") != "HIT" || !strings.HasSuffix(rec.Body.String(), tc.suffix) {
					b.Fatalf("%d %q: %s", rec.Code, rec.Header().Get("X-Sluice-Cache"), rec.Body)
				}
			}
			b.SetBytes(int64(len(cacheBenchPrompt)))
		})
	}
	if n := m.Stats().Requests; n != 1 {
		b.Errorf("the mock saw %d requests, want 1 (the warm-up)", n)
	}
}
