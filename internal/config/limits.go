package config

import (
	"net/url"
	"strings"
	"time"
)

// Limits configures rate limits: where their counters live, how bursty
// they may be, and the limits every caller gets by client IP. The limits
// of keys, teams and tenants (rpm, tpm, max_concurrent) are set through the
// admin API and counted separately for each of the three.
type Limits struct {
	// Backend keeps the counters in "memory" (default: this process only)
	// or in "redis" (shared by every replica using the same redis_url and
	// redis_prefix, so a limit holds across all of them).
	Backend string `yaml:"backend"`
	// RedisURL is redis://[user:password@]host:port[/db] (rediss:// for
	// TLS, unix:///path for a socket), usually "${SLUICE_REDIS_URL}".
	// Required for the redis backend. Redacted when printed.
	RedisURL Secret `yaml:"redis_url"`
	// RedisPrefix starts every Redis key of the limits. Default "sluice:".
	// Replicas that share limits must use the same one.
	RedisPrefix string `yaml:"redis_prefix"`
	// OnRedisError is what a request meets while Redis cannot be reached:
	// "local" (default) counts it in this process instead, against this
	// replica's share of each limit (limit / replicas, at least 1), so the
	// fleet as a whole stays near its limits; "closed" refuses it with 503
	// rate_limit_unavailable. After a failure Redis is tried again once a
	// second, not on every request.
	OnRedisError string `yaml:"on_redis_error"`
	// Replicas is how many gateway replicas share the Redis limits; it
	// only sizes the local share under on_redis_error: local. Default 1.
	Replicas int `yaml:"replicas"`
	// BurstPercent is how much of a limit may be used at once from an idle
	// start, in percent (more than 0, at most 100). Default 2: a limit of
	// 600 rpm admits 12 requests at once and then one every 100ms, so no
	// window of a minute admits more than 612. 100 allows a whole
	// minute's worth at once (and up to twice the limit within a minute).
	// A request estimated at more tokens than the token burst still passes
	// when the bucket is full: the rest is taken as debt that later
	// requests wait out.
	BurstPercent float64 `yaml:"burst_percent"`
	// TokenBurstPercent is BurstPercent for token limits (tpm). Default
	// 25: one request's tokens are lumpy (a prompt of 20,000 tokens is
	// one request), so a 100,000 tpm limit takes 25,000 at once; over a
	// minute it admits at most limit + burst.
	TokenBurstPercent float64 `yaml:"token_burst_percent"`
	// Window is the period rpm and tpm are counted over. Default 1m, which
	// makes them per minute as their names say; other values (rpm: 600
	// with window: 10s admits 600 per 10 seconds) are for tests and
	// demos. At least 100ms.
	Window Duration `yaml:"window"`
	// PerIP limits every caller by client IP (the connection's address;
	// forwarded headers are not trusted), keyed or not, on top of its
	// key's, team's and tenant's limits. Zero values: off.
	PerIP IPLimits `yaml:"per_ip"`
}

// IPLimits are the limits of one client IP address.
type IPLimits struct {
	// RPM is requests per window (per minute by default); 0 is no limit.
	RPM int64 `yaml:"rpm"`
	// TPM is tokens (prompt and completion) per window; 0 is no limit.
	TPM int64 `yaml:"tpm"`
}

// Limits backends and Redis error policies.
const (
	LimitsMemory = "memory"
	LimitsRedis  = "redis"
	// OnRedisErrorLocal and OnRedisErrorClosed are Limits.OnRedisError's
	// values.
	OnRedisErrorLocal  = "local"
	OnRedisErrorClosed = "closed"
)

const (
	defaultLimitsBackend      = LimitsMemory
	defaultLimitsRedisPrefix  = "sluice:"
	defaultLimitsOnRedisError = OnRedisErrorLocal
	defaultLimitsReplicas     = 1
	defaultLimitsBurstPercent = 2
	defaultLimitsTokenBurst   = 25
	defaultLimitsWindow       = Duration(time.Minute)
	minLimitsWindow           = Duration(100 * time.Millisecond)
)

// limitsDefaults fills the limits section.
func (c *Config) limitsDefaults() {
	l := &c.Limits
	if l.Backend == "" {
		l.Backend = defaultLimitsBackend
	}
	if l.RedisPrefix == "" && !c.src.explicit("limits.redis_prefix") {
		l.RedisPrefix = defaultLimitsRedisPrefix
	}
	if l.OnRedisError == "" {
		l.OnRedisError = defaultLimitsOnRedisError
	}
	c.defaultInt(&l.Replicas, "limits.replicas", defaultLimitsReplicas)
	c.defaultFloat(&l.BurstPercent, "limits.burst_percent", defaultLimitsBurstPercent)
	c.defaultFloat(&l.TokenBurstPercent, "limits.token_burst_percent", defaultLimitsTokenBurst)
	c.defaultDuration(&l.Window, "limits.window", defaultLimitsWindow)
}

// limits checks the limits section.
func (v *validator) limits() {
	l := &v.c.Limits
	switch l.Backend {
	case LimitsMemory:
	case LimitsRedis:
		if l.RedisURL == "" {
			v.missing("limits.redis_url", `required for the redis backend: a URL such as "${SLUICE_REDIS_URL}"`)
		} else if !validRedisURL(l.RedisURL.Value()) {
			// Never printed: the URL may hold a password.
			v.bad("limits.redis_url", badRedisURL)
		}
	default:
		v.bad("limits.backend", "must be memory or redis%s", v.show("limits.backend", l.Backend))
	}
	switch l.OnRedisError {
	case OnRedisErrorLocal, OnRedisErrorClosed:
	default:
		v.bad("limits.on_redis_error", "must be local or closed%s", v.show("limits.on_redis_error", l.OnRedisError))
	}
	v.positive("limits.replicas", l.Replicas)
	if !(l.BurstPercent > 0 && l.BurstPercent <= 100) { // also rejects NaN
		v.bad("limits.burst_percent", "must be more than 0 and at most 100")
	}
	if !(l.TokenBurstPercent > 0 && l.TokenBurstPercent <= 100) {
		v.bad("limits.token_burst_percent", "must be more than 0 and at most 100")
	}
	if l.Window < minLimitsWindow {
		v.bad("limits.window", "must be at least %s", minLimitsWindow)
	}
	if l.PerIP.RPM < 0 {
		v.bad("limits.per_ip.rpm", "must not be negative (0 means no limit)")
	}
	if l.PerIP.TPM < 0 {
		v.bad("limits.per_ip.tpm", "must not be negative (0 means no limit)")
	}
}

// badRedisURL is the message for a Redis URL that validRedisURL refuses.
const badRedisURL = "must be a redis://, rediss://, unix://, redis+sentinel:// (with master_name) " +
	"or redis+cluster:// URL (rediss+… for TLS)"

// redisScheme reports whether s is a scheme the gateway's Redis clients
// accept: one server (redis, rediss, unix), a Sentinel-monitored primary
// (redis+sentinel, rediss+sentinel) or a Redis Cluster (redis+cluster,
// rediss+cluster).
func redisScheme(s string) bool {
	switch s {
	case "redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster":
		return true
	}
	return false
}

// validRedisURL reports whether s parses as a Redis URL of a known scheme;
// a Sentinel URL must name its primary with master_name.
func validRedisURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || !redisScheme(u.Scheme) {
		return false
	}
	return !strings.HasSuffix(u.Scheme, "+sentinel") || u.Query().Get("master_name") != ""
}
