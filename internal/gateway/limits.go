package gateway

import (
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/limit"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// Scope indexes of the rate limits, in the order they are checked; they
// index telemetry.RateLimitScopes.
const (
	scopeKey = iota
	scopeTeam
	scopeTenant
	scopeIP
	numScopes
)

// Kind indexes of the rate limits; they index telemetry.RateLimitKinds.
const (
	kindRequests = iota
	kindTokens
	kindConcurrency
)

// redisRetryAfter is how long the shared backend is left alone after it
// failed: meanwhile every check goes to the fallback at once instead of
// waiting out another timeout.
const redisRetryAfter = time.Second

// rateLimits enforces the requests-per-window, tokens-per-window and
// concurrency limits of keys, teams, tenants and client IPs (config
// limits: and each scope's own settings). It is built once per gateway;
// its methods are safe for concurrent use.
type rateLimits struct {
	// shared holds the counters: a *limit.Memory, or a *limit.Redis
	// shared with the other replicas.
	shared limit.Limiter
	// local takes over while Redis fails (on_redis_error: local), with
	// each limit divided by replicas; nil for the memory backend and for
	// on_redis_error: closed.
	local    *limit.Memory
	replicas int64
	// redis is the client to close; nil for the memory backend.
	redis redis.UniversalClient
	// downUntil is when Redis is tried again after a failure (Unix ns;
	// 0 when it is healthy); down says a failure was logged.
	downUntil atomic.Int64
	down      atomic.Bool

	window time.Duration
	// burst and tokenBurst are the percent of a request and of a token
	// limit that may be used at once.
	burst, tokenBurst float64
	perIP             config.IPLimits
	metrics           *telemetry.RateLimitMetrics
	log               *slog.Logger
	now               func() time.Time
}

// newRateLimits builds the limits of cfg; reg, if not nil, gets their
// metrics. It does not contact Redis: a Redis that is down at start is
// handled like one that fails later.
func newRateLimits(cfg config.Limits, reg *telemetry.Metrics, log *slog.Logger) (*rateLimits, error) {
	rl := &rateLimits{window: cfg.Window.Std(), burst: cfg.BurstPercent, tokenBurst: cfg.TokenBurstPercent,
		perIP: cfg.PerIP, log: log,
		now: time.Now, replicas: int64(max(cfg.Replicas, 1))}
	if reg != nil {
		rl.metrics = telemetry.NewRateLimitMetrics(reg.Registry())
	}
	switch cfg.Backend {
	case config.LimitsRedis:
		client, err := newRedisClient(cfg.RedisURL.Value(), log)
		if err != nil {
			return nil, fmt.Errorf("gateway: limits.redis_url: %w", err)
		}
		rl.redis = client
		rl.shared = limit.NewRedis(rl.redis, cfg.RedisPrefix)
		if cfg.OnRedisError == config.OnRedisErrorLocal {
			rl.local = limit.NewMemory(nil)
		}
	default:
		rl.shared = limit.NewMemory(nil)
	}
	return rl, nil
}

// close releases the Redis client, if any.
func (rl *rateLimits) close() {
	if rl != nil && rl.redis != nil {
		rl.redis.Close()
	}
}

// rate is a limit of n requests (kindRequests) or tokens (kindTokens)
// per window, with the configured burst for that kind.
func (rl *rateLimits) rate(kind int, n int64) limit.Rate {
	pct := rl.burst
	if kind == kindTokens {
		pct = rl.tokenBurst
	}
	b := int64(math.Ceil(float64(n) * pct / 100))
	return limit.Rate{Limit: n, Period: rl.window, Burst: min(max(b, 1), n)}
}

// share is this replica's part of a limit of n while Redis is down.
func (rl *rateLimits) share(n int64) int64 { return max(n/rl.replicas, 1) }

// backend returns the limiter to count in and whether it is the local
// fallback; nil means refuse (Redis is down and the policy is closed).
func (rl *rateLimits) backend() (limit.Limiter, bool) {
	if until := rl.downUntil.Load(); until == 0 || rl.now().UnixNano() >= until {
		return rl.shared, false
	}
	if rl.local == nil {
		return nil, false
	}
	return rl.local, true
}

// failed notes that the shared backend failed with err.
func (rl *rateLimits) failed(err error) {
	rl.downUntil.Store(rl.now().Add(redisRetryAfter).UnixNano())
	policy := config.OnRedisErrorLocal
	if rl.local == nil {
		policy = config.OnRedisErrorClosed
	}
	rl.metrics.BackendError(policy)
	if !rl.down.Swap(true) {
		rl.log.Warn("rate limits: Redis failed; checks go to the fallback until it answers again",
			"on_redis_error", policy, "error", err)
	}
}

// recovered notes that the shared backend answered.
func (rl *rateLimits) recovered() {
	if rl.downUntil.Load() != 0 {
		rl.downUntil.Store(0)
	}
	if rl.down.Load() && rl.down.Swap(false) {
		rl.log.Info("rate limits: Redis answers again")
	}
}

// scopeLimits are the limits of one scope of one request.
type scopeLimits struct {
	scope                   int // scopeKey …
	id                      string
	rpm, tpm, maxConcurrent int64
}

// scopesOf lists the limited scopes of a request: the principal's key,
// team and tenant with a limit set, then the client IP if per-IP limits
// are on. n is 0 for a caller nothing limits.
func (rl *rateLimits) scopesOf(p *auth.Principal, ip string) (out [numScopes]scopeLimits, n int) {
	perIP := (rl.perIP.RPM > 0 || rl.perIP.TPM > 0) && ip != ""
	if !perIP && !limited(p) {
		return out, 0 // the common case, without copying the scopes
	}
	ss, ns := p.Scopes()
	for i := range ns {
		s := &ss[i]
		l := &s.Limits
		if l.RPM <= 0 && l.TPM <= 0 && l.MaxConcurrent <= 0 {
			continue
		}
		sc := scopeKey
		switch s.Kind {
		case auth.ScopeTeam:
			sc = scopeTeam
		case auth.ScopeTenant:
			sc = scopeTenant
		}
		out[n] = scopeLimits{scope: sc, id: s.ID, rpm: max(l.RPM, 0), tpm: max(l.TPM, 0),
			maxConcurrent: max(l.MaxConcurrent, 0)}
		n++
	}
	if perIP {
		out[n] = scopeLimits{scope: scopeIP, id: ip, rpm: rl.perIP.RPM, tpm: rl.perIP.TPM}
		n++
	}
	return out, n
}

// limited reports whether any level of p sets a rate limit (Scopes
// decides which levels count; this only saves copying them).
func limited(p *auth.Principal) bool {
	return p != nil && (p.RPM > 0 || p.TPM > 0 || p.MaxConcurrent > 0 ||
		p.Team.RPM > 0 || p.Team.TPM > 0 || p.Team.MaxConcurrent > 0 ||
		p.Tenant.RPM > 0 || p.Tenant.TPM > 0 || p.Tenant.MaxConcurrent > 0)
}

// limiterKey names a scope's counter of one kind ("rpm:key:key_…",
// "tpm:team:team_…", "tenant:ten_…" for concurrency, which the limiter
// keeps apart from rates); never a secret (ids and addresses only), since
// Redis stores it in clear.
func limiterKey(kind int, s *scopeLimits) string {
	return [...]string{"rpm:", "tpm:", ""}[kind] + telemetry.RateLimitScopes[s.scope] + ":" + s.id
}

// scopeName is how a refusal names the scope to the caller.
var scopeName = [numScopes]string{"this key", "this key's team", "this key's tenant", "this client IP address"}

// per says "per minute" for the default window, else "per 10s".
func (rl *rateLimits) per() string {
	if rl.window == time.Minute {
		return "per minute"
	}
	return "per " + rl.window.String()
}

// describe is a refusal's message.
func (rl *rateLimits) describe(kind int, s *scopeLimits, limitN int64) string {
	switch kind {
	case kindTokens:
		return fmt.Sprintf("rate limit reached: %s may use %d tokens %s", scopeName[s.scope], limitN, rl.per())
	case kindConcurrency:
		return fmt.Sprintf("rate limit reached: %s may have %d requests in flight at once", scopeName[s.scope], limitN)
	}
	return fmt.Sprintf("rate limit reached: %s may send %d requests %s", scopeName[s.scope], limitN, rl.per())
}
