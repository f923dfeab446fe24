package gateway

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/limit"
)

// limitHeaders sets the rate-limit headers of a request the pipeline has
// run (see setHeaders). A request that failed before the limits stage (an
// unknown model, a model the key may not use) took nothing, but a
// limited caller still learns where it stands: the counters are looked
// at without taking from them.
func (g *Gateway) limitHeaders(ctx context.Context, h http.Header, ex *Exchange, failed bool, f format) {
	gr := ex.limits
	if gr == nil && failed && g.limits != nil {
		gr = g.limits.peek(ctx, infoFrom(ctx).principal, ex.ClientIP)
	}
	gr.setHeaders(h, f)
}

// peek reads the request and token counters of a caller without taking
// from them; nil when nothing limits it or the backend does not answer.
func (rl *rateLimits) peek(ctx context.Context, p *auth.Principal, ip string) *limitGrant {
	scopes, n := rl.scopesOf(p, ip)
	if n == 0 {
		return nil
	}
	g := &limitGrant{rl: rl}
	if !g.peek(ctx, &scopes, n) {
		return nil
	}
	return g
}

// peek notes the state of every request and token counter of scopes in
// g's header decisions without taking from them, so a refusal also
// reports the counters it did not reach. It reports false if the backend
// did not answer (headers are not worth a fallback).
func (g *limitGrant) peek(ctx context.Context, scopes *[numScopes]scopeLimits, n int) bool {
	rl := g.rl
	lim, local := rl.backend()
	if lim == nil {
		return false
	}
	for i := range n {
		s := &scopes[i]
		for kind, limitN := range [2]int64{s.rpm, s.tpm} {
			if limitN <= 0 {
				continue
			}
			if local {
				limitN = rl.share(limitN)
			}
			d, err := lim.Allow(ctx, limiterKey(kind, s), rl.rate(kind, limitN), 0)
			if err != nil {
				return false
			}
			if kind == kindTokens {
				g.tokens.note(d)
			} else {
				g.requests.note(d)
			}
		}
	}
	return true
}

// setHeaders writes the rate-limit headers of a limited caller's response
// (any status, streams included: call it before the first byte): OpenAI's
// x-ratelimit-{limit,remaining,reset}-requests, and the -tokens trio when a
// token limit applies, each from the scope with the least room left; for
// the Anthropic format also anthropic-ratelimit-{requests,tokens}-
// {limit,remaining,reset}, whose reset is an RFC 3339 time. Remaining is
// what may be sent right now, at most the burst (limits.burst_percent of
// the limit); reset is when the counter is back to full.
func (g *limitGrant) setHeaders(h http.Header, f format) {
	if g == nil {
		return
	}
	setTrio(h, &g.requests, "X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests")
	setTrio(h, &g.tokens, "X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens")
	if f == formatAnthropic {
		now := g.rl.now()
		setAnthropicTrio(h, &g.requests, now, "Anthropic-Ratelimit-Requests-Limit",
			"Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Requests-Reset")
		setAnthropicTrio(h, &g.tokens, now, "Anthropic-Ratelimit-Tokens-Limit",
			"Anthropic-Ratelimit-Tokens-Remaining", "Anthropic-Ratelimit-Tokens-Reset")
	}
}

// setTrio sets one kind's OpenAI headers; the names are canonical.
func setTrio(h http.Header, t *limitTrio, limitName, remainingName, resetName string) {
	if !t.set {
		return
	}
	h[limitName] = []string{strconv.FormatInt(t.limit, 10)}
	h[remainingName] = []string{strconv.FormatInt(t.remaining, 10)}
	h[resetName] = []string{limit.FormatReset(t.reset)}
}

// setAnthropicTrio sets one kind's Anthropic headers; the names are
// canonical.
func setAnthropicTrio(h http.Header, t *limitTrio, now time.Time, limitName, remainingName, resetName string) {
	if !t.set {
		return
	}
	h[limitName] = []string{strconv.FormatInt(t.limit, 10)}
	h[remainingName] = []string{strconv.FormatInt(t.remaining, 10)}
	h[resetName] = []string{now.Add(t.reset).UTC().Truncate(time.Second).Add(time.Second).Format(time.RFC3339)}
}
