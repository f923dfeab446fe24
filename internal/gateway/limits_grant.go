package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/limit"
	"github.com/sluicehq/sluice/internal/llm"
)

// limitCharge is what a request took from one counter: given back when
// the request is refused elsewhere, reconciled when its tokens are known.
type limitCharge struct {
	lim  limit.Limiter
	key  string
	rate limit.Rate
	n    int64 // units taken, debt included
	kind int
}

// limitSlot is a held concurrency slot.
type limitSlot struct {
	lim limit.Limiter
	key string
}

// limitTrio is the most restrictive decision of one kind, for the
// x-ratelimit-{limit,remaining,reset}-* headers.
type limitTrio struct {
	set              bool
	limit, remaining int64
	reset            time.Duration
}

// note keeps d if it leaves less room than the decision kept so far.
func (t *limitTrio) note(d limit.Decision) {
	if !t.set || d.Remaining < t.remaining || d.Remaining == t.remaining && d.ResetAfter > t.reset {
		*t = limitTrio{set: true, limit: d.Limit, remaining: d.Remaining, reset: d.ResetAfter}
	}
}

// limitGrant is one request's dealings with the limits. A nil
// *limitGrant is a caller nothing limits; its methods do nothing.
type limitGrant struct {
	rl       *rateLimits
	charges  [2 * numScopes]limitCharge
	nCharges int
	slots    [numScopes]limitSlot
	nSlots   int
	requests limitTrio
	tokens   limitTrio
	// settled and released make settle and release run once; release
	// may come from a stream closed on another goroutine.
	settled  bool
	released atomic.Bool
}

// admit checks and takes every limit of the request; a nil grant means
// nothing limits the caller. On refusal it returns the grant (for the
// headers) and the error, having given back what it took.
func (rl *rateLimits) admit(ctx context.Context, p *auth.Principal, ex *Exchange) (*limitGrant, error) {
	scopes, n := rl.scopesOf(p, ex.ClientIP)
	if n == 0 {
		return nil, nil
	}
	g := &limitGrant{rl: rl}
	if err := g.takeAll(ctx, &scopes, n, ex); err != nil {
		g.rollback()
		if e, ok := err.(*llm.Error); ok && e.Status == http.StatusTooManyRequests {
			g.peek(ctx, &scopes, n) // the headers of the counters not reached
		}
		return g, err
	}
	return g, nil
}

