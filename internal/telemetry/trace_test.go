package telemetry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// traceNewTest returns an enabled Tracer exporting to memory; spans()
// flushes and returns what was exported so far.
func traceNewTest(t *testing.T, cfg TraceConfig) (tr *Tracer, spans func() tracetest.SpanStubs) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	cfg.Enabled, cfg.Exporter = true, exp
	tr, err := NewTracer(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewTracer: %v", err)
	}
	t.Cleanup(func() {
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return tr, func() tracetest.SpanStubs {
		t.Helper()
		if err := tr.ForceFlush(t.Context()); err != nil {
			t.Fatalf("ForceFlush: %v", err)
		}
		return exp.GetSpans()
	}
}

// traceAttrs turns span attributes into a comparable map.
func traceAttrs(kvs []attribute.KeyValue) map[string]any {
	out := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value.AsInterface()
	}
	return out
}

const (
	traceTestTraceID = "0af7651916cd43dd8448eb211c80319c"
	traceTestSpanID  = "b7ad6b7169203331"
)

func TestTraceStartRequestPropagation(t *testing.T) {
	tests := []struct {
		name        string
		traceparent string
		tracestate  string
		wantTraceID string // "" means a new, valid trace id
		wantParent  string // "" means a root span
		wantSampled bool
	}{
		{"incoming sampled parent", "00-" + traceTestTraceID + "-" + traceTestSpanID + "-01", "congo=t61rcWkgMzE", traceTestTraceID, traceTestSpanID, true},
		{"incoming unsampled parent is kept unsampled", "00-" + traceTestTraceID + "-" + traceTestSpanID + "-00", "", traceTestTraceID, traceTestSpanID, false},
		{"no traceparent starts a root", "", "", "", "", true},
		{"malformed traceparent starts a root", "00-zz-yy-01", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, spans := traceNewTest(t, TraceConfig{})
			req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions?key=secret", nil)
			if tt.traceparent != "" {
				req.Header.Set("traceparent", tt.traceparent)
			}
			if tt.tracestate != "" {
				req.Header.Set("tracestate", tt.tracestate)
			}
			ctx, span := tr.StartRequest(req.Context(), req, "/v1/chat/completions")
			if got := trace.SpanFromContext(ctx).SpanContext(); !got.Equal(span.SpanContext()) {
				t.Errorf("the returned context holds span %v, want the returned span", got)
			}
			sc := span.SpanContext()
			if got := sc.IsSampled(); got != tt.wantSampled {
				t.Errorf("sampled = %v, want %v", got, tt.wantSampled)
			}
			if tt.wantTraceID != "" && sc.TraceID().String() != tt.wantTraceID {
				t.Errorf("trace id = %s, want %s", sc.TraceID(), tt.wantTraceID)
			}
			if !sc.TraceID().IsValid() {
				t.Errorf("trace id %s is not valid", sc.TraceID())
			}
			EndRequest(span, &store.Record{Status: 200})

			got := spans()
			if !tt.wantSampled {
				if len(got) != 0 {
					t.Fatalf("exported %d spans for an unsampled parent, want 0", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("exported %d spans, want 1", len(got))
			}
			s := got[0]
			if s.Parent.SpanID().String() != tt.wantParent && !(tt.wantParent == "" && !s.Parent.IsValid()) {
				t.Errorf("parent span = %s, want %q", s.Parent.SpanID(), tt.wantParent)
			}
			if tt.wantParent != "" && !s.Parent.IsRemote() {
				t.Errorf("parent is not marked remote")
			}
			if got := s.SpanContext.TraceState().String(); got != tt.tracestate {
				t.Errorf("tracestate = %q, want %q", got, tt.tracestate)
			}
			if s.SpanKind != trace.SpanKindServer {
				t.Errorf("span kind = %v, want server", s.SpanKind)
			}
		})
	}
}

func TestTraceRequestSpan(t *testing.T) {
	full := store.Record{
		ID: "req_1", Route: "/v1/chat/completions", ModelRequested: "chat-default", Provider: "openai",
		Model: "gpt-4o-2024-08-06", Attempts: 2, Status: 200, Stream: true, CacheStatus: "miss",
		PromptTokens: 100, CompletionTokens: 40, CachedTokens: 30, ReasoningTokens: 10,
		CostMicros: 2500, TTFTMicros: 300_000, KeyID: "key_1",
	}
	tests := []struct {
		name       string
		method     string
		route      string
		rec        *store.Record
		wantName   string
		wantStatus codes.Code
		wantDesc   string
		wantAttrs  map[string]any
	}{{
		name: "successful stream", method: http.MethodPost, route: "/v1/chat/completions", rec: &full,
		wantName: "POST /v1/chat/completions", wantStatus: codes.Unset,
		wantAttrs: map[string]any{
			"http.request.method": "POST", "http.route": "/v1/chat/completions", "url.path": "/v1/chat/completions",
			"url.scheme": "http", "user_agent.original": "sluice-test/1",
			"http.response.status_code": int64(200), "sluice.request_id": "req_1", "sluice.stream": true,
			"gen_ai.request.model": "chat-default", "gen_ai.response.model": "gpt-4o-2024-08-06",
			"sluice.provider": "openai", "sluice.cache": "miss", "sluice.attempts": int64(2),
			"gen_ai.usage.input_tokens": int64(100), "gen_ai.usage.output_tokens": int64(40),
			"gen_ai.usage.cache_read.input_tokens": int64(30), "gen_ai.usage.reasoning.output_tokens": int64(10),
			"sluice.cost_usd": 0.0025, "gen_ai.response.time_to_first_chunk": 0.3,
		},
	}, {
		name: "upstream failure is an error", method: http.MethodPost, route: "/v1/messages",
		rec:      &store.Record{ID: "req_2", Status: 502, ErrorCode: "upstream_error", ErrorType: "api_error", ModelRequested: "claude"},
		wantName: "POST /v1/messages", wantStatus: codes.Error, wantDesc: "api_error",
		wantAttrs: map[string]any{
			"http.request.method": "POST", "http.route": "/v1/messages", "url.path": "/v1/chat/completions",
			"url.scheme": "http", "user_agent.original": "sluice-test/1",
			"http.response.status_code": int64(502), "sluice.request_id": "req_2", "sluice.stream": false,
			"gen_ai.request.model": "claude", "error.type": "upstream_error",
			"gen_ai.usage.input_tokens": int64(0), "gen_ai.usage.output_tokens": int64(0),
		},
	}, {
		name: "5xx without code uses the status as error.type", method: http.MethodPost, route: "",
		rec:      &store.Record{ID: "req_3", Status: 500},
		wantName: "POST", wantStatus: codes.Error,
		wantAttrs: map[string]any{
			"http.request.method": "POST", "url.path": "/v1/chat/completions",
			"url.scheme": "http", "user_agent.original": "sluice-test/1",
			"http.response.status_code": int64(500), "sluice.request_id": "req_3", "sluice.stream": false,
			"error.type": "500", "gen_ai.usage.input_tokens": int64(0), "gen_ai.usage.output_tokens": int64(0),
		},
	}, {
		name: "client gone and 4xx are not span errors", method: "BREW", route: "/v1/chat/completions",
		rec:      &store.Record{ID: "req_4", Status: 499, ErrorCode: "client_closed"},
		wantName: "HTTP /v1/chat/completions", wantStatus: codes.Unset,
		wantAttrs: map[string]any{
			"http.request.method": "_OTHER", "http.route": "/v1/chat/completions", "url.path": "/v1/chat/completions",
			"url.scheme": "http", "user_agent.original": "sluice-test/1",
			"http.response.status_code": int64(499), "sluice.request_id": "req_4", "sluice.stream": false,
			"gen_ai.usage.input_tokens": int64(0), "gen_ai.usage.output_tokens": int64(0),
		},
	}, {
		name: "nil record only ends the span", method: http.MethodGet, route: "/v1/models", rec: nil,
		wantName: "GET /v1/models", wantStatus: codes.Unset,
		wantAttrs: map[string]any{
			"http.request.method": "GET", "http.route": "/v1/models", "url.path": "/v1/chat/completions",
			"url.scheme": "http", "user_agent.original": "sluice-test/1",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, spans := traceNewTest(t, TraceConfig{})
			req := httptest.NewRequest(tt.method, "/v1/chat/completions?key=secret", nil)
			req.Header.Set("User-Agent", "sluice-test/1")
			_, span := tr.StartRequest(req.Context(), req, tt.route)
			EndRequest(span, tt.rec)
			got := spans()
			if len(got) != 1 {
				t.Fatalf("exported %d spans, want 1", len(got))
			}
			s := got[0]
			if s.Name != tt.wantName {
				t.Errorf("name = %q, want %q", s.Name, tt.wantName)
			}
			if s.Status.Code != tt.wantStatus || s.Status.Description != tt.wantDesc {
				t.Errorf("status = %v %q, want %v %q", s.Status.Code, s.Status.Description, tt.wantStatus, tt.wantDesc)
			}
			if diff := cmp.Diff(traceAttrs(s.Attributes), tt.wantAttrs); diff != "" {
				t.Errorf("attributes (-got +want):\n%s", diff)
			}
		})
	}
}

func TestTraceAttemptSpan(t *testing.T) {
	usage := llm.Usage{InputTokens: 50, OutputTokens: 20, CachedInputTokens: 5, CacheWriteTokens: 7, ReasoningTokens: 3}
	base := map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic", "gen_ai.system": "anthropic",
		"gen_ai.request.model": "claude-sonnet-4", "server.address": "api.anthropic.com", "server.port": int64(443),
	}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name       string
		err        error
		usage      llm.Usage
		respModel  string
		wantStatus codes.Code
		wantDesc   string
		wantAttrs  map[string]any
	}{{
		name: "success with usage", usage: usage, respModel: "claude-sonnet-4-20250514", wantStatus: codes.Unset,
		wantAttrs: with(map[string]any{
			"gen_ai.response.model": "claude-sonnet-4-20250514", "gen_ai.usage.input_tokens": int64(50),
			"gen_ai.usage.output_tokens": int64(20), "gen_ai.usage.cache_read.input_tokens": int64(5),
			"gen_ai.usage.cache_creation.input_tokens": int64(7), "gen_ai.usage.reasoning.output_tokens": int64(3),
		}),
	}, {
		name: "provider error keeps the client-safe message only",
		err: fmt.Errorf("attempt 1: %w", llm.ProviderStatusError("anthropic", 429, llm.TypeRateLimit, "rate_limited",
			"", "slow down", 0)),
		wantStatus: codes.Error, wantDesc: "slow down",
		wantAttrs: with(map[string]any{"error.type": "rate_limited", "gen_ai.usage.input_tokens": int64(0), "gen_ai.usage.output_tokens": int64(0)}),
	}, {
		name: "provider error without code uses its type", err: &llm.Error{Status: 503, Type: llm.TypeOverloaded, Message: "overloaded"},
		wantStatus: codes.Error, wantDesc: "overloaded",
		wantAttrs: with(map[string]any{"error.type": "overloaded_error", "gen_ai.usage.input_tokens": int64(0), "gen_ai.usage.output_tokens": int64(0)}),
	}, {
		name: "timeout", err: fmt.Errorf("send: %w", context.DeadlineExceeded),
		wantStatus: codes.Error, wantDesc: "upstream attempt timed out",
		wantAttrs: with(map[string]any{"error.type": "timeout", "gen_ai.usage.input_tokens": int64(0), "gen_ai.usage.output_tokens": int64(0)}),
	}, {
		name: "canceled", err: context.Canceled,
		wantStatus: codes.Error, wantDesc: "upstream attempt canceled",
		wantAttrs: with(map[string]any{"error.type": "canceled", "gen_ai.usage.input_tokens": int64(0), "gen_ai.usage.output_tokens": int64(0)}),
	}, {
		name:       "other errors never quote their text (it may hold a key)",
		err:        errors.New(`Post "https://generativelanguage.googleapis.com/v1beta/models/x?key=AIzaSECRET": connection refused`),
		wantStatus: codes.Error, wantDesc: "upstream attempt failed",
		wantAttrs: with(map[string]any{"error.type": "_OTHER", "gen_ai.usage.input_tokens": int64(0), "gen_ai.usage.output_tokens": int64(0)}),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, spans := traceNewTest(t, TraceConfig{})
			req := httptest.NewRequest(http.MethodPost, "/v1/messages", nil)
			ctx, reqSpan := tr.StartRequest(req.Context(), req, "/v1/messages")
			_, span := tr.StartAttempt(ctx, "chat", "anthropic", "claude-sonnet-4")
			SetAttemptServer(span, "https://api.anthropic.com/v1")
			EndAttempt(span, tt.err, tt.usage, tt.respModel)
			EndRequest(reqSpan, &store.Record{Status: 200})

			got := spans()
			if len(got) != 2 {
				t.Fatalf("exported %d spans, want 2", len(got))
			}
			a, r := got[0], got[1] // ended first, exported first
			if a.Name != "chat claude-sonnet-4" || a.SpanKind != trace.SpanKindClient {
				t.Errorf("attempt span = %q kind %v, want %q kind client", a.Name, a.SpanKind, "chat claude-sonnet-4")
			}
			if a.Parent.SpanID() != r.SpanContext.SpanID() || a.SpanContext.TraceID() != r.SpanContext.TraceID() {
				t.Errorf("attempt parent = %s/%s, want the request span %s/%s",
					a.Parent.TraceID(), a.Parent.SpanID(), r.SpanContext.TraceID(), r.SpanContext.SpanID())
			}
			if a.Status.Code != tt.wantStatus || a.Status.Description != tt.wantDesc {
				t.Errorf("status = %v %q, want %v %q", a.Status.Code, a.Status.Description, tt.wantStatus, tt.wantDesc)
			}
			if diff := cmp.Diff(traceAttrs(a.Attributes), tt.wantAttrs); diff != "" {
				t.Errorf("attributes (-got +want):\n%s", diff)
			}
			for _, ev := range a.Events {
				if strings.Contains(fmt.Sprint(ev.Attributes), "SECRET") {
					t.Errorf("event %q leaks the error text", ev.Name)
				}
			}
		})
	}
}

