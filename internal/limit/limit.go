package limit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Rate is Limit units per Period with a bucket of Burst units, e.g.
// Rate{Limit: 600, Period: time.Minute, Burst: 12}. An idle key's bucket is
// full and admits Burst units at once, then refills at one unit per emission
// interval T = Period/Limit. So in any window of length W a key is admitted
// at most Burst + W·Limit/Period units (a full bucket plus its refill) and
// over a long run Limit per Period; unlike a fixed window it never admits
// 2·Limit within an instant at a boundary. The zero Burst means Limit, which
// admits up to 2·Limit in the first Period from a full bucket; a small Burst
// (e.g. 2 % of Limit) keeps every window of length Period within Limit + Burst.
type Rate struct {
	// Limit is the number of units per Period; ≥ 1.
	Limit int64
	// Period is the time Limit units take to refill; > 0. The Redis backend
	// works in whole microseconds and truncates it.
	Period time.Duration
	// Burst is the bucket's capacity in units, in [1, Limit]; 0 means Limit.
	// A drained bucket is full again after Burst·Period/Limit.
	Burst int64
}

// burst returns the rate's capacity in units, resolving 0 to Limit.
func (r Rate) burst() int64 {
	if r.Burst == 0 {
		return r.Limit
	}
	return r.Burst
}

// Decision is the outcome of Allow. Its fields map to OpenAI's headers:
// x-ratelimit-limit-* (Limit), x-ratelimit-remaining-* (Remaining),
// x-ratelimit-reset-* (FormatReset(ResetAfter)) and, when refused,
// Retry-After (FormatRetryAfter(RetryAfter)).
type Decision struct {
	// Allowed reports whether cost was taken; a refused call takes nothing.
	Allowed bool
	// Limit is the rate's Limit.
	Limit int64
	// Remaining is how many units could be taken right now after this call,
	// at most the rate's Burst; 0 when the bucket is drained or in debt.
	Remaining int64
	// ResetAfter is the time until the bucket is full again (0 when full).
	ResetAfter time.Duration
	// RetryAfter is zero when Allowed; otherwise the time after which the
	// same cost would be admitted if nothing else takes from the bucket. A
	// cost above the rate's Burst (Limit when Burst is 0) is never admitted:
	// it is refused with RetryAfter equal to ResetAfter, and callers should
	// report it as too large.
	RetryAfter time.Duration
}

// Limiter is a rate and concurrency limiter shared by every caller of a key.
// Keys are opaque; a caller uses distinct keys for distinct limits (e.g.
// "key:42:rpm" and "key:42:tpm"), because a key's bucket is shared by every
// Rate it is called with. Keys may be stored in clear (Redis), so they must
// name a principal by id, never by secret. Methods are safe for concurrent
// use. Errors report an invalid argument or an unreachable backend; the caller
// decides whether to fail open or closed.
type Limiter interface {
	// Allow takes cost units (1 for a request; estimated tokens for a token
	// limit) from key's bucket under rate; a refused call takes nothing.
	// Cost 0 takes nothing and reports the bucket's state (Allowed is false
	// only when the bucket is in debt).
	Allow(ctx context.Context, key string, rate Rate, cost int64) (Decision, error)
	// Adjust corrects a key's bucket after the fact by delta units (actual −
	// estimated tokens; negative gives back), never refusing; the bucket may
	// go into debt, so the next Allow waits it out. Giving back never fills a
	// bucket beyond full.
	Adjust(ctx context.Context, key string, rate Rate, delta int64) error
	// Acquire takes one of max concurrency slots of key; ok is false when
	// max are already held. Each successful Acquire must be paired with one
	// Release.
	Acquire(ctx context.Context, key string, max int64) (ok bool, err error)
	// Release frees one slot of key; releasing a key with no held slot is a
	// no-op.
	Release(ctx context.Context, key string) error
}

var (
	_ Limiter = (*Memory)(nil)
	_ Limiter = (*Redis)(nil)
)

// ErrInvalid is wrapped by every error about a bad argument (empty key,
// non-positive rate or max, burst outside [0, Limit], negative cost), as
// opposed to backend failures.
var ErrInvalid = errors.New("invalid argument")

func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("limit: empty key: %w", ErrInvalid)
	}
	return nil
}

func checkRate(key string, rate Rate) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if rate.Limit < 1 {
		return fmt.Errorf("limit: rate limit must be at least 1, got %d: %w", rate.Limit, ErrInvalid)
	}
	if rate.Period <= 0 {
		return fmt.Errorf("limit: rate period must be positive, got %s: %w", rate.Period, ErrInvalid)
	}
	if rate.Burst < 0 || rate.Burst > rate.Limit {
		return fmt.Errorf("limit: rate burst must be in [0, limit %d], got %d: %w", rate.Limit, rate.Burst, ErrInvalid)
	}
	return nil
}

func checkCost(cost int64) error {
	if cost < 0 {
		return fmt.Errorf("limit: cost must not be negative, got %d: %w", cost, ErrInvalid)
	}
	return nil
}

func checkMax(key string, max int64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if max < 1 {
		return fmt.Errorf("limit: max concurrency must be at least 1, got %d: %w", max, ErrInvalid)
	}
	return nil
}

// FormatReset formats a reset duration in the style of OpenAI's
// x-ratelimit-reset-* headers ("20ms", "1.5s", "6m0s"), which clients parse
// with Go-style duration parsers. It rounds up (to milliseconds below a
// minute, to seconds from a minute on) so a client never retries too early;
// zero or negative is "0s".
func FormatReset(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	unit := time.Millisecond
	if d >= time.Minute {
		unit = time.Second
	}
	return ceil(d, unit).String()
}

// FormatRetryAfter formats d as a Retry-After header value: whole seconds,
// rounded up, so "1" for anything in (0, 1s]; zero or negative is "0".
func FormatRetryAfter(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64(ceil(d, time.Second)/time.Second), 10)
}

// ceil rounds d > 0 up to a multiple of unit, saturating near the maximum.
func ceil(d, unit time.Duration) time.Duration {
	if r := d % unit; r != 0 {
		if d > maxDuration-unit {
			return d - r
		}
		d += unit - r
	}
	return d
}

const maxDuration = time.Duration(1<<63 - 1)
