package harness

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p ≤ 100) of samples by the
// nearest-rank method: the smallest sample with at least p% of the samples
// at or below it. samples is sorted in place. It returns 0 for no samples.
func Percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	slices.Sort(samples)
	rank := int(math.Ceil(p / 100 * float64(len(samples))))
	rank = min(max(rank, 1), len(samples))
	return samples[rank-1]
}

// Added returns how much latency a proxy adds over the direct measurement
// of the same percentile. It is the difference of two percentiles, not the
// percentile of per-request differences, and can be slightly negative when
// the overhead is below the run-to-run noise; callers show it as measured.
func Added(proxied, direct time.Duration) time.Duration { return proxied - direct }

// Ratio returns v/base and whether the ratio means anything: base and v
// must both be positive (a ratio of a negative or zero overhead to another
// is noise, not a figure).
func Ratio(v, base float64) (float64, bool) {
	if base <= 0 || v <= 0 || math.IsNaN(v) || math.IsNaN(base) || math.IsInf(v, 0) || math.IsInf(base, 0) {
		return 0, false
	}
	return v / base, true
}

// PerTenK scales a CPU time spent on n requests to the CPU time of 10,000
// requests. It returns 0 when n is 0.
func PerTenK(cpu time.Duration, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(float64(cpu) * 10000 / float64(n))
}
