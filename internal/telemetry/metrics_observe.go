package telemetry

import (
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/store"
)

// metricsOtherLabel replaces a label value that would make cardinality
// unbounded (an unknown model, an odd error code, an unknown status).
const metricsOtherLabel = "other"

// metricsSeriesKey is one combination of label values seen by Observe.
// keyID is empty unless PerKeyLabels is on.
type metricsSeriesKey struct {
	route, model, provider, statusClass, cache, keyID string
}

// metricsSeries holds the children Observe updates for one
// metricsSeriesKey, resolved once from the vectors.
type metricsSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
	ttft     prometheus.Observer
	cost     prometheus.Counter
	// tokens by type, in the order of metricsTokenTypes.
	tokens [5]prometheus.Counter
}

// metricsTokenTypes are the values of sluice_tokens_total's type label,
// in the order of metricsSeries.tokens.
var metricsTokenTypes = [5]string{"prompt", "completion", "cached", "cache_write", "reasoning"}

// SetKnownModels sets the model names used as the model label as they
// are; any other requested model is counted as "other", since clients can
// send arbitrary strings. It copies names (the caller keeps ownership)
// and replaces the previous set atomically; Observe calls running
// concurrently see either set. Series already exported for a model that
// is no longer known stay until restart. nil or empty makes every
// non-empty model "other".
func (m *Metrics) SetKnownModels(names []string) {
	known := make(map[string]struct{}, len(names))
	for _, n := range names {
		known[n] = struct{}{}
	}
	m.known.Store(&known)
}

// Observe counts one finished request: requests, duration, TTFT (when
// the record has one), tokens and cost. It is called once per request
// with the record the gateway built; it neither keeps nor modifies r. A
// nil r is ignored. Empty Route, Provider or ModelRequested give an empty
// label value; negative tokens, cost and durations are not counted.
func (m *Metrics) Observe(r *store.Record) {
	if r == nil {
		return
	}
	key := metricsSeriesKey{
		route:       r.Route,
		model:       m.modelLabel(r.ModelRequested),
		provider:    r.Provider,
		statusClass: metricsStatusClass(r.Status),
		cache:       metricsCacheLabel(r.CacheStatus),
	}
	if m.perKey {
		key.keyID = r.KeyID
	}
	s := m.seriesFor(key)

	s.requests.Inc()
	if r.LatencyMicros >= 0 {
		s.duration.Observe(float64(r.LatencyMicros) / 1e6)
	}
	if r.TTFTMicros > 0 {
		s.ttft.Observe(float64(r.TTFTMicros) / 1e6)
	}
	counts := [5]int{r.PromptTokens, r.CompletionTokens, r.CachedTokens, r.CacheWriteTokens, r.ReasoningTokens}
	for i, n := range counts {
		if n > 0 {
			s.tokens[i].Add(float64(n))
		}
	}
	if r.CostMicros > 0 {
		s.cost.Add(float64(r.CostMicros) / 1e6)
	}
	if r.SavedMicros > 0 {
		m.saved.WithLabelValues(metricsValidLabel(key.model), metricsValidLabel(key.provider)).Add(float64(r.SavedMicros) / 1e6)
	}
}

// seriesFor returns the cached children for key, resolving and caching
// them on first use. Concurrent first uses resolve the same children
// (the vectors deduplicate), so whichever is stored is correct.
func (m *Metrics) seriesFor(key metricsSeriesKey) *metricsSeries {
	if v, ok := m.series.Load(key); ok {
		return v.(*metricsSeries)
	}
	cacheKey := key
	// The vectors panic on label values that are not UTF-8; repair them
	// here, off the hot path (the cache stays keyed by the raw values).
	key.route = metricsValidLabel(key.route)
	key.model = metricsValidLabel(key.model)
	key.provider = metricsValidLabel(key.provider)
	key.keyID = metricsValidLabel(key.keyID)
	s := &metricsSeries{
		duration: m.duration.WithLabelValues(key.route, key.model, key.provider),
		ttft:     m.ttft.WithLabelValues(key.model, key.provider),
	}
	if m.perKey {
		s.requests = m.requests.WithLabelValues(key.route, key.model, key.provider, key.statusClass, key.cache, key.keyID)
		s.cost = m.cost.WithLabelValues(key.model, key.provider, key.keyID)
		for i, typ := range metricsTokenTypes {
			s.tokens[i] = m.tokens.WithLabelValues(key.model, key.provider, typ, key.keyID)
		}
	} else {
		s.requests = m.requests.WithLabelValues(key.route, key.model, key.provider, key.statusClass, key.cache)
		s.cost = m.cost.WithLabelValues(key.model, key.provider)
		for i, typ := range metricsTokenTypes {
			s.tokens[i] = m.tokens.WithLabelValues(key.model, key.provider, typ)
		}
	}
	v, _ := m.series.LoadOrStore(cacheKey, s)
	return v.(*metricsSeries)
}

// modelLabel maps a requested model to itself when it is known, "" to
// "", and anything else to "other".
func (m *Metrics) modelLabel(model string) string {
	if model == "" {
		return ""
	}
	if _, ok := (*m.known.Load())[model]; ok {
		return model
	}
	return metricsOtherLabel
}

// metricsStatusClasses maps status/100 to its class label.
var metricsStatusClasses = [6]string{metricsOtherLabel, "1xx", "2xx", "3xx", "4xx", "5xx"}

// metricsStatusClass is "2xx", "4xx", "5xx" (and "1xx", "3xx") by the
// first digit, "499" for a client that left, and "other" for anything
// outside 100–599 (including 0, a status never set).
func metricsStatusClass(status int) string {
	if status == 499 {
		return "499"
	}
	if status < 100 || status > 599 {
		return metricsOtherLabel
	}
	return metricsStatusClasses[status/100]
}

// metricsCacheLabel maps a record's CacheStatus to the cache label:
// "none" when no cache was in play, "hit", "miss" or "bypass" as they
// are, and "other" for anything else.
func metricsCacheLabel(status string) string {
	switch status {
	case "":
		return "none"
	case "hit", "miss", "bypass", "semantic_hit", "coalesced":
		return status
	}
	return metricsOtherLabel
}

// metricsValidLabel replaces invalid UTF-8 in a label value with U+FFFD.
func metricsValidLabel(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// metricsCodeLabel keeps an error code of 1–64 characters of [a-z0-9_]
// and maps anything else (empty, too long, other characters) to "other".
func metricsCodeLabel(code string) string {
	if code == "" || len(code) > 64 {
		return metricsOtherLabel
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return metricsOtherLabel
		}
	}
	return code
}
