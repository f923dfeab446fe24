package gateway

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/guard"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/telemetry"
	"github.com/sluicehq/sluice/internal/usage"
)

// requestInfo is what the handlers learn about a request for its log line
// and its record. It lives in the request context; the handler goroutine
// fills it, and observe reads it once the handler has returned.
type requestInfo struct {
	// id is the gateway's request id (the record's); clientID is the
	// client's own X-Request-Id, if it sent a sane one.
	id        string
	clientID  string
	model     string
	provider  string
	upstream  string
	attempts  int
	stream    bool
	usage     llm.Usage
	estimated bool
	err       *llm.Error
	// firstByte is when the first chunk of a streamed answer arrived.
	firstByte time.Time
	metadata  map[string]string
	// price is the request's own x-sluice-custom-cost, if it sent one.
	price *usage.Price
	// logPayload says bodies are captured into reqBody and respBody, each
	// capped at the configured size (truncated says a cap was hit).
	logPayload bool
	payloadMax int
	reqBody    []byte
	respBody   []byte
	truncated  bool
	// principal is the authenticated caller; nil when anonymous.
	principal *auth.Principal
	// noRecord keeps a request on an LLM route pattern out of the request
	// log and metrics (a passthrough path naming no provider).
	noRecord bool
	// cacheStatus and guardrails are set by the policy stages.
	cacheStatus string
	guardrails  []string
	// cacheKey (hex), cacheAge (seconds) and cacheSimilarity are for
	// the x-sluice-cache-* and Age response headers.
	cacheKey        string
	cacheAge        int64
	cacheSimilarity float32
	// payloadRedactors, when guardrails found personal data or secrets in
	// the request, hide the same values in the logged bodies.
	payloadRedactors []*guard.Redactor
	// snap is the config snapshot the request runs on, pinned by the
	// routes stage; nil before (the current one applies).
	snap *snapshot

	// The rest is storage the middleware and handlers use, kept here so a
	// request costs one allocation for all of it: the context carrying
	// the info (requestID), observe's status writer, the exchange of an
	// LLM request (see newExchange) and the values of the response
	// headers the gateway sets on every answer (see setHeader).
	ctx      infoContext
	out      statusWriter
	exchange Exchange
	exUsed   bool
	hdr      [hdrSlots]string
}

// Slots of requestInfo.hdr.
const (
	hdrRequestID = iota
	hdrContentLength
	hdrProvider
	hdrModel
	hdrSlots
)

// setHeader sets h[key] (key in canonical form) to the one value v, held
// in ri's slot i rather than in a slice of its own. A later Set or Add
// replaces or copies the slice; nothing writes into it.
func (ri *requestInfo) setHeader(h http.Header, key string, i int, v string) {
	ri.hdr[i] = v
	h[key] = ri.hdr[i : i+1 : i+1]
}

// newExchange returns an exchange for the request: the one held in ri the
// first time, a new one after.
func (ri *requestInfo) newExchange() *Exchange {
	if ri.exUsed {
		return new(Exchange)
	}
	ri.exUsed = true
	return &ri.exchange
}

type infoKey struct{}

// infoContext is the request context carrying its requestInfo: a
// context.WithValue without an allocation of its own (it lives in the
// requestInfo).
type infoContext struct {
	context.Context
	ri *requestInfo
}

func (c *infoContext) Value(key any) any {
	if key == (infoKey{}) {
		return c.ri
	}
	return c.Context.Value(key)
}

func infoFrom(ctx context.Context) *requestInfo {
	if c, ok := ctx.(*infoContext); ok {
		return c.ri
	}
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// recordedRoutes are the patterns whose requests get a log record and
// request metrics: the LLM API and provider passthrough, not health checks,
// metrics scrapes or the admin API.
var recordedRoutes = []string{
	"/v1/chat/completions", "/v1/messages", "/v1/embeddings", "/{provider}/{rest...}",
}

// observe is the transport middleware that watches every request: the
// access log line, and for LLM routes the request record, the metrics and
// the trace span. It runs after the handler; nothing here waits on storage
// (the record is queued).
func (g *Gateway) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := infoFrom(r.Context())
		var span trace.Span
		if g.tracer != nil && traced(r.URL.Path) {
			var ctx context.Context
			ctx, span = g.tracer.StartRequest(r.Context(), r, "")
			r = r.WithContext(ctx)
		}
		var done func()
		if g.metrics != nil {
			done = g.metrics.RequestStarted()
		}
		sw := &ri.out
		*sw = statusWriter{ResponseWriter: w}
		finished := false
		// Deferred, so that a response aborted with a panic
		// (http.ErrAbortHandler: the reverse proxy does this when an
		// upstream body breaks) is still logged, recorded and counted.
		defer func() {
			if !finished && ri.err == nil {
				ri.err = aborted(r)
			}
			if done != nil {
				done()
			}
			g.finish(r, ri, sw, start, span)
		}()
		next.ServeHTTP(sw, r)
		finished = true
	})
}

