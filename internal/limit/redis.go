package limit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// DefaultLease is how long a Redis concurrency slot stays held when its
	// holder never releases it (a crashed gateway process). It must exceed
	// the longest request the gateway lets run, or a slot can expire while
	// its request still runs and max+1 requests overlap for a while.
	DefaultLease = 10 * time.Minute

	// DefaultTimeout bounds each Redis call (see WithTimeout), so an
	// unreachable Redis costs a request at most this long whatever the
	// client's retry options; a healthy local Redis answers in well under 1ms.
	DefaultTimeout = 250 * time.Millisecond

	redisMaxDebt = int64(1) << 50 // µs, ~35 years
)

// Redis is a Limiter shared by every gateway process using the same Redis
// and prefix. Each call is one atomic Lua script (EVALSHA, falling back to
// EVAL when the server lacks it) on one key, so it works with a cluster
// client too. The server's TIME is the clock, so replicas with skewed clocks
// agree; time is kept in microseconds.
//
// Rate buckets live at prefix+"rl:"+key with a TTL of their time to full, so
// idle keys vanish. Concurrency slots are leases in a sorted set at
// prefix+"cc:"+key: Acquire adds one scored with the server time, Release
// removes the oldest live one, and a lease older than the lease duration
// (DefaultLease unless WithLease) no longer counts, so a crashed holder
// cannot keep a slot for ever.
type Redis struct {
	c       redis.UniversalClient
	prefix  string
	lease   time.Duration
	timeout time.Duration
	member  string           // per-instance random prefix of lease members
	seq     atomic.Uint64    // makes lease members unique within the instance
	clock   func() time.Time // tests only; nil means the server's TIME
}

// RedisOption configures NewRedis.
type RedisOption func(*Redis)

// WithLease sets the concurrency lease (see DefaultLease); values below a
// millisecond are raised to one.
func WithLease(d time.Duration) RedisOption {
	return func(r *Redis) { r.lease = max(d, time.Millisecond) }
}

// WithTimeout sets the deadline added to each call's context (see
// DefaultTimeout); zero or negative adds none, leaving the caller's context
// and the client's own timeouts in charge.
func WithTimeout(d time.Duration) RedisOption {
	return func(r *Redis) { r.timeout = d }
}

// NewRedis returns a limiter over client, which the caller owns and closes,
// storing keys under prefix (e.g. "sluice:"; empty is allowed). It panics if
// client is nil, a wiring bug rather than a runtime condition.
func NewRedis(client redis.UniversalClient, prefix string, opts ...RedisOption) *Redis {
	if client == nil {
		panic("limit: NewRedis with a nil client")
	}
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails
	r := &Redis{c: client, prefix: prefix, lease: DefaultLease, timeout: DefaultTimeout, member: hex.EncodeToString(id[:]) + ":"}
	for _, o := range opts {
		o(r)
	}
	return r
}

// clockArg is the scripts' clock argument: empty for the server's TIME, or
// microseconds since redisEpochUnix from the test clock.
func (r *Redis) clockArg() string {
	if r.clock == nil {
		return ""
	}
	return strconv.FormatInt(int64(r.clock().Sub(time.Unix(redisEpochUnix, 0))/time.Microsecond), 10)
}

// bound adds r.timeout to ctx; the caller must call the returned cancel.
func (r *Redis) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.timeout)
}

func redisGCRA(key string, rate Rate) (gcra, error) {
	if err := checkRate(key, rate); err != nil {
		return gcra{}, err
	}
	period := int64(rate.Period / time.Microsecond)
	if period < 1 {
		return gcra{}, fmt.Errorf("limit: rate period must be at least 1µs for redis, got %s: %w", rate.Period, ErrInvalid)
	}
	return newGCRA(period, rate, redisMaxDebt), nil
}

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string, rate Rate, cost int64) (Decision, error) {
	g, err := redisGCRA(key, rate)
	if err != nil {
		return Decision{}, err
	}
	if err := checkCost(cost); err != nil {
		return Decision{}, err
	}
	q, rem := g.span(uint64(cost))
	tooBig := cost > rate.burst()
	big := "0"
	if tooBig {
		big = "1"
	}
	ctx, cancel := r.bound(ctx)
	defer cancel()
	res, err := allowScript.Run(ctx, r.c, []string{r.prefix + "rl:" + key},
		q, rem, g.limit, g.capQ, g.capR, big, r.clockArg(), g.maxDebt).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("limit: redis allow: %w", err)
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("limit: redis allow: unexpected reply %v", res)
	}
	// The script answers relative to its own clock: tat − now and frac.
	return g.decision(res[0] == 1, tooBig, cell{tat: res[1], frac: res[2]}, 0, q, rem, time.Microsecond), nil
}

// Adjust implements Limiter.
func (r *Redis) Adjust(ctx context.Context, key string, rate Rate, delta int64) error {
	g, err := redisGCRA(key, rate)
	if err != nil {
		return err
	}
	if delta == 0 {
		return nil
	}
	sign, n := "1", uint64(delta)
	if delta < 0 {
		sign, n = "-1", uint64(-delta)
	}
	q, rem := g.span(n)
	ctx, cancel := r.bound(ctx)
	defer cancel()
	err = adjustScript.Run(ctx, r.c, []string{r.prefix + "rl:" + key},
		q, rem, g.limit, sign, r.clockArg(), g.maxDebt).Err()
	if err != nil {
		return fmt.Errorf("limit: redis adjust: %w", err)
	}
	return nil
}

// Acquire implements Limiter.
func (r *Redis) Acquire(ctx context.Context, key string, max int64) (bool, error) {
	if err := checkMax(key, max); err != nil {
		return false, err
	}
	member := r.member + strconv.FormatUint(r.seq.Add(1), 10)
	ctx, cancel := r.bound(ctx)
	defer cancel()
	n, err := acquireScript.Run(ctx, r.c, []string{r.prefix + "cc:" + key},
		max, int64(r.lease/time.Microsecond), member, r.clockArg()).Int64()
	if err != nil {
		return false, fmt.Errorf("limit: redis acquire: %w", err)
	}
	return n == 1, nil
}

// Release implements Limiter. It frees the oldest live lease of key, which
// may be another holder's: leases are anonymous, only their number counts.
func (r *Redis) Release(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	ctx, cancel := r.bound(ctx)
	defer cancel()
	err := releaseScript.Run(ctx, r.c, []string{r.prefix + "cc:" + key},
		int64(r.lease/time.Microsecond), r.clockArg()).Err()
	if err != nil {
		return fmt.Errorf("limit: redis release: %w", err)
	}
	return nil
}
