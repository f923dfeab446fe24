package router

import (
	"context"
	"testing"
)

// BenchmarkPlan measures choosing the candidates of a three-target model
// per strategy, with a reused buffer (the gateway's path).
func BenchmarkPlan(b *testing.B) {
	h := NewHealth(HealthConfig{Breaker: BreakerConfig{Enabled: true, ConsecutiveFailures: 5}, Explore: 0.05}, nil)
	targets := []Target{{Provider: fake{"a"}, Model: "x", Weight: 5}, {Provider: fake{"b"}, Model: "y", Weight: 3},
		{Provider: fake{"c"}, Model: "z", Weight: 2}}
	for _, s := range Strategies {
		r, err := New(Config{Providers: []Provider{{Provider: fake{"a"}}, {Provider: fake{"b"}}, {Provider: fake{"c"}}},
			Health: h, Models: []VirtualModel{{Name: "m", Strategy: s, Targets: targets}},
			Price: func(p, _ string) (int64, bool) { return int64(len(p)), true }})
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]Target, 0, 8)
		var pinned RegionPolicy = regions{"", "eu"}
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := r.Plan(buf, Request{Model: "m", Regions: pinned})
				if err != nil || len(p.Candidates) != 3 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBreakerAllow is the per-attempt breaker check on a closed and
// on an open breaker.
func BenchmarkBreakerAllow(b *testing.B) {
	h := NewHealth(HealthConfig{Breaker: BreakerConfig{Enabled: true, ConsecutiveFailures: 1, Cooldown: 1 << 62}}, nil)
	closed, open := h.Target("p", "closed", true), h.Target("p", "open", true)
	open.record(outcomeFailure, false, false, 0)
	b.Run("closed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ok, _ := closed.allow(); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ok, _ := open.allow(); ok {
				b.Fatal("allowed")
			}
		}
	})
}

// BenchmarkRun is a whole successful run: plan, breaker check, in-flight
// count and latency record around a call that answers at once.
func BenchmarkRun(b *testing.B) {
	h := NewHealth(HealthConfig{Breaker: BreakerConfig{Enabled: true, ConsecutiveFailures: 5}}, nil)
	r, err := New(Config{Providers: []Provider{{Provider: fake{"a"}}, {Provider: fake{"b"}}}, Health: h,
		Models: []VirtualModel{{Name: "m", Targets: []Target{{Provider: fake{"a"}, Model: "x", Weight: 1}, {Provider: fake{"b"}, Model: "y", Weight: 1}}}}})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]Target, 0, 8)
	call := func(context.Context, Target) error { return nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, _ := r.Plan(buf, Request{Model: "m"})
		if res := r.Run(ctx, &p, call); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}