// finish writes the access line and, for LLM routes, the record, metrics
// and span of a request that is over.
func (g *Gateway) finish(r *http.Request, ri *requestInfo, sw *statusWriter, start time.Time, span trace.Span) {
	end := time.Now()
	status := sw.status
	if ri.err != nil && (status == 0 || status == http.StatusOK) {
		// Nothing was written (the client left: 499), or a stream failed
		// after its 200 went out: the record keeps what actually happened.
		status = ri.err.Status
	}
	g.logAccess(r, ri, status, end.Sub(start), sw.bytes)
	route := r.Pattern
	if route == "" {
		// Answered before the mux ran (413 by Content-Length): ask the
		// mux which route the request was for.
		_, route = g.mux.Handler(r)
	}
	if ri.noRecord || !slices.Contains(recordedRoutes, route) {
		if span != nil {
			span.End()
		}
		return
	}
	var rec store.Record
	g.fillRecord(&rec, r, ri, route, status, start, end)
	g.chargeBudget(ri, &rec)
	if g.metrics != nil {
		g.metrics.Observe(&rec)
	}
	if span != nil {
		span.SetName(r.Method + " " + route)
		telemetry.EndRequest(span, &rec)
	}
	if g.records != nil {
		g.records.Enqueue(&rec)
	}
}

// traced reports whether a request gets a span: not health checks,
// metrics scrapes or admin calls, which would drown the LLM traffic.
func traced(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return false
	}
	return !strings.HasPrefix(path, "/admin/")
}

// aborted is the error of a response cut by a panic: the client left, or
// (passthrough) the upstream body broke.
func aborted(r *http.Request) *llm.Error {
	if r.Context().Err() != nil {
		return clientGone(r.Context().Err())
	}
	return &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "upstream_aborted",
		Fault: llm.FaultProvider, Message: "the response was cut off"}
}

// fillRecord writes what is known of a finished request into rec.
func (g *Gateway) fillRecord(rec *store.Record, r *http.Request, ri *requestInfo, route string, status int, start, end time.Time) {
	rec.ID = ri.id
	rec.ClientRequestID = ri.clientID
	if p := ri.principal; p != nil {
		rec.KeyID, rec.TenantID, rec.TeamID = p.KeyID, p.TenantID, p.TeamID
	}
	rec.Time = start
	rec.ClientIP = clientIP(r)
	rec.Route = route
	rec.ModelRequested = ri.model
	rec.Provider = ri.provider
	rec.Model = ri.upstream
	rec.Attempts = ri.attempts
	rec.Status = status
	if e := ri.err; e != nil {
		rec.ErrorCode, rec.ErrorType = e.Code, e.Type
		if rec.ErrorCode == "" {
			rec.ErrorCode = e.Type
		}
	}
	rec.Stream = ri.stream
	rec.CacheStatus = ri.cacheStatus
	rec.Guardrails = ri.guardrails
	u := ri.usage
	rec.PromptTokens, rec.CompletionTokens = u.InputTokens, u.OutputTokens
	rec.CachedTokens, rec.CacheWriteTokens, rec.ReasoningTokens = u.CachedInputTokens, u.CacheWriteTokens, u.ReasoningTokens
	rec.Estimated = ri.estimated
	if ri.provider != "" && (!u.IsZero() || ri.price != nil) {
		price, ok := g.priceFor(ri)
		rec.PriceKnown = ok
		if ok {
			cost := usage.Cost(price, u)
			if cacheServedStatus(ri.cacheStatus) {
				rec.SavedMicros = cost // the provider was not paid
			} else {
				rec.CostMicros = cost
			}
		}
	}
	rec.LatencyMicros = end.Sub(start).Microseconds()
	if ri.stream && !ri.firstByte.IsZero() {
		rec.TTFTMicros = ri.firstByte.Sub(start).Microseconds()
	}
	rec.Metadata = ri.metadata
	rec.RequestBody, rec.ResponseBody, rec.PayloadTruncated = ri.reqBody, ri.respBody, ri.truncated
	rec.UserAgent = r.UserAgent()
	rec.Node = g.node
}

// priceFor picks the request's own price, else the catalog's.
func (g *Gateway) priceFor(ri *requestInfo) (usage.Price, bool) {
	if ri.price != nil {
		return *ri.price, true
	}
	s := ri.snap
	if s == nil {
		s = g.current()
	}
	return s.prices.Lookup(ri.provider, s.providerTypes[ri.provider], ri.upstream)
}

// clientIP is the address the request came from. Forwarded headers are not
// trusted: a client could set them to anything.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
