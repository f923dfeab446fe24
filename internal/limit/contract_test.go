package limit

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var perSec4 = Rate{Limit: 4, Period: time.Second} // emission interval 250ms

// step is one call in a contract case: optionally advance the clock, then
// Allow (want is compared) or Adjust.
type step struct {
	advance time.Duration
	key     string // "" means "a"
	rate    Rate   // zero means perSec4
	adjust  bool   // Adjust by n instead of Allow with cost n
	n       int64
	want    Decision
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

func TestAllowAdjustContract(t *testing.T) {
	per7 := Rate{Limit: 7, Period: time.Second}              // 1s/7 is not a whole ns or µs
	burst1 := Rate{Limit: 4, Period: time.Second, Burst: 1}  // capacity 250ms
	burst3 := Rate{Limit: 10, Period: time.Second, Burst: 3} // capacity 300ms
	burst4 := Rate{Limit: 10, Period: time.Second, Burst: 4} // capacity 400ms
	per7b3 := Rate{Limit: 7, Period: time.Second, Burst: 3}  // capacity 3s/7, not whole
	cases := []struct {
		name  string
		steps []step
	}{
		{"fresh bucket admits Limit at once, then refuses", []step{
			{n: 1, want: Decision{Allowed: true, Limit: 4, Remaining: 3, ResetAfter: ms(250)}},
			{n: 1, want: Decision{Allowed: true, Limit: 4, Remaining: 2, ResetAfter: ms(500)}},
			{n: 1, want: Decision{Allowed: true, Limit: 4, Remaining: 1, ResetAfter: ms(750)}},
			{n: 1, want: Decision{Allowed: true, Limit: 4, Remaining: 0, ResetAfter: ms(1000)}},
			{n: 1, want: Decision{Limit: 4, ResetAfter: ms(1000), RetryAfter: ms(250)}},
		}},
		{"refills one unit per emission interval", []step{
			{n: 4, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(1000)}},
			{advance: ms(100), n: 1, want: Decision{Limit: 4, ResetAfter: ms(900), RetryAfter: ms(150)}},
			{advance: ms(150), n: 1, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(1000)}},
			{advance: ms(600), n: 0, want: Decision{Allowed: true, Limit: 4, Remaining: 2, ResetAfter: ms(400)}},
		}},
		{"bucket is full again one period after draining", []step{
			{n: 4, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(1000)}},
			{advance: time.Second, n: 4, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(1000)}},
		}},
		{"refused call takes nothing", []step{
			{n: 3, want: Decision{Allowed: true, Limit: 4, Remaining: 1, ResetAfter: ms(750)}},
			{n: 2, want: Decision{Limit: 4, Remaining: 1, ResetAfter: ms(750), RetryAfter: ms(250)}},
			{n: 1, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(1000)}},
		}},
		{"cost above limit is refused even when full and takes nothing", []step{
			{n: 5, want: Decision{Limit: 4, Remaining: 4}},
			{n: 1, want: Decision{Allowed: true, Limit: 4, Remaining: 3, ResetAfter: ms(250)}},
			{n: 5, want: Decision{Limit: 4, Remaining: 3, ResetAfter: ms(250), RetryAfter: ms(250)}},
		}},
		{"cost zero reports the state without taking", []step{
			{n: 0, want: Decision{Allowed: true, Limit: 4, Remaining: 4}},
			{n: 2, want: Decision{Allowed: true, Limit: 4, Remaining: 2, ResetAfter: ms(500)}},
			{n: 0, want: Decision{Allowed: true, Limit: 4, Remaining: 2, ResetAfter: ms(500)}},
		}},
		{"adjust puts the bucket into debt that the next allow waits out", []step{
			{n: 2, want: Decision{Allowed: true, Limit: 4, Remaining: 2, ResetAfter: ms(500)}},
			{adjust: true, n: 6},
			{n: 0, want: Decision{Limit: 4, ResetAfter: ms(2000), RetryAfter: ms(1000)}},
			{n: 1, want: Decision{Limit: 4, ResetAfter: ms(2000), RetryAfter: ms(1250)}},
			{advance: ms(1249), n: 1, want: Decision{Limit: 4, ResetAfter: ms(751), RetryAfter: ms(1)}},
			{advance: ms(1), n: 1, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(1000)}},
		}},
		{"negative adjust gives back but never beyond full", []step{
			{n: 4, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(1000)}},
			{adjust: true, n: -2},
			{n: 0, want: Decision{Allowed: true, Limit: 4, Remaining: 2, ResetAfter: ms(500)}},
			{adjust: true, n: -10},
			{n: 0, want: Decision{Allowed: true, Limit: 4, Remaining: 4}},
			{n: 4, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(1000)}},
		}},
		{"negative adjust of an idle key changes nothing", []step{
			{adjust: true, n: -3},
			{n: 1, want: Decision{Allowed: true, Limit: 4, Remaining: 3, ResetAfter: ms(250)}},
		}},
		{"keys are isolated", []step{
			{key: "a", n: 4, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(1000)}},
			{key: "a", adjust: true, n: 8},
			{key: "b", n: 1, want: Decision{Allowed: true, Limit: 4, Remaining: 3, ResetAfter: ms(250)}},
			{key: "a", n: 1, want: Decision{Limit: 4, ResetAfter: ms(3000), RetryAfter: ms(2250)}},
		}},
		{"a rate that does not divide its period still admits exactly Limit", []step{
			{rate: per7, n: 1, want: Decision{Allowed: true, Limit: 7, Remaining: 6, ResetAfter: 142857143}},
			{rate: per7, n: 1, want: Decision{Allowed: true, Limit: 7, Remaining: 5, ResetAfter: 285714286}},
			{rate: per7, n: 1, want: Decision{Allowed: true, Limit: 7, Remaining: 4, ResetAfter: 428571429}},
			{rate: per7, n: 1, want: Decision{Allowed: true, Limit: 7, Remaining: 3, ResetAfter: 571428572}},
			{rate: per7, n: 1, want: Decision{Allowed: true, Limit: 7, Remaining: 2, ResetAfter: 714285715}},
			{rate: per7, n: 1, want: Decision{Allowed: true, Limit: 7, Remaining: 1, ResetAfter: 857142858}},
			{rate: per7, n: 1, want: Decision{Allowed: true, Limit: 7, Remaining: 0, ResetAfter: time.Second}},
			{rate: per7, n: 1, want: Decision{Limit: 7, ResetAfter: time.Second, RetryAfter: 142857143}},
		}},
		{"burst 1 admits one, then refuses until one emission interval passes", []step{
			{rate: burst1, n: 1, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(250)}},
			{rate: burst1, n: 1, want: Decision{Limit: 4, ResetAfter: ms(250), RetryAfter: ms(250)}},
			{advance: ms(249), rate: burst1, n: 1, want: Decision{Limit: 4, ResetAfter: ms(1), RetryAfter: ms(1)}},
			{advance: ms(1), rate: burst1, n: 1, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(250)}},
			{advance: ms(250), rate: burst1, n: 0, want: Decision{Allowed: true, Limit: 4, Remaining: 1}},
		}},
		{"burst b admits b at once and a cost above b never", []step{
			{rate: burst3, n: 1, want: Decision{Allowed: true, Limit: 10, Remaining: 2, ResetAfter: ms(100)}},
			{rate: burst3, n: 2, want: Decision{Allowed: true, Limit: 10, ResetAfter: ms(300)}},
			{rate: burst3, n: 1, want: Decision{Limit: 10, ResetAfter: ms(300), RetryAfter: ms(100)}},
			{advance: ms(300), rate: burst3, n: 4, want: Decision{Limit: 10, Remaining: 3}},
			{rate: burst3, n: 3, want: Decision{Allowed: true, Limit: 10, ResetAfter: ms(300)}},
			{rate: burst3, n: 4, want: Decision{Limit: 10, ResetAfter: ms(300), RetryAfter: ms(300)}},
		}},
		{"remaining, reset and retry follow the burst's capacity", []step{
			{rate: burst4, n: 4, want: Decision{Allowed: true, Limit: 10, ResetAfter: ms(400)}},
			{advance: ms(150), rate: burst4, n: 0, want: Decision{Allowed: true, Limit: 10, Remaining: 1, ResetAfter: ms(250)}},
			{rate: burst4, n: 2, want: Decision{Limit: 10, Remaining: 1, ResetAfter: ms(250), RetryAfter: ms(50)}},
			{advance: ms(50), rate: burst4, n: 2, want: Decision{Allowed: true, Limit: 10, ResetAfter: ms(400)}},
			{rate: burst4, adjust: true, n: 3},
			{rate: burst4, n: 1, want: Decision{Limit: 10, ResetAfter: ms(700), RetryAfter: ms(400)}},
			{rate: burst4, adjust: true, n: -100},
			{rate: burst4, n: 0, want: Decision{Allowed: true, Limit: 10, Remaining: 4}},
		}},
		{"a burst whose capacity is not whole ticks still admits exactly Burst", []step{
			{rate: per7b3, n: 1, want: Decision{Allowed: true, Limit: 7, Remaining: 2, ResetAfter: 142857143}},
			{rate: per7b3, n: 1, want: Decision{Allowed: true, Limit: 7, Remaining: 1, ResetAfter: 285714286}},
			{rate: per7b3, n: 1, want: Decision{Allowed: true, Limit: 7, Remaining: 0, ResetAfter: 428571429}},
			{rate: per7b3, n: 1, want: Decision{Limit: 7, ResetAfter: 428571429, RetryAfter: 142857143}},
		}},
		{"huge adjustments saturate instead of overflowing", []step{
			{adjust: true, n: math.MaxInt64},
			{adjust: true, n: math.MaxInt64},
			{n: 0, want: Decision{Limit: 4, ResetAfter: -1}}, // -1: only Allowed and Remaining are checked
			{adjust: true, n: math.MinInt64},
			{n: 4, want: Decision{Allowed: true, Limit: 4, ResetAfter: ms(1000)}},
		}},
	}
	for _, b := range backends(t) {
		for _, tc := range cases {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				clock := newFakeClock()
				l := b.new(t, clock.Now)
				ctx := context.Background()
				for i, s := range tc.steps {
					clock.Advance(s.advance)
					key, rate := s.key, s.rate
					if key == "" {
						key = "a"
					}
					if rate == (Rate{}) {
						rate = perSec4
					}
					if s.adjust {
						if err := l.Adjust(ctx, key, rate, s.n); err != nil {
							t.Fatalf("step %d: Adjust: %v", i, err)
						}
						continue
					}
					got, err := l.Allow(ctx, key, rate, s.n)
					if err != nil {
						t.Fatalf("step %d: Allow: %v", i, err)
					}
					if s.want.ResetAfter < 0 {
						if got.Allowed || got.Remaining != 0 || got.ResetAfter < 24*time.Hour || got.RetryAfter < 0 {
							t.Errorf("step %d: want a refused bucket deep in debt, got %+v", i, got)
						}
						continue
					}
					if diff := cmp.Diff(got, s.want, withinMicro); diff != "" {
						t.Errorf("step %d: Allow(%q, %d) (-got +want):\n%s", i, key, s.n, diff)
					}
				}
			})
		}
	}
}

