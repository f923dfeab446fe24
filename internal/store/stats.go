package store

import (
	"math"
	"slices"
)

// usageRow is the part of a record Usage aggregates.
type usageRow struct {
	timeUS           int64
	status           int64
	promptTokens     int64
	completionTokens int64
	cachedTokens     int64
	costMicros       int64
	savedMicros      int64
	cacheStatus      string
	latencyUS        int64
	ttftUS           int64
}

// acc accumulates Stats over rows. The zero value is an empty acc.
type acc struct {
	s         Stats
	withCache int64   // rows with a cache status
	latency   []int64 // every row's latency
	ttft      []int64 // the non-zero TTFTs
}

// groupAcc is one group's totals and its buckets by index.
type groupAcc struct {
	total   acc
	buckets map[int64]*acc
}

// add counts r. Sums saturate at the int64 limits instead of wrapping,
// so a few absurd records (a cost of 2^62 micro-dollars) can make a total
// wrong but never flip its sign.
func (a *acc) add(r *usageRow) {
	a.s.Requests++
	if r.status >= 400 {
		a.s.Errors++
	}
	a.s.PromptTokens = satAdd(a.s.PromptTokens, r.promptTokens)
	a.s.CompletionTokens = satAdd(a.s.CompletionTokens, r.completionTokens)
	a.s.CachedTokens = satAdd(a.s.CachedTokens, r.cachedTokens)
	a.s.CostMicros = satAdd(a.s.CostMicros, r.costMicros)
	a.s.SavedMicros = satAdd(a.s.SavedMicros, r.savedMicros)
	if r.cacheStatus != "" {
		a.withCache++
		if r.cacheStatus == "hit" || r.cacheStatus == "semantic_hit" || r.cacheStatus == "coalesced" {
			a.s.CacheHits++
		}
	}
	a.latency = append(a.latency, r.latencyUS)
	if r.ttftUS != 0 {
		a.ttft = append(a.ttft, r.ttftUS)
	}
}

// stats finishes the aggregate. It sorts a's samples in place.
func (a *acc) stats() Stats {
	s := a.s
	if a.withCache > 0 {
		s.CacheHitRatio = float64(s.CacheHits) / float64(a.withCache)
	}
	slices.Sort(a.latency)
	slices.Sort(a.ttft)
	s.LatencyP50, s.LatencyP95, s.LatencyP99 = percentile(a.latency, 50), percentile(a.latency, 95), percentile(a.latency, 99)
	s.TTFTP50, s.TTFTP95, s.TTFTP99 = percentile(a.ttft, 50), percentile(a.ttft, 95), percentile(a.ttft, 99)
	return s
}

// percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of sorted:
// the smallest value with at least p% of the values at or below it. It is
// 0 for no values.
func percentile(sorted []int64, p int) int64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := (p*n + 99) / 100 // ⌈p·n/100⌉, at least 1 for p > 0
	return sorted[rank-1]
}

// satAdd is a+b clamped to [math.MinInt64, math.MaxInt64].
func satAdd(a, b int64) int64 {
	switch {
	case b > 0 && a > math.MaxInt64-b:
		return math.MaxInt64
	case b < 0 && a < math.MinInt64-b:
		return math.MinInt64
	}
	return a + b
}
