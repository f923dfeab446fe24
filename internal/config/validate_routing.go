package config

import (
	"slices"
	"strings"
)

// maxRetryAttempts bounds retry.max_attempts (the router's own bound).
const maxRetryAttempts = 10

// routing checks the routing section and the providers' routing keys
// (region, health_check).
func (v *validator) routing() {
	r := &v.c.Routing
	v.retry(&r.Retry, "routing.retry")
	v.timeouts(&r.Timeouts, "routing.timeouts")
	v.fallbackOn(r.FallbackOn, "routing.fallback_on")
	b := &r.Breaker
	if b.ConsecutiveFailures < 0 {
		v.bad("routing.breaker.consecutive_failures", "must not be negative (0 disables this trigger)")
	}
	if b.ErrorRate < 0 || b.ErrorRate > 1 {
		v.bad("routing.breaker.error_rate", "must be from 0 to 1 (a share of failed attempts; 0 disables this trigger)")
	}
	if b.ErrorRate > 0 && b.Window <= 0 {
		v.bad("routing.breaker.window", "must be greater than 0 when error_rate is set")
	}
	if b.MinRequests < 0 {
		v.bad("routing.breaker.min_requests", "must not be negative")
	}
	if b.Enabled && b.Cooldown <= 0 {
		v.bad("routing.breaker.cooldown", "must be greater than 0 (how long an open breaker skips its target)")
	}
	if b.HalfOpenProbes < 1 {
		v.bad("routing.breaker.half_open_probes", "must be at least 1")
	}
	if d := r.LeastLatency.Decay; d <= 0 || d > 1 {
		v.bad("routing.least_latency.decay", "must be above 0 and at most 1 (the weight of a new sample)")
	}
	if x := r.LeastLatency.Explore; x < 0 || x > 0.5 {
		v.bad("routing.least_latency.explore", "must be from 0 to 0.5 (a share of requests)")
	}
	for i := range v.c.Providers {
		p := &v.c.Providers[i]
		path := indexPath("providers", i)
		v.region(fieldPath(path, "region"), p.Region)
		hp := fieldPath(path, "health_check")
		v.nonNegative(fieldPath(hp, "interval"), p.HealthCheck.Interval)
		v.nonNegative(fieldPath(hp, "timeout"), p.HealthCheck.Timeout)
	}
}

func (v *validator) retry(r *Retry, path string) {
	if r.MaxAttempts < 1 || r.MaxAttempts > maxRetryAttempts {
		v.bad(fieldPath(path, "max_attempts"), "must be from 1 to %d (attempts on one target, the first included)", maxRetryAttempts)
	}
	if !slices.Contains(backoffs, r.Backoff) {
		bp := fieldPath(path, "backoff")
		v.bad(bp, "must be constant, linear or exponential%s", v.show(bp, r.Backoff))
	}
	v.nonNegative(fieldPath(path, "delay"), r.Delay)
	v.nonNegative(fieldPath(path, "max_delay"), r.MaxDelay)
	v.nonNegative(fieldPath(path, "max_retry_after"), r.MaxRetryAfter)
}

func (v *validator) timeouts(t *Timeouts, path string) {
	v.nonNegative(fieldPath(path, "request"), t.Request)
	v.nonNegative(fieldPath(path, "attempt"), t.Attempt)
	v.nonNegative(fieldPath(path, "ttft"), t.TTFT)
	v.nonNegative(fieldPath(path, "idle"), t.Idle)
}

func (v *validator) fallbackOn(on []string, path string) {
	for i, s := range on {
		if !slices.Contains(fallbackOns, s) {
			ip := indexPath(path, i)
			v.bad(ip, "must be %s%s", strings.Join(fallbackOns, " or "), v.show(ip, s))
		}
	}
}

// region checks a region tag: empty, or 1 to 32 of [a-z0-9-].
func (v *validator) region(path, r string) {
	if r == "" {
		return
	}
	ok := len(r) <= 32
	for i := 0; i < len(r) && ok; i++ {
		c := r[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
	}
	if !ok {
		v.bad(path, "must be 1 to 32 of a-z, 0-9 and '-' (e.g. eu, us-east)%s", v.show(path, r))
	}
}