func TestAcquireRelease(t *testing.T) {
	type op struct {
		release bool
		key     string // "" means "a"
		want    bool   // Acquire's ok
	}
	cases := []struct {
		name string
		max  int64
		ops  []op
	}{
		{"acquire beyond max fails", 2, []op{{want: true}, {want: true}, {want: false}, {want: false}}},
		{"release frees a slot", 2, []op{{want: true}, {want: true}, {release: true}, {want: true}, {want: false}}},
		{"release without a held slot is a no-op", 1, []op{{release: true}, {release: true}, {want: true}, {want: false}}},
		{"keys are isolated", 1, []op{{want: true}, {key: "b", want: true}, {want: false}, {key: "b", release: true}, {want: false}, {key: "b", want: true}}},
	}
	for _, b := range backends(t) {
		for _, tc := range cases {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				l := b.new(t, newFakeClock().Now)
				ctx := context.Background()
				for i, o := range tc.ops {
					key := o.key
					if key == "" {
						key = "a"
					}
					if o.release {
						if err := l.Release(ctx, key); err != nil {
							t.Fatalf("op %d: Release: %v", i, err)
						}
						continue
					}
					ok, err := l.Acquire(ctx, key, tc.max)
					if err != nil {
						t.Fatalf("op %d: Acquire: %v", i, err)
					}
					if ok != o.want {
						t.Errorf("op %d: Acquire(%q, %d) = %v, want %v", i, key, tc.max, ok, o.want)
					}
				}
			})
		}
	}
}

