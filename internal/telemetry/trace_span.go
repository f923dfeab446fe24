package telemetry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// Attribute keys the semconv package does not (or no longer) provide.
const (
	// traceGenAISystemKey is the GenAI conventions' name for the provider
	// before gen_ai.provider.name replaced it; set too, for backends that
	// still read it.
	traceGenAISystemKey = attribute.Key("gen_ai.system")

	traceProviderKey  = attribute.Key("sluice.provider")
	traceCostKey      = attribute.Key("sluice.cost_usd")
	traceRequestIDKey = attribute.Key("sluice.request_id")
	traceAttemptsKey  = attribute.Key("sluice.attempts")
	traceCacheKey     = attribute.Key("sluice.cache")
	traceStreamKey    = attribute.Key("sluice.stream")
)

// StartRequest starts the server span for one client request, as a child
// of the caller's W3C traceparent/tracestate when r carries a valid one.
// The span is named "{METHOD} {route}" (e.g. "POST /v1/chat/completions")
// and carries the method, route, path and scheme — never the query,
// which may hold a key. route is the path pattern served ("" omits it).
// The returned context holds the span; pass it to StartAttempt. End the
// span with EndRequest. A disabled (or nil) Tracer returns ctx unchanged
// and a no-op span.
func (t *Tracer) StartRequest(ctx context.Context, r *http.Request, route string) (context.Context, trace.Span) {
	if !t.Enabled() {
		return ctx, traceNoopSpan
	}
	ctx = t.propagator.Extract(ctx, propagation.HeaderCarrier(r.Header))
	method := traceMethod(r.Method)
	name := method
	if method == "_OTHER" {
		name = "HTTP"
	}
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(method))
	if route != "" {
		name += " " + route
		attrs = append(attrs, semconv.HTTPRoute(route))
	}
	if r.URL != nil {
		attrs = append(attrs, semconv.URLPath(r.URL.Path))
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs = append(attrs, semconv.URLScheme(scheme))
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	return t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
}

// StartAttempt starts the client span for one upstream attempt, as a
// child of the span in ctx. operation is the GenAI operation ("chat",
// "embeddings"), system the provider type ("openai", "anthropic",
// "gcp.gemini"), model the provider model requested. The span is named
// "{operation} {model}". Set server.address with SetAttemptServer; end
// the span with EndAttempt. A disabled (or nil) Tracer returns ctx
// unchanged and a no-op span.
func (t *Tracer) StartAttempt(ctx context.Context, operation, system, model string) (context.Context, trace.Span) {
	if !t.Enabled() {
		return ctx, traceNoopSpan
	}
	name := operation
	if model != "" {
		name += " " + model
	}
	return t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		semconv.GenAIOperationNameKey.String(operation),
		semconv.GenAIProviderNameKey.String(system),
		traceGenAISystemKey.String(system),
		semconv.GenAIRequestModelKey.String(model),
	))
}

// SetAttemptServer sets server.address and server.port on an attempt
// span from the upstream's base URL (port defaulted from the scheme). A
// URL that does not parse or has no host sets nothing; so does a span
// that is not recording.
func SetAttemptServer(span trace.Span, baseURL string) {
	if !span.IsRecording() {
		return
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return
	}
	attrs := []attribute.KeyValue{semconv.ServerAddress(u.Hostname())}
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		switch u.Scheme {
		case "https":
			port = 443
		case "http":
			port = 80
		}
	}
	if port > 0 {
		attrs = append(attrs, semconv.ServerPort(port))
	}
	span.SetAttributes(attrs...)
}

