package limit

import (
	"testing"
	"time"
)

// TestAccuracyWithBurst: 16 goroutines hammer one key, starting from a full
// bucket, for one simulated Period on every backend. Each call reads the
// stepping clock once, so time moves on by step per call.
//
// Exact expectation for 600/min with Burst 12 (T = Period/Limit = 100ms):
// the first 12 calls drain the full bucket at t0 (the first reading), and
// after that unit 12+k is admitted at the first reading ≥ t0 + k·T. The
// readings run from t0 to at least t0 + Period − step and at most 15 steps
// beyond (goroutines that passed the loop check before the end), which is
// less than T, so the admitted units are Burst + ⌊(last − t0)/T⌋ = 611 or
// 612, and never more than Burst + (Period + 15·step)·Limit/Period < 613 by
// the documented bound. The check is the band, Limit ± Burst: with
// the default Burst (= Limit) the same traffic would admit 1200.
func TestAccuracyWithBurst(t *testing.T) {
	cases := []struct {
		name string
		rate Rate
		step time.Duration // < T/16, so the overshoot past Period stays below T
		cost func(worker, i int) int64
	}{
		{"600 requests per minute, burst 12", Rate{Limit: 600, Period: time.Minute, Burst: 12}, 5 * time.Millisecond,
			func(int, int) int64 { return 1 }},
		// T = 10ms; costs up to 16 can leave up to 15 units of the last
		// intervals untaken, so expect 6000 + 120 − 15 … 6120.
		{"6000 tokens per minute, burst 120, varied costs", Rate{Limit: 6000, Period: time.Minute, Burst: 120},
			500 * time.Microsecond, func(w, i int) int64 { return int64(1 + (w*7+i)%16) }},
	}
	const workers = 16
	for _, b := range backends(t) {
		for _, tc := range cases {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				if b.name == "redis" && testing.Short() && tc.rate.Period/tc.step > 20000 {
					t.Skip("makes over 20000 Redis calls; skipped in -short mode")
				}
				clock := &steppingClock{base: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: tc.step}
				l := b.new(t, clock.Now)
				got, limit, burst := hammer(t, l, clock, tc.rate, workers, tc.cost), tc.rate.Limit, tc.rate.Burst
				t.Logf("admitted %d units, want %d ± %d", got, limit, burst)
				if got < limit-burst || got > limit+burst {
					t.Errorf("admitted %d units in one period from a full bucket, want %d ± %d", got, limit, burst)
				}
			})
		}
	}
}
