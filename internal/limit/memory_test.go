package limit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// steppingClock advances by step on every reading, so goroutines that call
// a limiter in a loop move simulated time forward without sleeping.
type steppingClock struct {
	base time.Time
	step time.Duration
	n    atomic.Int64 // readings so far
}

func (c *steppingClock) Now() time.Time { return c.base.Add(time.Duration(c.n.Add(1)) * c.step) }
func (c *steppingClock) Elapsed() time.Duration {
	return time.Duration(c.n.Load()) * c.step
}

// TestMemoryAccuracy: 16 goroutines hammer one key for one simulated Period
// after its burst has been taken; the admitted units must be Limit ± 2 %,
// since a drained bucket refills exactly Limit units per Period.
func TestMemoryAccuracy(t *testing.T) {
	cases := []struct {
		name string
		rate Rate
		cost func(worker, i int) int64
	}{
		{"600 requests per minute", Rate{Limit: 600, Period: time.Minute}, func(int, int) int64 { return 1 }},
		{"60000 tokens per minute, varied costs", Rate{Limit: 60000, Period: time.Minute},
			func(w, i int) int64 { return int64(1 + (w*7+i)%16) }},
	}
	const workers = 16
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &steppingClock{base: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: time.Millisecond}
			m := NewMemory(clock.Now)
			ctx := context.Background()
			if d, err := m.Allow(ctx, "k", tc.rate, tc.rate.Limit); err != nil || !d.Allowed {
				t.Fatalf("taking the burst: %+v, %v", d, err)
			}
			got, want := hammer(t, m, clock, tc.rate, workers, tc.cost), tc.rate.Limit
			t.Logf("admitted %d of %d units", got, want)
			if tol := want / 50; got < want-tol || got > want+tol {
				t.Errorf("admitted %d units in one period after the burst, want %d ± %d", got, want, tol)
			}
		})
	}
}

// hammer has workers goroutines call Allow on one key, each with the
// costs cost(worker, i), until the stepping clock has moved on one Period,
// and returns the units admitted.
func hammer(t *testing.T, l Limiter, clock *steppingClock, rate Rate, workers int, cost func(worker, i int) int64) int64 {
	t.Helper()
	ctx := context.Background()
	end := clock.Elapsed() + rate.Period
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; clock.Elapsed() < end; i++ {
				c := cost(w, i)
				d, err := l.Allow(ctx, "k", rate, c)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					admitted.Add(c)
				}
			}
		})
	}
	wg.Wait()
	return admitted.Load()
}

func TestMemoryEvictsFullBuckets(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(clock.Now)
	ctx := context.Background()
	rate := Rate{Limit: 2, Period: time.Second}
	const keys = 5000
	for i := range keys {
		if _, err := m.Allow(ctx, "k"+strconv.Itoa(i), rate, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Adjust(ctx, "indebted", rate, 1000); err != nil {
		t.Fatal(err)
	}
	if got := m.bucketCount(); got != keys+1 {
		t.Fatalf("bucketCount = %d before eviction, want %d", got, keys+1)
	}
	clock.Advance(time.Second) // every "k" bucket is full again, "indebted" is not
	// Peeks (cost 0) insert nothing but count as operations, so every shard
	// passes its sweep threshold.
	for i := range 2 * (sweepMin + keys/memShards) * memShards {
		if _, err := m.Allow(ctx, "probe"+strconv.Itoa(i), rate, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.bucketCount(); got != 1 {
		t.Errorf("bucketCount = %d after eviction, want 1 (the indebted bucket)", got)
	}
	if d, _ := m.Allow(ctx, "indebted", rate, 1); d.Allowed {
		t.Errorf("the indebted bucket was evicted: %+v", d)
	}
}

func TestMemoryNilClockUsesTimeNow(t *testing.T) {
	m := NewMemory(nil)
	d, err := m.Allow(context.Background(), "a", perSec4, 1)
	if err != nil || !d.Allowed || d.Remaining != 3 {
		t.Errorf("Allow = %+v, %v; want allowed with 3 remaining", d, err)
	}
}

// TestMemoryWindowBound checks the documented guarantee on random traffic
// (seeded, so reproducible): in every window of length W that ends with an
// admitted Allow, the units taken (admitted costs plus adjustments, which may
// be negative) are at most Burst + ⌊W·Limit/Period⌋, and every Decision is
// self-consistent. Windows ending with an Adjust are exempt: Adjust never
// refuses, so it may go beyond the bound into debt, which the next Allow then
// waits out.
func TestMemoryWindowBound(t *testing.T) {
	rates := []Rate{
		{Limit: 10, Period: time.Second}, {Limit: 7, Period: time.Second}, {Limit: 1000, Period: time.Minute},
		{Limit: 10, Period: time.Second, Burst: 1}, {Limit: 7, Period: time.Second, Burst: 3},
		{Limit: 1000, Period: time.Minute, Burst: 20},
	}
	for _, rate := range rates {
		t.Run(fmt.Sprintf("%d per %s burst %d", rate.Limit, rate.Period, rate.Burst), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(rate.Limit)))
			clock := newFakeClock()
			m := NewMemory(clock.Now)
			ctx := context.Background()
			type admission struct {
				at     time.Duration
				cost   int64
				adjust bool
			}
			var admitted []admission
			var now time.Duration
			for range 20000 {
				step := time.Duration(rng.Int64N(int64(rate.Period / 50)))
				clock.Advance(step)
				now += step
				cost := 1 + rng.Int64N(max(rate.burst()/4, 1))
				if rng.IntN(20) == 0 {
					delta := rng.Int64N(2*cost+1) - cost
					if err := m.Adjust(ctx, "k", rate, delta); err != nil {
						t.Fatal(err)
					}
					admitted = append(admitted, admission{now, delta, true})
				}
				d, err := m.Allow(ctx, "k", rate, cost)
				if err != nil {
					t.Fatal(err)
				}
				if d.Remaining < 0 || d.Remaining > rate.burst() || d.ResetAfter < 0 || d.RetryAfter < 0 ||
					d.Allowed != (d.RetryAfter == 0) || (d.Allowed && d.ResetAfter == 0) {
					t.Fatalf("inconsistent decision at %v for cost %d: %+v", now, cost, d)
				}
				if d.Allowed {
					admitted = append(admitted, admission{now, cost, false})
				}
			}
			if len(admitted) < 100 {
				t.Fatalf("only %d admissions: the traffic does not exercise the limiter", len(admitted))
			}
			for _, w := range []time.Duration{0, rate.Period / 2, rate.Period, 3 * rate.Period} {
				bound := rate.burst() + int64(w)*rate.Limit/int64(rate.Period)
				for i := range admitted { // net units in [admitted[i].at, admitted[j].at ≤ admitted[i].at + w]
					var sum int64
					for j := i; j < len(admitted) && admitted[j].at <= admitted[i].at+w; j++ {
						sum += admitted[j].cost
						if !admitted[j].adjust && sum > bound {
							t.Fatalf("window %v from %v to %v took %d units, bound %d", w, admitted[i].at, admitted[j].at, sum, bound)
						}
					}
				}
			}
		})
	}
}
