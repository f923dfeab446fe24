package telemetry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/sluicehq/sluice/internal/version"
)

// traceInstrumentation names the tracer (the instrumentation scope).
const traceInstrumentation = "github.com/sluicehq/sluice/internal/telemetry"

// TraceConfig configures NewTracer. The zero value is a disabled tracer.
type TraceConfig struct {
	// Enabled turns tracing on. When false every other field is ignored
	// and the Tracer is a no-op.
	Enabled bool
	// Endpoint is the OTLP/HTTP collector URL, e.g. http://127.0.0.1:4318;
	// the path /v1/traces is appended unless the path already ends with
	// it. http and https only; credentials belong in Headers, not in the
	// URL. Required when Enabled and Exporter is nil.
	Endpoint string
	// Headers are sent with every export (e.g. a collector's auth token).
	// They are never logged or put in errors. nil sends none.
	Headers map[string]string
	// ServiceName is the service.name resource attribute; "" means "sluice".
	ServiceName string
	// SampleRatio is the share of new traces recorded, in [0, 1]; 0 means
	// the default 1. Sampling is parent-based: a request whose incoming
	// traceparent says sampled (or not) keeps that decision.
	SampleRatio float64
	// Exporter, when set, receives the spans instead of an OTLP exporter
	// to Endpoint (tests inject tracetest.NewInMemoryExporter()). The
	// Tracer shuts it down in Shutdown.
	Exporter sdktrace.SpanExporter
}

// Tracer starts the gateway's spans: one server span per request and one
// client span per upstream attempt. A disabled Tracer starts no-op spans
// and costs about nothing. Methods are safe for concurrent use; a nil
// *Tracer behaves as a disabled one.
type Tracer struct {
	provider *sdktrace.TracerProvider // nil when disabled
	tracer   trace.Tracer             // nil when disabled
	// propagator reads W3C traceparent/tracestate from requests.
	propagator propagation.TextMapPropagator
}

// NewTracer validates cfg and builds the Tracer. Enabled, it batches
// spans to the exporter in the background until Shutdown. ctx is used
// only while building (creating the OTLP exporter does not connect).
func NewTracer(ctx context.Context, cfg TraceConfig) (*Tracer, error) {
	if !cfg.Enabled {
		return &Tracer{}, nil
	}
	ratio := cfg.SampleRatio
	if math.IsNaN(ratio) || ratio < 0 || ratio > 1 {
		return nil, errors.New("telemetry: trace sample_ratio: must be between 0 and 1")
	}
	if ratio == 0 {
		ratio = 1
	}
	name := cfg.ServiceName
	if name == "" {
		name = "sluice"
	}

	exp := cfg.Exporter
	if exp == nil {
		endpoint, err := traceEndpointURL(cfg.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("telemetry: trace endpoint: %w", err)
		}
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint)}
		if len(cfg.Headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
		if err != nil {
			// The exporter's errors name neither headers nor URL secrets:
			// the URL was checked to carry no credentials.
			return nil, fmt.Errorf("telemetry: trace exporter: %w", err)
		}
	}

	// A schemaless resource merges with the SDK's default one (which has
	// its own schema URL) without a conflict.
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(name),
		semconv.ServiceVersion(version.Version),
	))
	if err != nil {
		return nil, fmt.Errorf("telemetry: trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	)
	return &Tracer{
		provider:   tp,
		tracer:     tp.Tracer(traceInstrumentation, trace.WithInstrumentationVersion(version.Version)),
		propagator: propagation.TraceContext{},
	}, nil
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracer) Enabled() bool { return t != nil && t.provider != nil }

// ForceFlush exports the spans ended so far, waiting until done or ctx
// ends. It is a no-op on a disabled Tracer.
func (t *Tracer) ForceFlush(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.provider.ForceFlush(ctx); err != nil {
		return fmt.Errorf("telemetry: trace flush: %w", err)
	}
	return nil
}

// Shutdown exports the spans still queued and stops the exporter,
// waiting until done or ctx ends. Spans started afterwards are not
// exported. It is a no-op on a disabled Tracer; calling it twice is safe.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("telemetry: trace shutdown: %w", err)
	}
	return nil
}

// traceNoopSpan is what a disabled Tracer returns; a zero-size value in
// an interface costs no allocation.
var traceNoopSpan trace.Span = noop.Span{}

// traceEndpointURL checks an OTLP/HTTP endpoint and appends /v1/traces
// to its path unless the path already ends with it. Errors never quote
// the URL (it may carry a secret by mistake).
func traceEndpointURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("required when tracing is enabled")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("not a valid URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("must be an http:// or https:// URL")
	case u.Host == "" || u.Hostname() == "":
		return "", errors.New("must name a host")
	case u.User != nil:
		return "", errors.New("must not carry credentials; put them in headers")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", errors.New("must not have a query or fragment")
	}
	path := strings.TrimSuffix(u.Path, "/")
	if !strings.HasSuffix(path, "/v1/traces") {
		path += "/v1/traces"
	}
	u.Path, u.RawPath = path, ""
	return u.String(), nil
}
