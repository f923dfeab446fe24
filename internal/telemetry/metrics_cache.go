package telemetry

import "github.com/prometheus/client_golang/prometheus"

// CacheMetrics are the response cache's own series. Hit ratios come from
// sluice_requests_total's cache label (hit, semantic_hit, coalesced, miss,
// bypass) and the money it saved from sluice_cost_saved_usd_total.
type CacheMetrics struct {
	errors   *prometheus.CounterVec // op
	gaveUp   *prometheus.CounterVec // reason
	errorsBy map[string]prometheus.Counter
}

// cacheErrorOps are the operations whose failures are counted; a failure
// never fails the request (it is served as a miss).
// "skipped" counts calls not made while a failed Redis backend is left
// alone (a second after each failure).
var cacheErrorOps = []string{"get", "set", "delete", "decode", "encode", "embed", "search", "index", "skipped"}

// NewCacheMetrics registers the cache's series on reg. size reports the
// entries and bytes the memory backend holds (negative when unknown: the
// gauges are then left out).
func NewCacheMetrics(reg *prometheus.Registry, size func() (entries, bytes int64)) *CacheMetrics {
	c := &CacheMetrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_cache_errors_total",
			Help: "Response-cache operations that failed (the request was served as a miss) by operation.",
		}, []string{"op"}),
		gaveUp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_cache_coalesce_fallbacks_total",
			Help: "Coalesced requests that stopped waiting and called upstream themselves, by reason (timeout, leader_failed).",
		}, []string{"reason"}),
		errorsBy: make(map[string]prometheus.Counter, len(cacheErrorOps)),
	}
	for _, op := range cacheErrorOps {
		c.errorsBy[op] = c.errors.WithLabelValues(op)
	}
	reg.MustRegister(c.errors, c.gaveUp)
	if e, _ := size(); e >= 0 {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "sluice_cache_entries",
				Help: "Answers held by the memory cache backend.",
			}, func() float64 { e, _ := size(); return float64(e) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "sluice_cache_bytes",
				Help: "Bytes held by the memory cache backend (its bound is cache.max_bytes).",
			}, func() float64 { _, b := size(); return float64(b) }),
		)
	}
	return c
}

// Error counts a failed cache operation.
func (c *CacheMetrics) Error(op string) {
	if ctr, ok := c.errorsBy[op]; ok {
		ctr.Inc()
		return
	}
	c.errors.WithLabelValues(op).Inc()
}

// CoalesceGaveUp counts a follower that went upstream on its own.
func (c *CacheMetrics) CoalesceGaveUp(timeout bool) {
	reason := "leader_failed"
	if timeout {
		reason = "timeout"
	}
	c.gaveUp.WithLabelValues(reason).Inc()
}