func TestSetAttemptServer(t *testing.T) {
	tests := []struct {
		name, url string
		want      map[string]any
	}{
		{"https default port", "https://api.openai.com/v1", map[string]any{"server.address": "api.openai.com", "server.port": int64(443)}},
		{"explicit port", "http://127.0.0.1:11434", map[string]any{"server.address": "127.0.0.1", "server.port": int64(11434)}},
		{"no host sets nothing", "/relative", nil},
		{"unparsable sets nothing", "http://[::1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, spans := traceNewTest(t, TraceConfig{})
			_, span := tr.tracer.Start(t.Context(), "x")
			SetAttemptServer(span, tt.url)
			span.End()
			got := traceAttrs(spans()[0].Attributes)
			if len(got) == 0 {
				got = nil
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("attributes (-got +want):\n%s", diff)
			}
		})
	}
}

func TestTraceDisabled(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	disabled, err := NewTracer(t.Context(), TraceConfig{Exporter: exp, Endpoint: "not checked"})
	if err != nil {
		t.Fatalf("NewTracer(disabled): %v", err)
	}
	for name, tr := range map[string]*Tracer{"disabled": disabled, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			if tr.Enabled() {
				t.Fatal("Enabled() = true")
			}
			req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
			req.Header.Set("traceparent", "00-"+traceTestTraceID+"-"+traceTestSpanID+"-01")
			ctx := req.Context()
			gotCtx, span := tr.StartRequest(ctx, req, "/v1/chat/completions")
			if gotCtx != ctx {
				t.Error("StartRequest changed the context")
			}
			if span.IsRecording() || span.SpanContext().IsValid() {
				t.Error("disabled request span is recording or valid")
			}
			actx, attempt := tr.StartAttempt(gotCtx, "chat", "openai", "gpt-4o")
			if actx != ctx || attempt.IsRecording() {
				t.Error("disabled attempt changed the context or records")
			}
			SetAttemptServer(attempt, "https://api.openai.com")
			EndAttempt(attempt, errors.New("x"), llm.Usage{InputTokens: 1}, "gpt-4o")
			EndRequest(span, &store.Record{Status: 500})
			if err := tr.ForceFlush(t.Context()); err != nil {
				t.Errorf("ForceFlush: %v", err)
			}
			if err := tr.Shutdown(t.Context()); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		})
	}
	if got := exp.GetSpans(); len(got) != 0 {
		t.Errorf("a disabled tracer exported %d spans, want 0", len(got))
	}
}

