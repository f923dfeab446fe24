package router

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// regions is a RegionPolicy allowing a fixed set.
type regions []string

func (rs regions) AllowsRegion(r string) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func newStrategyRouter(t *testing.T, h *Health, strategy string, targets ...Target) *Router {
	t.Helper()
	if h == nil {
		h = NewHealth(HealthConfig{}, nil)
	}
	seen := map[string]bool{}
	var ps []Provider
	for _, tg := range targets {
		if n := tg.Provider.Name(); !seen[n] {
			seen[n] = true
			ps = append(ps, Provider{Provider: tg.Provider, Region: map[string]string{"eu1": "eu", "eu2": "eu", "us1": "us"}[n]})
		}
	}
	r, err := New(Config{Providers: ps, Health: h, Models: []VirtualModel{{Name: "m", Strategy: strategy, Targets: targets}},
		Price: func(p, m string) (int64, bool) {
			price, ok := map[string]int64{"a/big": 15_000_000, "b/small": 750_000, "c/mid": 3_000_000}[p+"/"+m]
			return price, ok
		}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func plan(t *testing.T, r *Router, req Request) []string {
	t.Helper()
	p, err := r.Plan(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	return names(p.Candidates)
}

// TestWeightedSplit70_30 is the check: weights 70/30 split 2,000
// requests within ±5%.
func TestWeightedSplit70_30(t *testing.T) {
	r := newStrategyRouter(t, nil, StrategyWeighted,
		Target{Provider: fake{"a"}, Model: "x", Weight: 70}, Target{Provider: fake{"b"}, Model: "y", Weight: 30})
	const n = 2000
	first := map[string]int{}
	buf := make([]Target, 0, 4)
	for range n {
		p, err := r.Plan(buf, Request{Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Candidates) != 2 {
			t.Fatalf("candidates = %v", names(p.Candidates))
		}
		first[p.Candidates[0].String()]++
	}
	if share := float64(first["a/x"]) / n; math.Abs(share-0.70) > 0.05 {
		t.Errorf("a/x led %.1f%% of %d plans, want 70%% ± 5", share*100, n)
	}
	if share := float64(first["b/y"]) / n; math.Abs(share-0.30) > 0.05 {
		t.Errorf("b/y led %.1f%% of %d plans, want 30%% ± 5", share*100, n)
	}
}

func TestCostOrdersCheapestFirstUnknownLast(t *testing.T) {
	r := newStrategyRouter(t, nil, StrategyCost,
		Target{Provider: fake{"z"}, Model: "unpriced"}, Target{Provider: fake{"a"}, Model: "big"},
		Target{Provider: fake{"b"}, Model: "small"}, Target{Provider: fake{"c"}, Model: "mid"})
	want := []string{"b/small", "c/mid", "a/big", "z/unpriced"}
	for range 20 {
		if diff := cmp.Diff(want, plan(t, r, Request{Model: "m"})); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	}
}

func TestLeastBusyPrefersFewestInFlight(t *testing.T) {
	h := NewHealth(HealthConfig{}, nil)
	r := newStrategyRouter(t, h, StrategyLeastBusy,
		Target{Provider: fake{"a"}, Model: "x"}, Target{Provider: fake{"b"}, Model: "y"}, Target{Provider: fake{"c"}, Model: "z"})
	h.Target("a", "x", true).inflight.Store(5)
	h.Target("b", "y", true).inflight.Store(1)
	h.Target("c", "z", true).inflight.Store(3)
	for range 20 {
		if diff := cmp.Diff([]string{"b/y", "c/z", "a/x"}, plan(t, r, Request{Model: "m"})); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	}
	// All idle: ties are broken at random, so each leads sometimes.
	for _, n := range []string{"a/x", "b/y", "c/z"} {
		s := n[:1]
		h.Target(s, n[2:], true).inflight.Store(0)
	}
	led := map[string]int{}
	for range 300 {
		led[plan(t, r, Request{Model: "m"})[0]]++
	}
	for _, n := range []string{"a/x", "b/y", "c/z"} {
		if led[n] < 50 {
			t.Errorf("idle ties: %s led %d of 300 plans, want about 100 (%v)", n, led[n], led)
		}
	}
}

func TestLeastLatencyOrdersByDecayingAverage(t *testing.T) {
	h := NewHealth(HealthConfig{LatencyAlpha: 0.5}, nil)
	r := newStrategyRouter(t, h, StrategyLeastLatency,
		Target{Provider: fake{"a"}, Model: "x"}, Target{Provider: fake{"b"}, Model: "y"})
	a, b := h.Target("a", "x", true), h.Target("b", "y", true)
	// Unmeasured targets go first, so each gets measured.
	b.record(outcomeSuccess, false, false, 10*time.Millisecond)
	if got := plan(t, r, Request{Model: "m"})[0]; got != "a/x" {
		t.Errorf("unmeasured a should lead, got %s", got)
	}
	a.record(outcomeSuccess, false, false, 500*time.Millisecond)
	if got := plan(t, r, Request{Model: "m"})[0]; got != "b/y" {
		t.Errorf("faster b should lead, got %s", got)
	}
	// Streams compare time to first token when measured.
	a.record(outcomeSuccess, false, true, time.Millisecond)
	b.record(outcomeSuccess, false, true, 50*time.Millisecond)
	if got := plan(t, r, Request{Model: "m", Stream: true})[0]; got != "a/x" {
		t.Errorf("stream: a has the faster TTFT and should lead, got %s", got)
	}
	// The average decays towards recent samples: a recovers.
	for range 12 {
		a.record(outcomeSuccess, false, false, time.Millisecond)
	}
	if got := plan(t, r, Request{Model: "m"})[0]; got != "a/x" {
		t.Errorf("after recovery a should lead, got %s (a=%v b=%v)", got, a.Status().Latency, b.Status().Latency)
	}
}

func TestLeastLatencyExplores(t *testing.T) {
	h := NewHealth(HealthConfig{Explore: 0.2}, nil)
	r := newStrategyRouter(t, h, StrategyLeastLatency,
		Target{Provider: fake{"a"}, Model: "x"}, Target{Provider: fake{"b"}, Model: "y"})
	h.Target("a", "x", true).record(outcomeSuccess, false, false, time.Millisecond)
	h.Target("b", "y", true).record(outcomeSuccess, false, false, time.Second)
	led := 0
	const n = 2000
	for range n {
		if plan(t, r, Request{Model: "m"})[0] == "b/y" {
			led++
		}
	}
	if share := float64(led) / n; math.Abs(share-0.2) > 0.04 {
		t.Errorf("the slower target led %.1f%% of plans, want the 20%% exploration", share*100)
	}
}

func TestRegionsFilterCandidates(t *testing.T) {
	r := newStrategyRouter(t, nil, StrategyFallback,
		Target{Provider: fake{"us1"}, Model: "x"}, Target{Provider: fake{"eu1"}, Model: "y"},
		Target{Provider: fake{"untagged"}, Model: "z"}, Target{Provider: fake{"us1"}, Model: "w", Region: "eu"})
	tests := []struct {
		name    string
		regions RegionPolicy
		want    []string
		code    string
	}{
		{"unrestricted", nil, []string{"us1/x", "eu1/y", "untagged/z", "us1/w"}, ""},
		{"eu only; a target's own region wins over its provider's", regions{"eu"}, []string{"eu1/y", "us1/w"}, ""},
		{"nothing left", regions{"ap"}, nil, "region_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := r.Plan(nil, Request{Model: "m", Regions: tc.regions})
			if tc.code != "" {
				if e := asErr(err); e == nil || e.Code != tc.code || e.Status != 403 {
					t.Fatalf("err = %v, want 403 %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, names(p.Candidates)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// A direct provider/model name is filtered too.
	if _, err := r.Plan(nil, Request{Model: "us1/anything", Regions: regions{"eu"}}); asErr(err) == nil || asErr(err).Code != "region_not_allowed" {
		t.Errorf("direct name outside the regions: err = %v", err)
	}
}

func TestNestedModelsUseTheirOwnStrategy(t *testing.T) {
	a, b, c := fake{"a"}, fake{"b"}, fake{"c"}
	h := NewHealth(HealthConfig{}, nil)
	r, err := New(Config{Providers: []Provider{{Provider: a}, {Provider: b}, {Provider: c}}, Health: h, Models: []VirtualModel{
		{Name: "cheap", Strategy: StrategyCost, Targets: []Target{{Provider: a, Model: "x"}, {Provider: b, Model: "y"}}},
		{Name: "top", Strategy: StrategyFallback, Targets: []Target{{Provider: c, Model: "z"}, {Virtual: "cheap"}}},
	}, Price: func(p, m string) (int64, bool) { return map[string]int64{"a": 9, "b": 1}[p], p != "c" }})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"c/z", "b/y", "a/x"}, plan(t, r, Request{Model: "top"})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSortByIsStableAndHandlesManyTargets(t *testing.T) {
	var ts []Target
	for i := range 40 {
		ts = append(ts, Target{Provider: fake{fmt.Sprint(i)}, Model: "m", Weight: i % 3})
	}
	sortBy(ts, func(t *Target) float64 { return float64(t.Weight) })
	prev := -1
	for i, tg := range ts {
		if tg.Weight < prev {
			t.Fatalf("not sorted at %d", i)
		}
		prev = tg.Weight
	}
	if ts[0].Provider.Name() != "0" || ts[1].Provider.Name() != "3" {
		t.Errorf("not stable: %s, %s", ts[0], ts[1])
	}
}