// takeAll takes one request and the estimated tokens from every limited
// counter of scopes, then a concurrency slot from each scope that bounds
// them, stopping at the first refusal.
func (g *limitGrant) takeAll(ctx context.Context, scopes *[numScopes]scopeLimits, n int, ex *Exchange) error {
	prompt, output := int64(-1), int64(0)
	for i := range n {
		s := &scopes[i]
		if s.rpm > 0 {
			if err := g.take(ctx, kindRequests, s, s.rpm, 1, 0); err != nil {
				return err
			}
		}
		if s.tpm > 0 {
			if prompt < 0 {
				prompt, output = estimateTokens(ex)
			}
			if err := g.take(ctx, kindTokens, s, s.tpm, prompt, output); err != nil {
				return err
			}
		}
	}
	for i := range n {
		if s := &scopes[i]; s.maxConcurrent > 0 {
			if err := g.acquire(ctx, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// take takes prompt+output units (requests: 1 and 0) from s's counter of
// kind, whose limit is n per window. A token cost above the bucket's
// burst takes the burst at once and the rest as debt; a prompt alone
// above n can never pass and is refused as too large.
func (g *limitGrant) take(ctx context.Context, kind int, s *scopeLimits, n, prompt, output int64) error {
	rl := g.rl
	if kind == kindTokens && prompt > n {
		rl.metrics.Refused(s.scope, kind)
		return &llm.Error{Status: http.StatusTooManyRequests, Type: llm.TypeRateLimit, Code: "rate_limit_exceeded",
			Fault: llm.FaultPolicy, Message: fmt.Sprintf("request too large: its prompt is estimated at %d tokens, "+
				"more than the %d tokens %s that %s may use", prompt, n, rl.per(), scopeName[s.scope])}
	}
	cost := min(prompt+output, n)
	key := limiterKey(kind, s)
	var (
		lim   limit.Limiter
		rate  limit.Rate
		d     limit.Decision
		err   error
		local bool
	)
	for range 2 { // the shared backend, then the fallback if it fails
		if lim, local = rl.backend(); lim == nil {
			return unavailable()
		}
		rate = rl.rate(kind, n)
		if local {
			rate = rl.rate(kind, rl.share(n))
		}
		d, err = lim.Allow(ctx, key, rate, min(cost, rate.Burst))
		if err == nil || local || errors.Is(err, limit.ErrInvalid) {
			break
		}
		rl.failed(err)
	}
	if err != nil {
		return err
	}
	if !local {
		rl.recovered()
	}
	if kind == kindTokens {
		g.tokens.note(d)
	} else {
		g.requests.note(d)
	}
	if !d.Allowed {
		rl.metrics.Refused(s.scope, kind)
		retry := max(d.RetryAfter, time.Millisecond)
		return &llm.Error{Status: http.StatusTooManyRequests, Type: llm.TypeRateLimit, Code: "rate_limit_exceeded",
			Fault: llm.FaultPolicy, RetryAfter: retry,
			Message: rl.describe(kind, s, rate.Limit) + "; try again in " + limit.FormatReset(retry)}
	}
	if debt := cost - rate.Burst; debt > 0 {
		g.adjust(lim, key, rate, debt)
	}
	g.charges[g.nCharges] = limitCharge{lim: lim, key: key, rate: rate, n: cost, kind: kind}
	g.nCharges++
	return nil
}

// acquire takes one of s's concurrency slots.
func (g *limitGrant) acquire(ctx context.Context, s *scopeLimits) error {
	rl := g.rl
	key := limiterKey(kindConcurrency, s)
	var (
		lim         limit.Limiter
		ok, local   bool
		err         error
		maxInFlight int64
	)
	for range 2 {
		if lim, local = rl.backend(); lim == nil {
			return unavailable()
		}
		maxInFlight = s.maxConcurrent
		if local {
			maxInFlight = rl.share(maxInFlight)
		}
		ok, err = lim.Acquire(ctx, key, maxInFlight)
		if err == nil || local || errors.Is(err, limit.ErrInvalid) {
			break
		}
		rl.failed(err)
	}
	if err != nil {
		return err
	}
	if !local {
		rl.recovered()
	}
	if !ok {
		rl.metrics.Refused(s.scope, kindConcurrency)
		return &llm.Error{Status: http.StatusTooManyRequests, Type: llm.TypeRateLimit, Code: "rate_limit_exceeded",
			Fault: llm.FaultPolicy, RetryAfter: time.Second,
			Message: rl.describe(kindConcurrency, s, maxInFlight) + "; try again when one has finished"}
	}
	g.slots[g.nSlots] = limitSlot{lim: lim, key: key}
	g.nSlots++
	return nil
}

// adjust corrects a counter after the fact, off the client's
// cancellation; a failure of the shared backend is only noted.
func (g *limitGrant) adjust(lim limit.Limiter, key string, rate limit.Rate, delta int64) {
	if lim == g.rl.shared {
		if _, local := g.rl.backend(); local {
			return // Redis is down: do not wait for it again
		}
	}
	if err := lim.Adjust(context.Background(), key, rate, delta); err != nil && lim == g.rl.shared {
		g.rl.failed(err)
	}
}

// rollback gives back everything a refused request took.
func (g *limitGrant) rollback() {
	for i := range g.nCharges {
		c := &g.charges[i]
		g.adjust(c.lim, c.key, c.rate, -c.n)
	}
	g.nCharges = 0
	g.release()
}

// release frees the request's concurrency slots, once.
func (g *limitGrant) release() {
	if g == nil || g.released.Swap(true) {
		return
	}
	for i := range g.nSlots {
		sl := &g.slots[i]
		if err := sl.lim.Release(context.Background(), sl.key); err != nil && sl.lim == g.rl.shared {
			g.rl.failed(err) // the Redis lease expires on its own
		}
	}
}

// settle reconciles the token counters with the answer's real usage (zero
// when the request failed), once. Call it after settleUsage.
func (g *limitGrant) settle(ex *Exchange) {
	if g == nil || g.settled {
		return
	}
	g.settled = true
	actual := int64(ex.Usage.TotalTokens())
	if ex.cacheServed {
		actual = 0 // no provider spent tokens on it
	}
	for i := range g.nCharges {
		if c := &g.charges[i]; c.kind == kindTokens && actual != c.n {
			g.adjust(c.lim, c.key, c.rate, actual-c.n)
		}
	}
}
