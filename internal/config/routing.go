package config

import "time"

// Routing holds the defaults of retries, timeouts and fallbacks for every
// virtual model (a model's own retry, timeouts and fallback_on keys
// override them key by key) and of direct "provider/model" calls, and the
// circuit breaker and least-latency settings shared by all targets.
type Routing struct {
	Retry    Retry    `yaml:"retry"`
	Timeouts Timeouts `yaml:"timeouts"`
	// FallbackOn lists non-retryable failures that still move a request to
	// the next target: "context_length" (to a target with a larger
	// context_window) and "content_policy". Default none.
	FallbackOn   []string     `yaml:"fallback_on"`
	Breaker      Breaker      `yaml:"breaker"`
	LeastLatency LeastLatency `yaml:"least_latency"`
}

// Retry is how often one target is tried, and how the tries are spaced.
type Retry struct {
	// MaxAttempts is how many times one target is tried before the next
	// one (only connect errors, timeouts, 408, 409, 429 and 5xx are
	// retried). 1 to 10; default 1 (no retry of the same target: the next
	// target is tried at once).
	MaxAttempts int `yaml:"max_attempts"`
	// Backoff is constant, linear or exponential (default).
	Backoff string `yaml:"backoff"`
	// Delay is the first wait between two attempts. Default 250ms.
	Delay Duration `yaml:"delay"`
	// MaxDelay caps a wait. Default 10s; 0 means no cap.
	MaxDelay Duration `yaml:"max_delay"`
	// Jitter draws each wait from [wait/2, wait]. Default true.
	Jitter bool `yaml:"jitter"`
	// MaxRetryAfter is the longest upstream Retry-After that is waited
	// out; a longer one moves to the next target at once. Default 30s; 0
	// never waits for Retry-After.
	MaxRetryAfter Duration `yaml:"max_retry_after"`
}

// Timeouts bound a request. 0 (the default of each) means no bound beyond
// the provider's timeout and the client's own.
type Timeouts struct {
	// Request bounds the time to the first byte of the answer over all
	// attempts, waits and fallbacks (x-sluice-request-timeout overrides).
	Request Duration `yaml:"request"`
	// Attempt bounds one attempt: a whole answer, or the first chunk of a
	// stream.
	Attempt Duration `yaml:"attempt"`
	// TTFT, when set, replaces attempt for streams: the time to the first
	// chunk of one attempt.
	TTFT Duration `yaml:"ttft"`
	// Idle bounds the silence between two chunks of a stream once the
	// first has arrived; a stalled stream ends with an error event.
	Idle Duration `yaml:"idle"`
}

// Breaker configures the circuit breaker of each target (provider and
// model).
type Breaker struct {
	// Enabled switches breakers on. Default true.
	Enabled bool `yaml:"enabled"`
	// ConsecutiveFailures opens a breaker after that many failures in a
	// row. Default 5; 0 disables this trigger.
	ConsecutiveFailures int `yaml:"consecutive_failures"`
	// ErrorRate opens a breaker when that share of attempts (0 to 1)
	// failed over Window, once there were at least MinRequests. Defaults
	// 0.5, 60s, 20; an error_rate of 0 disables this trigger.
	ErrorRate   float64  `yaml:"error_rate"`
	Window      Duration `yaml:"window"`
	MinRequests int      `yaml:"min_requests"`
	// Cooldown is how long an open breaker skips its target before
	// HalfOpenProbes trial requests may go through; a successful trial
	// closes it, a failed one opens it again. Defaults 30s and 1.
	Cooldown       Duration `yaml:"cooldown"`
	HalfOpenProbes int      `yaml:"half_open_probes"`
}

// LeastLatency tunes the least-latency strategy.
type LeastLatency struct {
	// Decay is the weight of a new latency sample in the decaying average,
	// above 0 and at most 1. Default 0.3.
	Decay float64 `yaml:"decay"`
	// Explore is the share of requests sent first to a target other than
	// the fastest, so that a recovered target is noticed; 0 to 0.5.
	// Default 0.05.
	Explore float64 `yaml:"explore"`
}

// HealthCheck is an optional active check of a provider.
type HealthCheck struct {
	// Interval between two checks (a GET of the provider's model list).
	// Default 0: no active checks.
	Interval Duration `yaml:"interval"`
	// Timeout bounds one check. Default 0: 5s.
	Timeout Duration `yaml:"timeout"`
}

