package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/router"
	"github.com/sluicehq/sluice/internal/usage"
)

// Operation is what an exchange asks for.
type Operation uint8

// Operations.
const (
	OpChat Operation = iota
	OpEmbeddings
)

// Exchange is one client request on its way through the pipeline. Stages
// read and fill it; it belongs to the request's goroutine.
type Exchange struct {
	// ID is the request id (x-request-id), also the future log record id.
	ID    string
	Start time.Time
	Op    Operation
	// Header is the client's request header, read-only.
	Header http.Header
	// ClientIP is the address the request came from (per-IP limits).
	ClientIP string

	// Request is the canonical chat request (OpChat). Stages may replace it
	// but must not modify one they did not create: clone it first.
	Request *llm.Request
	// Embeddings is the canonical embeddings request (OpEmbeddings).
	Embeddings *llm.EmbeddingsRequest

	// Route is the name of the conditional route the request matched
	// (config routes:); "" when none did.
	Route string

	// Target is the candidate that answered (or failed last); Attempts is
	// how many upstream attempts were made, retries and fallbacks
	// included.
	Target   router.Target
	Attempts int

	// Exactly one of Response and Stream is set after a successful chat;
	// EmbeddingsResponse after successful embeddings. A stage that wraps
	// Stream must keep the llm.Stream contract.
	Response           *llm.Response
	Stream             llm.Stream
	EmbeddingsResponse *llm.EmbeddingsResponse

	// Usage is what the answer cost in tokens; for streams it is complete
	// once the stream has been read to its end.
	Usage llm.Usage
	// Estimated says Usage was counted by Sluice, not reported by the
	// provider (see settleUsage).
	Estimated bool
	// FirstByte is when the first chunk of a stream arrived from the
	// upstream (time to first token), or when a whole answer arrived.
	FirstByte time.Time

	// output counts streamed answer text for settleUsage; streamEnded is
	// set when the stream reached its end, streamFinished when a choice
	// finished, and usageFinal when usage was reported with or after that.
	output         usage.Counter
	streamEnded    bool
	streamFinished bool
	usageFinal     bool

	// limits is what the limits stage took for this request, for the
	// x-ratelimit-* headers and the reconciliation in settle; nil when
	// nothing limits the caller.
	limits *limitGrant
	// budget is the caller's tightest budget as the budget stage found
	// it, for x-sluice-budget-remaining-usd; Budget 0 when none applies.
	budget budgetStatus

	// holdFiltered makes an attempt whose answer the content filter
	// stopped fail over to the next candidate (fallback_on:
	// [content_policy]), holding the answer in held meanwhile; see
	// content_filter.go.
	holdFiltered bool
	held         *heldAnswer

	// cacheServed says the answer came from the response cache (or from
	// an identical request's upstream call): no provider was paid for it.
	cacheServed bool
	// cacheSkip keeps the cache out of this exchange (no lookup, no
	// store): a guardrail's retry wants a fresh answer. cacheStored says
	// the answer was stored.
	cacheSkip, cacheStored bool
}

// Handler runs an exchange. It returns an error (an *llm.Error to tell the
// client why) instead of writing a response: one place writes responses.
type Handler interface {
	Serve(ctx context.Context, ex *Exchange) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ex *Exchange) error

// Serve calls f.
func (f HandlerFunc) Serve(ctx context.Context, ex *Exchange) error { return f(ctx, ex) }

// Stage wraps the rest of the pipeline. It may act before calling next
// (inspect or rewrite the request, short-circuit with an error) and after
// it (inspect the response, wrap the stream). Stages are listed in order in
// pipeline.go.
type Stage func(next Handler) Handler

// chain builds stages around h; the first stage is the outermost.
func chain(h Handler, stages ...Stage) Handler {
	for i := len(stages) - 1; i >= 0; i-- {
		h = stages[i](h)
	}
	return h
}