// EndRequest records the outcome of a request on its server span and
// ends it: models, token usage, status, provider, cost, cache status and
// attempts. Status 5xx marks the span as an error (4xx and 499 are the
// client's doing and do not, as HTTP server conventions say); error.type
// is the record's error code, or the status when it has none. A nil r
// just ends the span. The span must not be used afterwards.
func EndRequest(span trace.Span, r *store.Record) {
	if r == nil || !span.IsRecording() {
		span.End()
		return
	}
	attrs := make([]attribute.KeyValue, 0, 16)
	attrs = append(attrs,
		semconv.HTTPResponseStatusCode(r.Status),
		traceRequestIDKey.String(r.ID),
		traceStreamKey.Bool(r.Stream),
	)
	attrs = traceAppendString(attrs, semconv.HTTPRouteKey, r.Route)
	attrs = traceAppendString(attrs, semconv.GenAIRequestModelKey, r.ModelRequested)
	attrs = traceAppendString(attrs, semconv.GenAIResponseModelKey, r.Model)
	attrs = traceAppendString(attrs, traceProviderKey, r.Provider)
	attrs = traceAppendString(attrs, traceCacheKey, r.CacheStatus)
	if r.Attempts > 0 {
		attrs = append(attrs, traceAttemptsKey.Int(r.Attempts))
	}
	attrs = traceAppendTokens(attrs, llm.Usage{
		InputTokens:       r.PromptTokens,
		OutputTokens:      r.CompletionTokens,
		CachedInputTokens: r.CachedTokens,
		CacheWriteTokens:  r.CacheWriteTokens,
		ReasoningTokens:   r.ReasoningTokens,
	})
	if r.CostMicros > 0 {
		attrs = append(attrs, traceCostKey.Float64(float64(r.CostMicros)/1e6))
	}
	if r.TTFTMicros > 0 {
		attrs = append(attrs, semconv.GenAIResponseTimeToFirstChunkKey.Float64(float64(r.TTFTMicros)/1e6))
	}
	if r.Status >= 500 {
		errType := r.ErrorCode
		if errType == "" {
			errType = strconv.Itoa(r.Status)
		}
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		span.SetStatus(codes.Error, r.ErrorType)
	}
	span.SetAttributes(attrs...)
	span.End()
}

// EndAttempt records the outcome of an upstream attempt on its client
// span and ends it: the response model (when not ""), token usage (the
// non-zero counts), and for a non-nil err an error status with a
// low-cardinality error.type. The status description is the client-safe
// message of an *llm.Error, never the wrapped cause, which may quote an
// upstream URL with its key. The span must not be used afterwards.
func EndAttempt(span trace.Span, err error, u llm.Usage, responseModel string) {
	if !span.IsRecording() {
		span.End()
		return
	}
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = traceAppendString(attrs, semconv.GenAIResponseModelKey, responseModel)
	attrs = traceAppendTokens(attrs, u)
	if err != nil {
		errType, desc := traceErrorType(err)
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		span.SetStatus(codes.Error, desc)
	}
	span.SetAttributes(attrs...)
	span.End()
}

// traceErrorType classifies err for error.type and the status
// description: an *llm.Error by its code (or type), timeouts and
// cancellations by name, anything else as "_OTHER".
func traceErrorType(err error) (errType, desc string) {
	var le *llm.Error
	switch {
	case errors.As(err, &le):
		errType = le.Code
		if errType == "" {
			errType = le.Type
		}
		if errType == "" {
			errType = strconv.Itoa(le.Status)
		}
		return errType, le.Message
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", "upstream attempt timed out"
	case errors.Is(err, context.Canceled):
		return "canceled", "upstream attempt canceled"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout", "upstream attempt timed out"
	}
	return "_OTHER", "upstream attempt failed"
}

// traceAppendTokens appends the GenAI usage attributes: input and output
// always, the cache and reasoning breakdowns when non-zero.
func traceAppendTokens(attrs []attribute.KeyValue, u llm.Usage) []attribute.KeyValue {
	attrs = append(attrs,
		semconv.GenAIUsageInputTokensKey.Int(u.InputTokens),
		semconv.GenAIUsageOutputTokensKey.Int(u.OutputTokens),
	)
	if u.CachedInputTokens > 0 {
		attrs = append(attrs, semconv.GenAIUsageCacheReadInputTokensKey.Int(u.CachedInputTokens))
	}
	if u.CacheWriteTokens > 0 {
		attrs = append(attrs, semconv.GenAIUsageCacheCreationInputTokensKey.Int(u.CacheWriteTokens))
	}
	if u.ReasoningTokens > 0 {
		attrs = append(attrs, semconv.GenAIUsageReasoningOutputTokensKey.Int(u.ReasoningTokens))
	}
	return attrs
}

// traceAppendString appends key=v unless v is "".
func traceAppendString(attrs []attribute.KeyValue, key attribute.Key, v string) []attribute.KeyValue {
	if v == "" {
		return attrs
	}
	return append(attrs, key.String(v))
}

// traceMethod bounds http.request.method to the standard methods, as the
// HTTP conventions ask; anything else is "_OTHER".
func traceMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch,
		http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}
