package router

import (
	"testing"
	"time"
)

func newTestHealth(b BreakerConfig) (*Health, *fakeClock) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	b.Enabled = true
	return NewHealth(HealthConfig{Breaker: b}, clock.Now), clock
}

func TestBreakerOpensOnConsecutiveFailures(t *testing.T) {
	h, clock := newTestHealth(BreakerConfig{ConsecutiveFailures: 3, Cooldown: 5 * time.Second, HalfOpenProbes: 2})
	tg := h.Target("p", "m", true)
	tg.record(outcomeFailure, false, false, 0)
	tg.record(outcomeFailure, false, false, 0)
	tg.record(outcomeSuccess, false, false, time.Millisecond) // breaks the run
	tg.record(outcomeFailure, false, false, 0)
	tg.record(outcomeFailure, false, false, 0)
	if tg.State() != StateClosed {
		t.Fatalf("opened on a broken run of failures")
	}
	tg.record(outcomeFailure, false, false, 0)
	if tg.State() != StateOpen {
		t.Fatalf("state %s after 3 consecutive failures, want open", StateName(tg.State()))
	}
	if ok, _ := tg.allow(); ok {
		t.Error("open breaker allowed a request")
	}
	clock.Add(5 * time.Second)
	// Half-open: two probes, not three.
	ok1, p1 := tg.allow()
	ok2, p2 := tg.allow()
	ok3, _ := tg.allow()
	if !ok1 || !p1 || !ok2 || !p2 || ok3 {
		t.Fatalf("half-open allowed %v %v %v, want two probes", ok1, ok2, ok3)
	}
	if tg.State() != StateHalfOpen {
		t.Fatalf("state %s, want half_open", StateName(tg.State()))
	}
	// A failed probe reopens it for another cool-down.
	tg.record(outcomeFailure, true, false, 0)
	if tg.State() != StateOpen {
		t.Fatalf("a failed probe left the breaker %s", StateName(tg.State()))
	}
	tg.record(outcomeNeutral, true, false, 0) // the other probe ends without a verdict
	clock.Add(5 * time.Second)
	if ok, probe := tg.allow(); !ok || !probe {
		t.Fatal("no probe after the second cool-down")
	}
	tg.record(outcomeSuccess, true, false, time.Millisecond)
	if tg.State() != StateClosed {
		t.Fatalf("a successful probe left the breaker %s", StateName(tg.State()))
	}
	if st := tg.Status(); st.Opens != 2 || st.ConsecutiveFailures != 0 {
		t.Errorf("status %+v", st)
	}
}

func TestBreakerOpensOnErrorRate(t *testing.T) {
	h, clock := newTestHealth(BreakerConfig{ErrorRate: 0.5, Window: 10 * time.Second, MinRequests: 10, Cooldown: time.Second})
	tg := h.Target("p", "m", true)
	// 4 failures in 8: over the rate but under the minimum volume.
	for i := range 8 {
		tg.record(map[bool]outcome{true: outcomeFailure, false: outcomeSuccess}[i%2 == 0], false, false, time.Millisecond)
	}
	if tg.State() != StateClosed {
		t.Fatal("opened below min_requests")
	}
	// Old outcomes leave the window.
	clock.Add(11 * time.Second)
	for i := range 9 {
		tg.record(map[bool]outcome{true: outcomeFailure, false: outcomeSuccess}[i < 3], false, false, time.Millisecond)
	}
	if tg.State() != StateClosed {
		t.Fatal("opened at 3 failures of 9 in the window")
	}
	tg.record(outcomeFailure, false, false, 0)
	tg.record(outcomeFailure, false, false, 0)
	if tg.State() != StateClosed {
		t.Fatal("opened at 5 failures of 11 in the window")
	}
	tg.record(outcomeFailure, false, false, 0)
	if tg.State() != StateOpen {
		t.Fatalf("6 failures of 12 in the window: state %s, want open", StateName(tg.State()))
	}
}

func TestBreakerOffAlwaysAllows(t *testing.T) {
	h := NewHealth(HealthConfig{}, nil)
	tg := h.Target("p", "m", true)
	for range 100 {
		tg.record(outcomeFailure, false, false, 0)
	}
	if ok, _ := tg.allow(); !ok {
		t.Error("breaker off but the target was refused")
	}
	h.SetProviderDown("p", true)
	if ok, _ := tg.allow(); ok || !h.ProviderDown("p") {
		t.Error("a down provider's target was allowed")
	}
	var nilTarget *TargetHealth
	if ok, _ := nilTarget.allow(); !ok || nilTarget.InFlight() != 0 {
		t.Error("nil target health must allow")
	}
}

func TestDirectTargetsAreBounded(t *testing.T) {
	h := NewHealth(HealthConfig{}, nil)
	for i := range maxDirectTargets + 10 {
		h.Target("p", string(rune('a'+i%26))+time.Duration(i).String(), false)
	}
	if n := len(h.Snapshot()); n != maxDirectTargets {
		t.Errorf("tracked %d targets, want the bound %d", n, maxDirectTargets)
	}
	if h.Target("p", "configured", true) == nil {
		t.Error("a configured target must always be tracked")
	}
}
