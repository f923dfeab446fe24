package telemetry

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsConfig configures NewMetrics. The zero value is the default.
type MetricsConfig struct {
	// PerKeyLabels adds a key_id label to sluice_requests_total,
	// sluice_tokens_total and sluice_cost_usd_total. Default off: every
	// gateway key then multiplies those series, so turn it on only when
	// the number of keys is modest (hundreds, not millions).
	PerKeyLabels bool
}

// metricsDurationBuckets span 1ms to 300s: gateway-only answers (cache
// hits, refusals) in milliseconds, long generations in minutes.
var metricsDurationBuckets = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 20, 30, 60, 120, 300,
}

// Metrics is the gateway's Prometheus instrumentation: its own registry
// (with the Go runtime and process collectors), the request, token, cost
// and upstream-error series, and the in-flight and log-queue gauges. All
// methods are safe for concurrent use; a nil *Metrics is not valid.
type Metrics struct {
	reg    *prometheus.Registry
	perKey bool

	requests       *prometheus.CounterVec   // route, model, provider, status_class, cache [, key_id]
	duration       *prometheus.HistogramVec // route, model, provider
	ttft           *prometheus.HistogramVec // model, provider
	tokens         *prometheus.CounterVec   // model, provider, type [, key_id]
	cost           *prometheus.CounterVec   // model, provider [, key_id]
	saved          *prometheus.CounterVec   // model, provider
	upstreamErrors *prometheus.CounterVec   // provider, code

	inflightRequests prometheus.Gauge
	inflightStreams  prometheus.Gauge
	// endRequest and endStream are the gauges' Dec, bound once so that
	// RequestStarted and StreamStarted allocate nothing.
	endRequest, endStream func()

	// known is the set of model names used as the model label as-is;
	// replaced whole by SetKnownModels (copy-on-write).
	known atomic.Pointer[map[string]struct{}]
	// series caches *metricsSeries by metricsSeriesKey so that a
	// steady-state Observe does no label hashing.
	series sync.Map

	// queue holds the functions registered by RegisterQueue; nil until then.
	queue atomic.Pointer[metricsQueueFuncs]

	// routing holds the routing series (metrics_routing.go), made on
	// first use.
	routing routingMetrics
}

type metricsQueueFuncs struct {
	depth   func() int
	dropped func() uint64
	spooled func() uint64
}

// NewMetrics builds the series on a fresh registry. It cannot fail: every
// series is registered once on a registry nothing else touches.
func NewMetrics(cfg MetricsConfig) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), perKey: cfg.PerKeyLabels}
	withKey := func(labels ...string) []string {
		if cfg.PerKeyLabels {
			return append(labels, "key_id")
		}
		return labels
	}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_requests_total",
		Help: "Finished requests by route, requested model, provider, status class (2xx, 4xx, 5xx, 499) and cache status.",
	}, withKey("route", "model", "provider", "status_class", "cache"))
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sluice_request_duration_seconds",
		Help:    "Time from a request's arrival to its last byte sent.",
		Buckets: metricsDurationBuckets,
	}, []string{"route", "model", "provider"})
	m.ttft = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sluice_ttft_seconds",
		Help:    "Time from a streamed request's arrival to the first byte of the answer.",
		Buckets: metricsDurationBuckets,
	}, []string{"model", "provider"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_tokens_total",
		Help: "Tokens by type: prompt (includes cached and cache_write), completion (includes reasoning), cached, cache_write, reasoning.",
	}, withKey("model", "provider", "type"))
	m.cost = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_cost_usd_total",
		Help: "Cost of requests in US dollars, from the pricing catalog.",
	}, withKey("model", "provider"))
	m.saved = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_cost_saved_usd_total",
		Help: "What answers served by the response cache (or shared by coalescing) would have cost, in US dollars.",
	}, []string{"model", "provider"})
	m.upstreamErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_upstream_errors_total",
		Help: "Failed upstream attempts by provider and error code.",
	}, []string{"provider", "code"})
	m.inflightRequests = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sluice_inflight_requests",
		Help: "Requests being served, streams included.",
	})
	m.inflightStreams = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sluice_inflight_streams",
		Help: "Streamed requests being served.",
	})

	m.endRequest, m.endStream = m.inflightRequests.Dec, m.inflightStreams.Dec

	queueDepth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sluice_log_queue_depth",
		Help: "Request-log records waiting to be written.",
	}, func() float64 {
		if q := m.queue.Load(); q != nil && q.depth != nil {
			return float64(q.depth())
		}
		return 0
	})
	queueDropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "sluice_log_records_dropped_total",
		Help: "Request-log records lost: neither the store nor the spool could take them.",
	}, func() float64 {
		if q := m.queue.Load(); q != nil && q.dropped != nil {
			return float64(q.dropped())
		}
		return 0
	})
	queueSpooled := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "sluice_log_records_spooled_total",
		Help: "Request-log records written to the local spool: the store failed or was slow, or the queue was full.",
	}, func() float64 {
		if q := m.queue.Load(); q != nil && q.spooled != nil {
			return float64(q.spooled())
		}
		return 0
	})

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.ttft, m.tokens, m.cost, m.saved, m.upstreamErrors,
		m.inflightRequests, m.inflightStreams,
		queueDepth, queueDropped, queueSpooled,
	)
	empty := map[string]struct{}{}
	m.known.Store(&empty)
	return m
}

// Registry returns the registry behind Handler, for callers that add
// their own collectors. Registering a name that exists panics with
// MustRegister or fails with Register.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format (the
// /metrics endpoint). Collection errors are reported in the response
// and the remaining series are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// RequestStarted counts a request as in flight and returns the function
// that ends it. done must be called exactly once, when the response is
// finished; calling it twice makes the gauge undercount. It allocates
// nothing.
func (m *Metrics) RequestStarted() (done func()) {
	m.inflightRequests.Inc()
	return m.endRequest
}

// StreamStarted counts a stream as in flight (its request is counted by
// RequestStarted too) and returns the function that ends
// it, to be called exactly once. It allocates nothing.
func (m *Metrics) StreamStarted() (done func()) {
	m.inflightStreams.Inc()
	return m.endStream
}

// RegisterQueue connects the log-queue series to the request-log
// pipeline: depth is read for sluice_log_queue_depth, dropped and spooled
// are running totals read for the two counters. They are called at each
// scrape, from the scraping goroutine, and must be cheap and safe for
// concurrent use. A nil function reports 0. Calling RegisterQueue again
// replaces the previous functions (a rebuilt pipeline); the totals should
// then keep growing, since Prometheus reads a drop as a counter reset.
// Before any call the three series report 0.
func (m *Metrics) RegisterQueue(depth func() int, dropped func() uint64, spooled func() uint64) {
	m.queue.Store(&metricsQueueFuncs{depth: depth, dropped: dropped, spooled: spooled})
}

// UpstreamError counts one failed upstream attempt. provider is a
// configured provider name; code is an error code, kept as the label when
// it is 1–64 characters of [a-z0-9_] and replaced by "other" otherwise.
func (m *Metrics) UpstreamError(provider, code string) {
	m.upstreamErrors.WithLabelValues(metricsValidLabel(provider), metricsCodeLabel(code)).Inc()
}
