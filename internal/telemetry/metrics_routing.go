package telemetry

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// TargetGauge is one upstream target's live state, as the routing gauges
// report it.
type TargetGauge struct {
	Provider, Model string
	// State is the breaker: 0 closed, 1 half-open, 2 open.
	State    int
	InFlight int64
	// LatencySeconds and TTFTSeconds are decaying averages; 0 unmeasured.
	LatencySeconds, TTFTSeconds float64
}

// routingMetrics are the router's series: breaker state, in-flight and
// latency per target (read at scrape time from the registered function),
// and retry and fallback counters.
type routingMetrics struct {
	once      sync.Once
	targets   atomic.Pointer[func() []TargetGauge]
	retries   *prometheus.CounterVec // provider
	fallbacks *prometheus.CounterVec // provider (the one that answered)
}

var (
	breakerStateDesc = prometheus.NewDesc("sluice_breaker_state",
		"Circuit breaker state per target: 0 closed, 1 half-open, 2 open.", []string{"provider", "model"}, nil)
	targetInflightDesc = prometheus.NewDesc("sluice_target_inflight",
		"Requests in flight per upstream target.", []string{"provider", "model"}, nil)
	targetLatencyDesc = prometheus.NewDesc("sluice_target_latency_seconds",
		"Decaying average latency per upstream target (whole answers), as least-latency routing sees it.", []string{"provider", "model"}, nil)
	targetTTFTDesc = prometheus.NewDesc("sluice_target_ttft_seconds",
		"Decaying average time to first token per upstream target (streams), as least-latency routing sees it.", []string{"provider", "model"}, nil)
)

// init registers the routing series once.
func (m *Metrics) initRouting() *routingMetrics {
	r := &m.routing
	r.once.Do(func() {
		r.retries = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_retries_total",
			Help: "Upstream attempts that repeated a target after a retryable failure, by provider.",
		}, []string{"provider"})
		r.fallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_fallbacks_total",
			Help: "Moves to another target after a failure, by the provider that finally answered or failed last.",
		}, []string{"provider"})
		m.reg.MustRegister(r.retries, r.fallbacks, targetCollector{r})
	})
	return r
}

// RegisterTargets connects the per-target gauges to the router's health:
// f is called at each scrape and must be safe for concurrent use. A later
// call replaces f.
func (m *Metrics) RegisterTargets(f func() []TargetGauge) {
	m.initRouting().targets.Store(&f)
}

// RoutingRetries counts a request's retries and fallbacks; provider is the
// configured provider that answered (or failed last).
func (m *Metrics) RoutingRetries(provider string, retries, fallbacks int) {
	r := m.initRouting()
	if retries > 0 {
		r.retries.WithLabelValues(provider).Add(float64(retries))
	}
	if fallbacks > 0 {
		r.fallbacks.WithLabelValues(provider).Add(float64(fallbacks))
	}
}

// targetCollector reads the registered function at scrape time.
type targetCollector struct{ r *routingMetrics }

func (c targetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerStateDesc
	ch <- targetInflightDesc
	ch <- targetLatencyDesc
	ch <- targetTTFTDesc
}

func (c targetCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.r.targets.Load()
	if f == nil {
		return
	}
	for _, t := range (*f)() {
		ch <- prometheus.MustNewConstMetric(breakerStateDesc, prometheus.GaugeValue, float64(t.State), t.Provider, t.Model)
		ch <- prometheus.MustNewConstMetric(targetInflightDesc, prometheus.GaugeValue, float64(t.InFlight), t.Provider, t.Model)
		ch <- prometheus.MustNewConstMetric(targetLatencyDesc, prometheus.GaugeValue, t.LatencySeconds, t.Provider, t.Model)
		ch <- prometheus.MustNewConstMetric(targetTTFTDesc, prometheus.GaugeValue, t.TTFTSeconds, t.Provider, t.Model)
	}
}
