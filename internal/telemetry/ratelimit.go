package telemetry

import "github.com/prometheus/client_golang/prometheus"

// Rate-limit scopes and kinds, the label values of RateLimitMetrics.
var (
	RateLimitScopes = [...]string{"key", "team", "tenant", "ip"}
	RateLimitKinds  = [...]string{"requests", "tokens", "concurrency"}
)

// RateLimitMetrics counts what the gateway's rate limits do:
// sluice_rate_limited_total{scope,kind}, the requests refused, and
// sluice_rate_limit_backend_errors_total{policy}, the limit checks the
// shared backend (Redis) could not answer, by what was done instead
// ("local" or "closed"). A nil *RateLimitMetrics counts nothing.
type RateLimitMetrics struct {
	// refused holds the counters by scope and kind index, resolved once
	// so that counting allocates nothing.
	refused       [len(RateLimitScopes)][len(RateLimitKinds)]prometheus.Counter
	backendErrors *prometheus.CounterVec
}

// NewRateLimitMetrics registers the series on reg (see Metrics.Registry).
// It panics if they are registered twice, a wiring bug.
func NewRateLimitMetrics(reg prometheus.Registerer) *RateLimitMetrics {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_rate_limited_total",
		Help: "Requests refused by a rate limit, by scope (key, team, tenant, ip) and kind (requests, tokens, concurrency).",
	}, []string{"scope", "kind"})
	m := &RateLimitMetrics{backendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_rate_limit_backend_errors_total",
		Help: "Rate-limit checks the shared backend could not answer, by policy: local (counted in this process instead) or closed (refused with 503).",
	}, []string{"policy"})}
	for i, s := range RateLimitScopes {
		for j, k := range RateLimitKinds {
			m.refused[i][j] = refused.WithLabelValues(s, k)
		}
	}
	reg.MustRegister(refused, m.backendErrors)
	return m
}

// Refused counts one refusal; scope and kind index RateLimitScopes and
// RateLimitKinds (out-of-range indexes are ignored).
func (m *RateLimitMetrics) Refused(scope, kind int) {
	if m == nil || scope < 0 || scope >= len(m.refused) || kind < 0 || kind >= len(m.refused[scope]) {
		return
	}
	m.refused[scope][kind].Inc()
}

// BackendError counts one check the backend failed, handled by policy.
func (m *RateLimitMetrics) BackendError(policy string) {
	if m == nil {
		return
	}
	m.backendErrors.WithLabelValues(policy).Inc()
}