func TestTraceSampleRatioZeroMeansAll(t *testing.T) {
	tr, spans := traceNewTest(t, TraceConfig{SampleRatio: 0})
	for range 20 {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
		_, span := tr.StartRequest(req.Context(), req, "/v1/chat/completions")
		EndRequest(span, &store.Record{Status: 200})
	}
	if got := len(spans()); got != 20 {
		t.Errorf("exported %d spans, want all 20", got)
	}
}

func TestNewTracerErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     TraceConfig
		wantErr string
	}{
		{"missing endpoint", TraceConfig{Enabled: true}, "telemetry: trace endpoint: required"},
		{"not http", TraceConfig{Enabled: true, Endpoint: "grpc://127.0.0.1:4317"}, "must be an http:// or https:// URL"},
		{"no host", TraceConfig{Enabled: true, Endpoint: "http:///v1/traces"}, "must name a host"},
		{"credentials in URL", TraceConfig{Enabled: true, Endpoint: "https://user:hunter2@collector:4318"}, "must not carry credentials"},
		{"query", TraceConfig{Enabled: true, Endpoint: "https://collector:4318?token=hunter2"}, "must not have a query"},
		{"unparsable", TraceConfig{Enabled: true, Endpoint: "http://hunter2@[::1"}, "not a valid URL"},
		{"ratio above 1", TraceConfig{Enabled: true, Endpoint: "http://127.0.0.1:4318", SampleRatio: 1.5}, "sample_ratio"},
		{"negative ratio", TraceConfig{Enabled: true, Endpoint: "http://127.0.0.1:4318", SampleRatio: -0.1}, "sample_ratio"},
		{"NaN ratio", TraceConfig{Enabled: true, Endpoint: "http://127.0.0.1:4318", SampleRatio: math.NaN()}, "sample_ratio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := NewTracer(t.Context(), tt.cfg)
			if err == nil {
				_ = tr.Shutdown(t.Context())
				t.Fatalf("NewTracer succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks a secret", err)
			}
		})
	}
}

var traceEndpointCases = []struct {
	name, in, want string
}{
	{"host and port", "http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"},
	{"trailing slash", "http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/traces"},
	{"full path kept", "https://otel.example.com/v1/traces", "https://otel.example.com/v1/traces"},
	{"prefix path", "https://gw.example.com/otlp", "https://gw.example.com/otlp/v1/traces"},
	{"prefix path with slash", "https://gw.example.com/otlp/", "https://gw.example.com/otlp/v1/traces"},
}

func TestTraceEndpointURL(t *testing.T) {
	for _, tt := range traceEndpointCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := traceEndpointURL(tt.in)
			if err != nil {
				t.Fatalf("traceEndpointURL(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("traceEndpointURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