func TestInvalidArguments(t *testing.T) {
	cases := []struct {
		name string
		call func(Limiter) error
	}{
		{"empty key", func(l Limiter) error { _, err := l.Allow(context.Background(), "", perSec4, 1); return err }},
		{"zero limit", func(l Limiter) error {
			_, err := l.Allow(context.Background(), "a", Rate{Period: time.Second}, 1)
			return err
		}},
		{"zero period", func(l Limiter) error { _, err := l.Allow(context.Background(), "a", Rate{Limit: 1}, 1); return err }},
		{"negative burst", func(l Limiter) error {
			_, err := l.Allow(context.Background(), "a", Rate{Limit: 4, Period: time.Second, Burst: -1}, 1)
			return err
		}},
		{"burst above limit", func(l Limiter) error {
			_, err := l.Allow(context.Background(), "a", Rate{Limit: 4, Period: time.Second, Burst: 5}, 1)
			return err
		}},
		{"adjust with burst above limit", func(l Limiter) error {
			return l.Adjust(context.Background(), "a", Rate{Limit: 4, Period: time.Second, Burst: 5}, 1)
		}},
		{"negative cost", func(l Limiter) error { _, err := l.Allow(context.Background(), "a", perSec4, -1); return err }},
		{"adjust with zero limit", func(l Limiter) error {
			return l.Adjust(context.Background(), "a", Rate{Period: time.Second}, 1)
		}},
		{"acquire with zero max", func(l Limiter) error { _, err := l.Acquire(context.Background(), "a", 0); return err }},
		{"release of empty key", func(l Limiter) error { return l.Release(context.Background(), "") }},
	}
	for _, b := range backends(t) {
		for _, tc := range cases {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				if err := tc.call(b.new(t, newFakeClock().Now)); !errors.Is(err, ErrInvalid) {
					t.Errorf("got error %v, want one wrapping ErrInvalid", err)
				}
			})
		}
	}
}
