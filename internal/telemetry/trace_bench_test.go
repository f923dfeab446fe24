package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// BenchmarkStartRequestDisabled is the whole per-request tracing cost
// when tracing is off: request and attempt spans started and ended.
func BenchmarkStartRequestDisabled(b *testing.B) {
	tr, err := NewTracer(context.Background(), TraceConfig{})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	req.Header.Set("traceparent", "00-"+traceTestTraceID+"-"+traceTestSpanID+"-01")
	rec := &store.Record{Status: 200, PromptTokens: 10, CompletionTokens: 20}
	b.ReportAllocs()
	for b.Loop() {
		ctx, span := tr.StartRequest(req.Context(), req, "/v1/chat/completions")
		_, attempt := tr.StartAttempt(ctx, "chat", "openai", "gpt-4o")
		EndAttempt(attempt, nil, llm.Usage{InputTokens: 10, OutputTokens: 20}, "gpt-4o")
		EndRequest(span, rec)
	}
}

// BenchmarkStartRequestEnabled is the same with tracing on and every
// span sampled, exported in batches to a discarding exporter.
func BenchmarkStartRequestEnabled(b *testing.B) {
	tr, err := NewTracer(context.Background(), TraceConfig{Enabled: true, Exporter: tracetest.NewNoopExporter()})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Shutdown(context.Background())
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	req.Header.Set("traceparent", "00-"+traceTestTraceID+"-"+traceTestSpanID+"-01")
	rec := &store.Record{ID: "req_1", Status: 200, ModelRequested: "gpt-4o", Model: "gpt-4o", Provider: "openai",
		PromptTokens: 10, CompletionTokens: 20, CostMicros: 40}
	b.ReportAllocs()
	for b.Loop() {
		ctx, span := tr.StartRequest(req.Context(), req, "/v1/chat/completions")
		_, attempt := tr.StartAttempt(ctx, "chat", "openai", "gpt-4o")
		EndAttempt(attempt, nil, llm.Usage{InputTokens: 10, OutputTokens: 20}, "gpt-4o")
		EndRequest(span, rec)
	}
}

var traceEndpointErrors = map[string]bool{
	"required when tracing is enabled":                true,
	"not a valid URL":                                 true,
	"must be an http:// or https:// URL":              true,
	"must name a host":                                true,
	"must not carry credentials; put them in headers": true,
	"must not have a query or fragment":               true,
}

// FuzzTraceEndpointURL checks that an accepted endpoint is an http(s)
// URL with a host, no credentials or query, a path ending in /v1/traces,
// and that normalizing it again changes nothing.
func FuzzTraceEndpointURL(f *testing.F) {
	for _, c := range traceEndpointCases {
		f.Add(c.in)
	}
	for _, bad := range []string{"", "grpc://h:4317", "http:///x", "https://u:p@h", "https://h?x=1", "http://[::1", "http://h#f"} {
		f.Add(bad)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := traceEndpointURL(raw)
		if err != nil {
			// Errors are fixed sentences, so they can never quote the URL.
			if !traceEndpointErrors[err.Error()] {
				t.Fatalf("traceEndpointURL(%q) error %q is not one of the fixed messages", raw, err)
			}
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("result %q does not parse: %v", got, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.RawQuery != "" {
			t.Fatalf("result %q from %q is not a plain http(s) endpoint", got, raw)
		}
		if !strings.HasSuffix(u.Path, "/v1/traces") {
			t.Fatalf("result %q path does not end in /v1/traces", got)
		}
		again, err := traceEndpointURL(got)
		if err != nil || again != got {
			t.Fatalf("normalizing %q again = %q, %v; want it unchanged", got, again, err)
		}
	})
}
