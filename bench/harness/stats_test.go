package harness

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"median of odd count", ms(5, 1, 3), 50, 3 * time.Millisecond},
		{"median of even count is the lower middle", ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(seq(1, 100)...), 99, 99 * time.Millisecond},
		{"p99 of 1000 is the 990th", ms(seq(1, 1000)...), 99, 990 * time.Millisecond},
		{"p99 of 10 is the largest", ms(seq(1, 10)...), 99, 10 * time.Millisecond},
		{"p100 is the maximum", ms(3, 9, 1), 100, 9 * time.Millisecond},
		{"tiny p is the minimum", ms(3, 9, 1), 0.1, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.samples, tt.p); got != tt.want {
				t.Errorf("Percentile(p=%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestRatio(t *testing.T) {
	type result struct {
		R  float64
		OK bool
	}
	tests := []struct {
		name    string
		v, base float64
		want    result
	}{
		{"plain", 3, 2, result{1.5, true}},
		{"equal", 2, 2, result{1, true}},
		{"zero base means nothing", 3, 0, result{}},
		{"negative overhead means nothing", -3, 2, result{}},
		{"negative base means nothing", 3, -2, result{}},
		{"zero value means nothing", 0, 2, result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := Ratio(tt.v, tt.base)
			if diff := cmp.Diff(tt.want, result{r, ok}); diff != "" {
				t.Errorf("Ratio(%v, %v) (-want +got):\n%s", tt.v, tt.base, diff)
			}
		})
	}
}

func TestAddedAndPerTenK(t *testing.T) {
	tests := []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"added overhead", Added(310*time.Microsecond, 300*time.Microsecond), 10 * time.Microsecond},
		{"added within noise is negative", Added(290*time.Microsecond, 300*time.Microsecond), -10 * time.Microsecond},
		{"per 10k from 50k requests", PerTenK(5*time.Second, 50000), time.Second},
		{"per 10k from 2,500 requests", PerTenK(time.Second, 2500), 4 * time.Second},
		{"per 10k of no requests", PerTenK(time.Second, 0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}
