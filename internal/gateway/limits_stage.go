package gateway

import (
	"context"
	"net/http"

	"github.com/sluicehq/sluice/internal/llm"
)

// estimateMaxOutput caps what a request's max_tokens adds to its token
// estimate: the estimate is reconciled with the real count afterwards, so
// a generous max_tokens should not hold a request back.
const estimateMaxOutput = 4096

// limitsStage enforces the caller's rate limits (see rateLimits): before
// the request goes on it takes one request and the estimated tokens from
// every limited scope and one concurrency slot where a scope bounds them,
// and refuses with 429 rate_limit_exceeded when one is spent (giving back
// what the other scopes took). The slot is freed when the stage returns,
// or for a stream when the stream is closed (the client's answer ended or
// the client left); the tokens are reconciled with the real usage once it
// is known (settle), or given back when the request fails. The outcome is
// kept in ex.limits for the x-ratelimit-* headers.
func (g *Gateway) limitsStage(next Handler) Handler {
	rl := g.limits
	if rl == nil {
		return next
	}
	return HandlerFunc(func(ctx context.Context, ex *Exchange) error {
		gr, err := rl.admit(ctx, infoFrom(ctx).principal, ex)
		ex.limits = gr
		switch {
		case err != nil:
			return err
		case gr == nil:
			return next.Serve(ctx, ex)
		}
		handed := false
		defer func() {
			if !handed {
				gr.release() // also when next panics
			}
		}()
		if err := next.Serve(ctx, ex); err != nil {
			gr.settle(ex) // nothing was answered: give the estimate back
			return err
		}
		if ex.Stream != nil && gr.nSlots > 0 {
			ex.Stream = &limitStream{Stream: ex.Stream, g: gr}
			handed = true
		}
		return nil
	})
}

// limitPassthrough applies the caller's limits to a passthrough request,
// whose body Sluice does not read: it counts against rpm, max_concurrent
// and per-IP rpm, and is refused while a token bucket is in debt, but its
// tokens are not counted. The caller defers release (the slot is held
// until the proxied answer has been copied); err is the refusal. No
// x-ratelimit-* headers are set: the provider's own pass through.
func (g *Gateway) limitPassthrough(r *http.Request) (release func(), err error) {
	if g.limits == nil {
		return func() {}, nil
	}
	gr, err := g.limits.admit(r.Context(), infoFrom(r.Context()).principal, &Exchange{ClientIP: clientIP(r)})
	if err != nil {
		return nil, err
	}
	return gr.release, nil // a nil grant's release does nothing
}

// limitStream frees its request's concurrency slots when it is closed.
type limitStream struct {
	llm.Stream
	g *limitGrant
}

func (s *limitStream) Close() error {
	err := s.Stream.Close()
	s.g.release()
	return err
}

// estimateTokens is a request's token estimate before it is sent: the
// prompt at four bytes a token, and what max_tokens may add (capped).
func estimateTokens(ex *Exchange) (prompt, output int64) {
	switch {
	case ex.Op == OpEmbeddings && ex.Embeddings != nil:
		return int64(estimateEmbeddingTokens(ex.Embeddings)), 0
	case ex.Request != nil:
		n, _ := estimatePromptTokens(ex.Request)
		if mt := ex.Request.MaxTokens; mt != nil && *mt > 0 {
			output = int64(min(*mt, estimateMaxOutput))
		}
		return int64(n), output
	}
	return 0, 0
}

// unavailable is the refusal while Redis is down and on_redis_error is
// closed.
func unavailable() *llm.Error {
	return &llm.Error{Status: http.StatusServiceUnavailable, Type: llm.TypeAPI, Code: "rate_limit_unavailable",
		Fault: llm.FaultGateway, RetryAfter: redisRetryAfter,
		Message: "rate limits cannot be checked right now; try again shortly"}
}
