package router

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

// directRouter has provider p advertising "known" and one virtual model
// "m" over p/configured.
func directRouter(t *testing.T) (*Router, *Health) {
	t.Helper()
	p := fake{"p"}
	h := NewHealth(HealthConfig{Breaker: BreakerConfig{Enabled: true, ConsecutiveFailures: 1, Cooldown: time.Minute}}, nil)
	r, err := New(Config{Providers: []Provider{{Provider: p, Models: []string{"known"}}}, Health: h,
		Models: []VirtualModel{{Name: "m", Targets: []Target{{Provider: p, Model: "configured", Weight: 1}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return r, h
}

func tracked(h *Health) []string {
	var out []string
	for _, st := range h.Snapshot() {
		out = append(out, fmt.Sprintf("%s/%s direct=%v", st.Provider, st.Model, st.Direct))
	}
	return out
}

// TestJunkDirectNamesAreNotTracked guards the registry against model names
// a client makes up: a direct target is tracked only once it answers (or
// from the start when its provider advertises the model).
func TestJunkDirectNamesAreNotTracked(t *testing.T) {
	r, h := directRouter(t)
	fail := func(context.Context, Target) error { return providerErr(http.StatusBadGateway) }
	for i := range 50 {
		p, err := r.Plan(nil, Request{Model: fmt.Sprintf("p/junk-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if p.Candidates[0].Health() != nil {
			t.Fatalf("Plan tracked junk name %d before it answered", i)
		}
		if res := r.Run(context.Background(), &p, fail); res.Err == nil {
			t.Fatal("the failing call succeeded")
		}
	}
	want := []string{"p/configured direct=false"}
	if diff := cmp.Diff(want, tracked(h)); diff != "" {
		t.Fatalf("after 50 failing junk names (-want +got):\n%s", diff)
	}

	// An advertised model is tracked at once, a failure included.
	p, _ := r.Plan(nil, Request{Model: "p/known"})
	if p.Candidates[0].Health() == nil {
		t.Error("an advertised model is not tracked")
	}
	r.Run(context.Background(), &p, fail)

	// A made-up name that answers is tracked from then on, as direct.
	p, _ = r.Plan(nil, Request{Model: "p/real-but-unlisted"})
	res := r.Run(context.Background(), &p, func(context.Context, Target) error { return nil })
	if res.Err != nil || res.Target.Health() == nil || res.Target.Health().InFlight() != 0 {
		t.Fatalf("after its first success: err %v, health %v", res.Err, res.Target.Health())
	}
	want = []string{"p/configured direct=false", "p/known direct=false", "p/real-but-unlisted direct=true"}
	if diff := cmp.Diff(want, tracked(h)); diff != "" {
		t.Errorf("tracked (-want +got):\n%s", diff)
	}
	if st := h.Target("p", "known", true).Status(); st.Failures != 1 || st.State != StateOpen {
		t.Errorf("advertised target after a failure: %+v", st)
	}
	if st := h.Target("p", "real-but-unlisted", false).Status(); st.Successes != 1 {
		t.Errorf("adopted target: %+v", st)
	}
	// A config naming it later makes it configured.
	h.Target("p", "real-but-unlisted", true)
	if st := h.Target("p", "real-but-unlisted", false).Status(); st.Direct {
		t.Error("a configured target still reads as direct")
	}
}

// TestAdoptedStreamIsReleasedCleanly: a stream on a direct target tracked
// by its first chunk leaves no request counted in flight.
func TestAdoptedStreamIsReleasedCleanly(t *testing.T) {
	r, h := directRouter(t)
	p, _ := r.Plan(nil, Request{Model: "p/new", Stream: true})
	res := r.Run(context.Background(), &p, func(context.Context, Target) error { return nil })
	res.Release(&llm.Error{Status: http.StatusBadGateway, Fault: llm.FaultProvider, Message: "cut"})
	st := h.Target("p", "new", false).Status()
	if st.InFlight != 0 || st.Successes != 1 || st.Failures != 1 {
		t.Errorf("adopted stream: %+v; want nothing in flight, 1 success then 1 failure", st)
	}
}

// TestDirectTargetsEvictTheLeastRecentlyUsed: at the bound, a new direct
// target replaces the least recently used idle one with a closed breaker,
// instead of going untracked for good.
func TestDirectTargetsEvictTheLeastRecentlyUsed(t *testing.T) {
	h, clock := newTestHealth(BreakerConfig{ConsecutiveFailures: 1, Cooldown: time.Minute})
	first := h.Target("p", "d0", false)
	first.record(outcomeFailure, false, false, 0) // open: never evicted
	busy := h.Target("p", "d1", false)
	busy.inflight.Add(1) // in flight: never evicted
	for i := 2; i < maxDirectTargets; i++ {
		clock.Add(time.Millisecond)
		h.Target("p", fmt.Sprintf("d%d", i), false).record(outcomeSuccess, false, false, time.Millisecond)
	}
	clock.Add(time.Millisecond)
	h.Target("p", "d2", false).record(outcomeSuccess, false, false, time.Millisecond) // d3 is now the oldest idle
	for i := range 3 {
		if h.Target("p", fmt.Sprintf("configured-%d", i), true) == nil {
			t.Fatal("a configured target must always be tracked")
		}
	}
	if got := h.Target("p", "newcomer", false); got == nil {
		t.Fatal("at the bound a new direct target went untracked")
	}
	if h.lookup("p", "d3") != nil {
		t.Error("d3, the least recently used idle target, was not evicted")
	}
	for _, keep := range []string{"d0", "d1", "d2", "d4"} {
		if h.lookup("p", keep) == nil {
			t.Errorf("%s was evicted", keep)
		}
	}
	if n := len(h.Snapshot()); n != maxDirectTargets+3 {
		t.Errorf("tracked %d targets, want %d direct + 3 configured", n, maxDirectTargets)
	}
}

// TestLongModelNamesAreRefused: a name over MaxModelName bytes is a 400
// and never reaches the registry.
func TestLongModelNamesAreRefused(t *testing.T) {
	r, h := directRouter(t)
	long := "p/" + strings.Repeat("x", MaxModelName-1)
	_, err := r.Plan(nil, Request{Model: long})
	e := asErr(err)
	if e == nil || e.Status != http.StatusBadRequest || e.Type != llm.TypeInvalidRequest || e.Param != "model" {
		t.Fatalf("Plan(%d bytes) = %v, want a 400 on model", len(long), err)
	}
	if _, err := r.Plan(nil, Request{Model: long[:MaxModelName]}); err != nil {
		t.Errorf("a %d-byte name was refused: %v", MaxModelName, err)
	}
	if n := len(h.Snapshot()); n != 1 {
		t.Errorf("tracked %d targets, want only the configured one", n)
	}
}

// TestAllOpenStreamOutlivesTheRequestTimeout: the request timeout bounds
// the first byte; a stream that started on the least recently failed
// target (every breaker open) must not be cut when it passes.
func TestAllOpenStreamOutlivesTheRequestTimeout(t *testing.T) {
	hc := HealthConfig{Breaker: BreakerConfig{Enabled: true, ConsecutiveFailures: 1, Cooldown: time.Minute}}
	rr := newRunRouter(t, Policy{RequestTimeout: 30 * time.Millisecond}, hc)
	for _, tg := range [][2]string{{"a", "1"}, {"b", "2"}, {"c", "3"}} {
		rr.health.Target(tg[0], tg[1], true).record(outcomeFailure, false, false, 0)
	}
	p, _ := rr.Plan(nil, Request{Model: "m", Stream: true})
	var streamCtx context.Context
	res := rr.Run(context.Background(), &p, func(ctx context.Context, _ Target) error {
		streamCtx = ctx
		return nil
	})
	if res.Err != nil || res.Attempts != 1 {
		t.Fatalf("all open: err %v, attempts %d", res.Err, res.Attempts)
	}
	time.Sleep(80 * time.Millisecond)
	if err := context.Cause(streamCtx); err != nil {
		t.Errorf("the started stream was cut after the request timeout: %v", err)
	}
	res.Release(nil)
	if streamCtx.Err() == nil {
		t.Error("Release left the stream's context open")
	}
}

// chain returns virtual models c0 → c1 → … → c<levels>, the last over a
// provider target.
func chain(p fake, levels int) []VirtualModel {
	vms := make([]VirtualModel, levels+1)
	for i := range vms {
		vms[i] = VirtualModel{Name: fmt.Sprintf("c%d", i), Targets: []Target{{Virtual: fmt.Sprintf("c%d", i+1), Weight: 1}}}
	}
	vms[levels].Targets = []Target{{Provider: p, Model: "leaf", Weight: 1}}
	return vms
}

// TestNestingBeyondMaxNesting: New refuses a chain nesting deeper than
// MaxNesting, and Plan never hands out a provider-less target (which
// would panic in the gateway) even if one slipped through.
func TestNestingBeyondMaxNesting(t *testing.T) {
	p := fake{"p"}
	if _, err := New(Config{Providers: []Provider{{Provider: p}}, Models: chain(p, MaxNesting+1)}); err == nil ||
		!strings.Contains(err.Error(), "nest more than 8 deep") {
		t.Errorf("New with %d levels: %v, want a nesting error", MaxNesting+1, err)
	}
	r, err := New(Config{Providers: []Provider{{Provider: p}}, Models: chain(p, MaxNesting)})
	if err != nil {
		t.Fatalf("New with %d levels: %v", MaxNesting, err)
	}
	if got := plan(t, r, Request{Model: "c0"}); !cmp.Equal(got, []string{"p/leaf"}) {
		t.Errorf("c0 at the limit resolves to %v, want [p/leaf]", got)
	}
	// Force one level more past New, as a bug elsewhere might.
	leaf := r.models[fmt.Sprintf("c%d", MaxNesting)]
	leaf.Targets = []Target{{Virtual: "extra", Weight: 1}, {Provider: p, Model: "leaf", Weight: 0}}
	leaf.nested = true
	r.models["extra"] = &VirtualModel{Name: "extra", Strategy: StrategyWeighted, Targets: []Target{{Provider: p, Model: "deep", Weight: 1}}}
	pl, err := r.Plan(nil, Request{Model: "c0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pl.Candidates {
		if c.Provider == nil {
			t.Fatalf("Plan returned a provider-less candidate: %v", names(pl.Candidates))
		}
	}
	// Run skips a provider-less candidate instead of calling it.
	pl.Candidates = append([]Target{{Virtual: "ghost"}}, pl.Candidates...)
	var called []string
	res := r.Run(context.Background(), &pl, func(_ context.Context, tg Target) error {
		called = append(called, tg.Provider.Name()+"/"+tg.Model)
		return nil
	})
	if res.Err != nil || !cmp.Equal(called, []string{"p/leaf"}) {
		t.Errorf("Run: err %v, called %v; want p/leaf only", res.Err, called)
	}
}

// BenchmarkPlanDirect is Plan for "provider/model" names: a tracked
// target, an advertised one and one not tracked (adopted on success).
func BenchmarkPlanDirect(b *testing.B) {
	p := fake{"p"}
	h := NewHealth(HealthConfig{}, nil)
	r, err := New(Config{Providers: []Provider{{Provider: p, Models: []string{"known"}}}, Health: h})
	if err != nil {
		b.Fatal(err)
	}
	h.Target("p", "tracked", false)
	buf := make([]Target, 0, 8)
	for _, model := range []string{"p/tracked", "p/known", "p/untracked"} {
		b.Run(model, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Plan(buf, Request{Model: model}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