// Routing defaults.
const (
	defaultRetryAttempts      = 1
	defaultRetryBackoff       = "exponential"
	defaultRetryDelay         = Duration(250 * time.Millisecond)
	defaultRetryMaxDelay      = Duration(10 * time.Second)
	defaultMaxRetryAfter      = Duration(30 * time.Second)
	defaultBreakerFailures    = 5
	defaultBreakerErrorRate   = 0.5
	defaultBreakerWindow      = Duration(time.Minute)
	defaultBreakerMinRequests = 20
	defaultBreakerCooldown    = Duration(30 * time.Second)
	defaultBreakerProbes      = 1
	defaultLatencyDecay       = 0.3
	defaultLatencyExplore     = 0.05
)

// Strategies and fallback triggers a config may name.
var (
	strategies  = []string{strategyWeighted, strategyFallback, "least-latency", "least-busy", "cost"}
	fallbackOns = []string{"context_length", "content_policy"}
	backoffs    = []string{"constant", "linear", "exponential"}
)

// routingDefaults fills the routing section, then each model's retry,
// timeouts and fallback_on from it, then each target's own retry (where it
// has one) from its model's.
func (c *Config) routingDefaults() {
	r := &c.Routing
	c.retryDefaults(&r.Retry, "routing.retry", Retry{MaxAttempts: defaultRetryAttempts, Backoff: defaultRetryBackoff,
		Delay: defaultRetryDelay, MaxDelay: defaultRetryMaxDelay, Jitter: true, MaxRetryAfter: defaultMaxRetryAfter})
	b := &r.Breaker
	c.defaultTrue(&b.Enabled, "routing.breaker.enabled")
	c.defaultInt(&b.ConsecutiveFailures, "routing.breaker.consecutive_failures", defaultBreakerFailures)
	c.defaultFloat(&b.ErrorRate, "routing.breaker.error_rate", defaultBreakerErrorRate)
	c.defaultDuration(&b.Window, "routing.breaker.window", defaultBreakerWindow)
	c.defaultInt(&b.MinRequests, "routing.breaker.min_requests", defaultBreakerMinRequests)
	c.defaultDuration(&b.Cooldown, "routing.breaker.cooldown", defaultBreakerCooldown)
	c.defaultInt(&b.HalfOpenProbes, "routing.breaker.half_open_probes", defaultBreakerProbes)
	c.defaultFloat(&r.LeastLatency.Decay, "routing.least_latency.decay", defaultLatencyDecay)
	c.defaultFloat(&r.LeastLatency.Explore, "routing.least_latency.explore", defaultLatencyExplore)
	for i := range c.Models {
		m := &c.Models[i]
		path := indexPath("models", i)
		c.retryDefaults(&m.Retry, fieldPath(path, "retry"), r.Retry)
		tp := fieldPath(path, "timeouts")
		c.defaultDuration(&m.Timeouts.Request, fieldPath(tp, "request"), r.Timeouts.Request)
		c.defaultDuration(&m.Timeouts.Attempt, fieldPath(tp, "attempt"), r.Timeouts.Attempt)
		c.defaultDuration(&m.Timeouts.TTFT, fieldPath(tp, "ttft"), r.Timeouts.TTFT)
		c.defaultDuration(&m.Timeouts.Idle, fieldPath(tp, "idle"), r.Timeouts.Idle)
		if m.FallbackOn == nil && !c.src.explicit(fieldPath(path, "fallback_on")) {
			m.FallbackOn = r.FallbackOn
		}
		for j := range m.Targets {
			if t := &m.Targets[j]; t.Retry != nil {
				c.retryDefaults(t.Retry, fieldPath(indexPath(fieldPath(path, "targets"), j), "retry"), m.Retry)
			}
		}
	}
}

// retryDefaults fills the keys of rt not written at path from def.
func (c *Config) retryDefaults(rt *Retry, path string, def Retry) {
	c.defaultInt(&rt.MaxAttempts, fieldPath(path, "max_attempts"), def.MaxAttempts)
	if rt.Backoff == "" {
		rt.Backoff = def.Backoff
	}
	c.defaultDuration(&rt.Delay, fieldPath(path, "delay"), def.Delay)
	c.defaultDuration(&rt.MaxDelay, fieldPath(path, "max_delay"), def.MaxDelay)
	if !rt.Jitter && !c.src.explicit(fieldPath(path, "jitter")) {
		rt.Jitter = def.Jitter
	}
	c.defaultDuration(&rt.MaxRetryAfter, fieldPath(path, "max_retry_after"), def.MaxRetryAfter)
}

func (c *Config) defaultFloat(f *float64, path string, def float64) {
	if *f == 0 && !c.src.explicit(path) {
		*f = def
	}
}
