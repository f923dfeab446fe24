package gateway_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/gateway"
	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/telemetry"
)

func TestRequestsAreTracedAcrossAttempts(t *testing.T) {
	m := httptest.NewServer(mock.New(mock.Options{}))
	t.Cleanup(m.Close)
	cfg, err := config.Parse([]byte(`
providers:
  - { name: claude, type: anthropic, base_url: "`+m.URL+`", api_key: k }
  - { name: oai, type: openai, base_url: "`+m.URL+`/v1", api_key: k }
auth: { require_keys: false }
models:
  - name: resilient
    strategy: fallback
    targets: [ { provider: claude, model: claude-haiku-4-5 }, { provider: oai, model: gpt-4o-mini } ]
`), "trace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	tr, err := telemetry.NewTracer(context.Background(), telemetry.TraceConfig{Enabled: true, Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(cfg, gateway.Options{Tracer: tr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	gs := httptest.NewServer(g.Handler())
	t.Cleanup(gs.Close)
	env := &testEnv{t: t, gw: g, url: gs.URL, mockURL: m.URL}
	env.fault(`{"count":1,"status":529}`) // the first target is overloaded

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	resp, body := env.post("/v1/chat/completions", `{"model":"resilient","messages":[{"role":"user","content":"hi"}]}`,
		"Traceparent", parent)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if err := tr.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var server *tracetest.SpanStub
	var attempts []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		switch s.SpanKind {
		case trace.SpanKindServer:
			server = &s
		case trace.SpanKindClient:
			attempts = append(attempts, s)
		}
	}
	if server == nil || len(attempts) != 2 {
		t.Fatalf("want a server span and 2 attempt spans, got %d spans", len(exp.GetSpans()))
	}
	if got := server.SpanContext.TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace id %s: the incoming traceparent was not honoured", got)
	}
	attrs := func(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
		m := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes {
			m[kv.Key] = kv.Value
		}
		return m
	}
	sa := attrs(*server)
	if sa["gen_ai.request.model"].AsString() != "resilient" || sa["gen_ai.response.model"].AsString() != "gpt-4o-mini" ||
		sa["gen_ai.usage.input_tokens"].AsInt64() <= 0 || sa["http.route"].AsString() != "/v1/chat/completions" {
		t.Errorf("server span attributes: %v", server.Attributes)
	}
	for i, want := range []string{"anthropic", "openai"} {
		a := attempts[i]
		if a.Parent.SpanID() != server.SpanContext.SpanID() {
			t.Errorf("attempt %d is not a child of the request span", i)
		}
		if got := attrs(a)["gen_ai.system"].AsString(); !strings.Contains(got, want) {
			t.Errorf("attempt %d gen_ai.system %q, want %s", i, got, want)
		}
	}
}
