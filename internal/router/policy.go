package router

import (
	"math/rand/v2"
	"time"
)

// Backoff is how the wait between two attempts on one target grows.
type Backoff uint8

// Backoffs. The zero value is exponential.
const (
	BackoffExponential Backoff = iota // Delay, 2×Delay, 4×Delay, …
	BackoffConstant                   // Delay every time
	BackoffLinear                     // Delay, 2×Delay, 3×Delay, …
)

// ParseBackoff reads "constant", "linear" or "exponential".
func ParseBackoff(s string) (Backoff, bool) {
	switch s {
	case "exponential":
		return BackoffExponential, true
	case "constant":
		return BackoffConstant, true
	case "linear":
		return BackoffLinear, true
	}
	return 0, false
}

func (b Backoff) String() string {
	switch b {
	case BackoffConstant:
		return "constant"
	case BackoffLinear:
		return "linear"
	}
	return "exponential"
}

// Fallback is a set of non-retryable failures that still move a request to
// the next candidate.
type Fallback uint8

// Fallback triggers.
const (
	// FallbackContextLength moves on after a context-length error, to a
	// candidate with a larger known context window.
	FallbackContextLength Fallback = 1 << iota
	// FallbackContentPolicy moves on after a content-policy refusal.
	FallbackContentPolicy
)

// Hard bounds, whatever config and headers say.
const (
	// MaxAttemptsPerTarget bounds Policy.MaxAttempts.
	MaxAttemptsPerTarget = 10
	// maxTotalAttempts bounds the attempts of one request over all its
	// candidates.
	maxTotalAttempts = 20
)

// Retry is how one target is tried again: the policy's retry settings,
// which a target may carry its own of (Target.Retry). Fields mean what
// Policy's of the same names do.
type Retry struct {
	MaxAttempts   int
	Backoff       Backoff
	Delay         time.Duration
	MaxDelay      time.Duration
	Jitter        bool
	MaxRetryAfter time.Duration
}

// Fixed is a set of retry settings the request itself chose.
type Fixed uint8

// Retry settings a request can fix (the x-sluice-* headers).
const (
	FixedMaxAttempts Fixed = 1 << iota
	FixedDelay
	FixedBackoff
)

// Policy is how one request is run against its candidates. The zero value
// tries each candidate once, without timeouts beyond the caller's context.
type Policy struct {
	// MaxAttempts is how many times one target is tried before the next
	// candidate (1 to MaxAttemptsPerTarget; 0 means 1). Only retryable
	// failures (connect errors, timeouts, 408, 409, 429, 5xx) are retried.
	MaxAttempts int
	// Backoff, Delay and MaxDelay space the attempts on one target: the
	// wait before attempt n+1 is Delay scaled by Backoff for n, capped at
	// MaxDelay (0: no cap). Jitter draws it uniformly from [wait/2, wait].
	Backoff  Backoff
	Delay    time.Duration
	MaxDelay time.Duration
	Jitter   bool
	// MaxRetryAfter caps an upstream Retry-After that is honoured: a
	// longer one moves to the next candidate instead of waiting. 0 means
	// never wait for Retry-After (always move on).
	MaxRetryAfter time.Duration
	// FallbackOn adds non-retryable failures that move to the next
	// candidate.
	FallbackOn Fallback
	// RequestTimeout bounds the time to the first byte of the answer over
	// every attempt and wait; AttemptTimeout one attempt (a whole answer,
	// or the first byte of a stream); TTFT, when set, replaces
	// AttemptTimeout for streams. Idle bounds the silence between two
	// chunks of a stream (the gateway applies it). 0: no bound.
	RequestTimeout time.Duration
	AttemptTimeout time.Duration
	TTFT           time.Duration
	Idle           time.Duration
	// Fixed lists the retry settings set for this request (the
	// x-sluice-* headers): a target's own Retry does not replace them.
	Fixed Fixed
}

// forTarget returns the policy for t: p itself, or when t has its own
// Retry a copy in scratch with t's retry settings where the request fixed
// none.
func (p *Policy) forTarget(t *Target, scratch *Policy) *Policy {
	if t.Overrides == nil || t.Overrides.Retry == nil {
		return p
	}
	r := t.Overrides.Retry
	*scratch = *p
	s := scratch
	if p.Fixed&FixedMaxAttempts == 0 {
		s.MaxAttempts = r.MaxAttempts
	}
	if p.Fixed&FixedDelay == 0 {
		s.Delay = r.Delay
	}
	if p.Fixed&FixedBackoff == 0 {
		s.Backoff = r.Backoff
	}
	s.MaxDelay, s.Jitter, s.MaxRetryAfter = r.MaxDelay, r.Jitter, r.MaxRetryAfter
	return s
}

// attempts is MaxAttempts within its bounds.
func (p *Policy) attempts() int {
	return min(max(p.MaxAttempts, 1), MaxAttemptsPerTarget)
}

// wait returns how long to wait before attempt n+1 (n >= 1) on a target
// whose last failure asked for retryAfter, and false when the target
// should not be tried again (its Retry-After is beyond MaxRetryAfter).
func (p *Policy) wait(n int, retryAfter time.Duration) (time.Duration, bool) {
	d := p.Delay
	switch p.Backoff {
	case BackoffLinear:
		d *= time.Duration(n)
	case BackoffExponential:
		if n > 1 {
			d <<= min(n-1, 30)
		}
	}
	if d < 0 { // overflow
		d = p.MaxDelay
	}
	if p.MaxDelay > 0 && d > p.MaxDelay {
		d = p.MaxDelay
	}
	if p.Jitter && d > 1 {
		d = d/2 + rand.N(d/2+1)
	}
	if retryAfter > 0 {
		if retryAfter > p.MaxRetryAfter {
			return 0, false
		}
		d = max(d, retryAfter)
	}
	return d, true
}
