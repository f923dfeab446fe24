package router

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

func asErr(err error) *llm.Error {
	if err == nil {
		return nil
	}
	return llm.AsError(err)
}

func providerErr(status int) error {
	return llm.ProviderStatusError("x", status, "", "", "", "boom", 0)
}

// runRouter is a fallback model over a, b and c, with a fake sleep that
// records the waits instead of sleeping.
type runRouter struct {
	*Router
	health *Health
	clock  *fakeClock
	mu     sync.Mutex
	waits  []time.Duration
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newRunRouter(t *testing.T, pol Policy, hc HealthConfig, targets ...Target) *runRouter {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	h := NewHealth(hc, clock.Now)
	if len(targets) == 0 {
		targets = []Target{{Provider: fake{"a"}, Model: "1"}, {Provider: fake{"b"}, Model: "2"}, {Provider: fake{"c"}, Model: "3"}}
	}
	var ps []Provider
	seen := map[string]bool{}
	for _, tg := range targets {
		if !seen[tg.Provider.Name()] {
			seen[tg.Provider.Name()] = true
			ps = append(ps, Provider{Provider: tg.Provider})
		}
	}
	r, err := New(Config{Providers: ps, Health: h,
		Models: []VirtualModel{{Name: "m", Strategy: StrategyFallback, Targets: targets, Policy: pol}}})
	if err != nil {
		t.Fatal(err)
	}
	rr := &runRouter{Router: r, health: h, clock: clock}
	r.sleep = func(ctx context.Context, d time.Duration) bool {
		rr.mu.Lock()
		rr.waits = append(rr.waits, d)
		rr.mu.Unlock()
		return ctx.Err() == nil
	}
	return rr
}

// run plans model m and runs it with errs (by provider, consumed in order;
// none left = success), returning the result and the targets tried.
func (rr *runRouter) run(t *testing.T, stream bool, errs map[string][]error) (Result, []string) {
	t.Helper()
	p, err := rr.Plan(nil, Request{Model: "m", Stream: stream})
	if err != nil {
		t.Fatal(err)
	}
	var tried []string
	res := rr.Run(context.Background(), &p, func(_ context.Context, tg Target) error {
		tried = append(tried, tg.String())
		name := tg.Provider.Name()
		if len(errs[name]) == 0 {
			return nil
		}
		e := errs[name][0]
		errs[name] = errs[name][1:]
		return e
	})
	return res, tried
}

func TestRun(t *testing.T) {
	ra := func(d time.Duration) error {
		return llm.ProviderStatusError("a", 429, "", "", "", "slow down", d)
	}
	ctxLen := llm.ProviderStatusError("a", 400, "", "context_length_exceeded", "", "maximum context length is 8192 tokens", 0)
	policy := llm.ProviderStatusError("a", 400, "", "content_filter", "", "filtered", 0)
	tests := []struct {
		name      string
		pol       Policy
		targets   []Target
		errs      map[string][]error
		want      string
		tried     []string
		waits     []time.Duration
		code      int // expected error status; 0 = success
		fallbacks int
	}{
		{name: "first succeeds", tried: []string{"a/1"}, want: "a/1"},
		{name: "503 moves on", errs: map[string][]error{"a": {providerErr(503)}}, tried: []string{"a/1", "b/2"}, want: "b/2", fallbacks: 1},
		{name: "429 and 500 move on", errs: map[string][]error{"a": {providerErr(429)}, "b": {providerErr(500)}},
			tried: []string{"a/1", "b/2", "c/3"}, want: "c/3", fallbacks: 2},
		{name: "unsupported parameter moves on", errs: map[string][]error{"a": {llm.Unsupported("a", "n")}}, tried: []string{"a/1", "b/2"}, want: "b/2", fallbacks: 1},
		{name: "caller error stops", errs: map[string][]error{"a": {providerErr(400)}}, tried: []string{"a/1"}, want: "a/1", code: 400},
		{name: "all fail returns the last", errs: map[string][]error{"a": {providerErr(503)}, "b": {providerErr(503)}, "c": {providerErr(502)}},
			tried: []string{"a/1", "b/2", "c/3"}, want: "c/3", code: 502, fallbacks: 2},
		{name: "retries the same target with exponential backoff",
			pol:  Policy{MaxAttempts: 3, Delay: 100 * time.Millisecond},
			errs: map[string][]error{"a": {providerErr(503), providerErr(502)}}, tried: []string{"a/1", "a/1", "a/1"}, want: "a/1",
			waits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{name: "linear backoff", pol: Policy{MaxAttempts: 3, Delay: 100 * time.Millisecond, Backoff: BackoffLinear},
			errs: map[string][]error{"a": {providerErr(503), providerErr(503), providerErr(503)}}, tried: []string{"a/1", "a/1", "a/1", "b/2"}, want: "b/2",
			waits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, fallbacks: 1},
		{name: "constant backoff capped", pol: Policy{MaxAttempts: 3, Delay: time.Second, Backoff: BackoffConstant, MaxDelay: 300 * time.Millisecond},
			errs: map[string][]error{"a": {providerErr(503), providerErr(503)}}, tried: []string{"a/1", "a/1", "a/1"}, want: "a/1",
			waits: []time.Duration{300 * time.Millisecond, 300 * time.Millisecond}},
		{name: "Retry-After is honoured over a shorter backoff", pol: Policy{MaxAttempts: 2, Delay: 10 * time.Millisecond, MaxRetryAfter: 5 * time.Second},
			errs: map[string][]error{"a": {ra(time.Second)}}, tried: []string{"a/1", "a/1"}, want: "a/1", waits: []time.Duration{time.Second}},
		{name: "Retry-After beyond the cap moves on at once", pol: Policy{MaxAttempts: 2, MaxRetryAfter: 5 * time.Second},
			errs: map[string][]error{"a": {ra(time.Minute)}}, tried: []string{"a/1", "b/2"}, want: "b/2", fallbacks: 1},
		{name: "caller errors are not retried", pol: Policy{MaxAttempts: 3},
			errs: map[string][]error{"a": {providerErr(404)}}, tried: []string{"a/1"}, want: "a/1", code: 404},
		{name: "context length stops without fallback_on", errs: map[string][]error{"a": {ctxLen}}, tried: []string{"a/1"}, want: "a/1", code: 400},
		{name: "context length falls back to a larger window", pol: Policy{FallbackOn: FallbackContextLength},
			targets: []Target{{Provider: fake{"a"}, Model: "1", ContextWindow: 8192}, {Provider: fake{"b"}, Model: "2", ContextWindow: 8192},
				{Provider: fake{"c"}, Model: "3"}, {Provider: fake{"d"}, Model: "4", ContextWindow: 200_000}},
			errs: map[string][]error{"a": {ctxLen}}, tried: []string{"a/1", "d/4"}, want: "d/4", fallbacks: 1},
		{name: "content policy falls back where configured", pol: Policy{FallbackOn: FallbackContentPolicy},
			errs: map[string][]error{"a": {policy}}, tried: []string{"a/1", "b/2"}, want: "b/2", fallbacks: 1},
		{name: "content policy stops otherwise", errs: map[string][]error{"a": {policy}}, tried: []string{"a/1"}, want: "a/1", code: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rr := newRunRouter(t, tc.pol, HealthConfig{}, tc.targets...)
			res, tried := rr.run(t, false, tc.errs)
			if diff := cmp.Diff(tc.tried, tried); diff != "" {
				t.Errorf("tried (-want +got):\n%s", diff)
			}
			if res.Target.String() != tc.want || res.Attempts != len(tc.tried) || res.Fallbacks != tc.fallbacks {
				t.Errorf("result %s after %d attempts (%d fallbacks), want %s after %d (%d)", res.Target, res.Attempts, res.Fallbacks,
					tc.want, len(tc.tried), tc.fallbacks)
			}
			if got := asErr(res.Err); (got == nil) != (tc.code == 0) || got != nil && got.Status != tc.code {
				t.Errorf("err = %v, want status %d", res.Err, tc.code)
			}
			if diff := cmp.Diff(tc.waits, rr.waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunStopsWhenTheClientLeaves(t *testing.T) {
	rr := newRunRouter(t, Policy{MaxAttempts: 3}, HealthConfig{})
	p, _ := rr.Plan(nil, Request{Model: "m"})
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	res := rr.Run(ctx, &p, func(context.Context, Target) error {
		calls++
		cancel()
		return providerErr(503)
	})
	if calls != 1 || res.Err == nil {
		t.Errorf("calls = %d, err = %v; want 1 call and an error", calls, res.Err)
	}
}

func TestRunAttemptTimeoutMovesOn(t *testing.T) {
	rr := newRunRouter(t, Policy{AttemptTimeout: 20 * time.Millisecond}, HealthConfig{})
	p, _ := rr.Plan(nil, Request{Model: "m"})
	var tried []string
	res := rr.Run(context.Background(), &p, func(ctx context.Context, tg Target) error {
		tried = append(tried, tg.String())
		if tg.Provider.Name() == "a" {
			<-ctx.Done()
			return &llm.Error{Status: 499, Code: "client_closed", Fault: llm.FaultCaller, Message: "gone"}
		}
		return nil
	})
	if res.Err != nil || res.Target.String() != "b/2" {
		t.Fatalf("result %s, %v; want b/2 after a's timeout (tried %v)", res.Target, res.Err, tried)
	}
	if st := rr.health.Target("a", "1", true).Status(); st.Failures != 1 {
		t.Errorf("a's timeout should count as a failure: %+v", st)
	}
}

func TestRunRequestTimeoutEndsEverything(t *testing.T) {
	rr := newRunRouter(t, Policy{RequestTimeout: 30 * time.Millisecond, MaxAttempts: 5}, HealthConfig{})
	rr.sleep = sleepCtx
	p, _ := rr.Plan(nil, Request{Model: "m"})
	start := time.Now()
	res := rr.Run(context.Background(), &p, func(ctx context.Context, tg Target) error {
		<-ctx.Done()
		return &llm.Error{Status: 499, Code: "client_closed", Fault: llm.FaultCaller, Message: "gone"}
	})
	e := asErr(res.Err)
	if e == nil || e.Status != http.StatusGatewayTimeout || e.Code != "request_timeout" {
		t.Fatalf("err = %v, want 504 request_timeout", res.Err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %v", took)
	}
	if st := rr.health.Target("a", "1", true).Status(); st.Failures != 0 {
		t.Errorf("our own deadline must not count against the target: %+v", st)
	}
}

func TestRunStreamHoldsInFlightUntilRelease(t *testing.T) {
	rr := newRunRouter(t, Policy{TTFT: time.Second}, HealthConfig{})
	p, _ := rr.Plan(nil, Request{Model: "m", Stream: true})
	var streamCtx context.Context
	res := rr.Run(context.Background(), &p, func(ctx context.Context, tg Target) error {
		streamCtx = ctx
		return nil
	})
	h := rr.health.Target("a", "1", true)
	if res.Err != nil || h.InFlight() != 1 || streamCtx.Err() != nil {
		t.Fatalf("err %v, in flight %d, ctx %v; want the stream held open", res.Err, h.InFlight(), streamCtx.Err())
	}
	res.Release(&llm.Error{Status: 502, Fault: llm.FaultProvider, Message: "cut"})
	res.Release(nil) // a second call does nothing
	if h.InFlight() != 0 || streamCtx.Err() == nil {
		t.Errorf("after Release: in flight %d, ctx %v", h.InFlight(), streamCtx.Err())
	}
	if st := h.Status(); st.Failures != 1 || st.Successes != 1 {
		t.Errorf("a stream cut mid-way counts as a failure after its success: %+v", st)
	}
	// A clean end is not a failure.
	res = rr.Run(context.Background(), &p, func(context.Context, Target) error { return nil })
	res.Release(io.EOF)
	if st := h.Status(); st.Failures != 1 {
		t.Errorf("EOF counted as a failure: %+v", st)
	}
}

func TestRunSkipsOpenBreakers(t *testing.T) {
	hc := HealthConfig{Breaker: BreakerConfig{Enabled: true, ConsecutiveFailures: 2, Cooldown: 10 * time.Second}}
	rr := newRunRouter(t, Policy{}, hc)
	a := rr.health.Target("a", "1", true)
	for range 2 {
		rr.run(t, false, map[string][]error{"a": {providerErr(503)}})
	}
	if a.State() != StateOpen {
		t.Fatalf("a is %s after 2 failures, want open", StateName(a.State()))
	}
	_, tried := rr.run(t, false, nil)
	if diff := cmp.Diff([]string{"b/2"}, tried); diff != "" {
		t.Errorf("open a must be skipped (-want +got):\n%s", diff)
	}
	// After the cool-down a probe goes through and closes the breaker.
	rr.clock.Add(11 * time.Second)
	_, tried = rr.run(t, false, nil)
	if diff := cmp.Diff([]string{"a/1"}, tried); diff != "" {
		t.Errorf("half-open probe (-want +got):\n%s", diff)
	}
	if a.State() != StateClosed {
		t.Errorf("a is %s after a successful probe, want closed", StateName(a.State()))
	}
}

func TestRunAllOpenTriesTheLeastRecentlyFailed(t *testing.T) {
	hc := HealthConfig{Breaker: BreakerConfig{Enabled: true, ConsecutiveFailures: 1, Cooldown: time.Minute}}
	rr := newRunRouter(t, Policy{}, hc)
	// b fails first, then c, then a: b failed least recently.
	for _, n := range []string{"b", "c", "a"} {
		rr.clock.Add(time.Second)
		m := map[string]string{"a": "1", "b": "2", "c": "3"}[n]
		rr.health.Target(n, m, true).record(outcomeFailure, false, false, 0)
	}
	res, tried := rr.run(t, false, nil)
	if diff := cmp.Diff([]string{"b/2"}, tried); diff != "" || res.Err != nil {
		t.Errorf("all open: tried (-want +got):\n%s (err %v)", diff, res.Err)
	}
}

func TestPolicyWaitJitter(t *testing.T) {
	p := Policy{Delay: 100 * time.Millisecond, Jitter: true}
	for range 200 {
		d, ok := p.wait(2, 0)
		if !ok || d < 100*time.Millisecond || d > 200*time.Millisecond {
			t.Fatalf("jittered wait %v outside [100ms, 200ms]", d)
		}
	}
	if d, _ := (&Policy{Delay: time.Second}).wait(100, 0); d <= 0 {
		t.Errorf("huge attempt number overflowed to %v", d)
	}
	if _, ok := (&Policy{}).wait(1, time.Second); ok {
		t.Error("Retry-After with MaxRetryAfter 0 should move on")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name          string
		err           *llm.Error
		ctxLen, polic bool
	}{
		{"openai code", llm.ProviderStatusError("o", 400, "", "context_length_exceeded", "messages", "too long", 0), true, false},
		{"anthropic message", llm.ProviderStatusError("c", 400, "", "", "", "prompt is too long: 210000 tokens > 200000 maximum", 0), true, false},
		{"gemini message", llm.ProviderStatusError("g", 400, "", "", "", "The input token count (1200000) exceeds the maximum number of tokens allowed", 0), true, false},
		{"plain 400", llm.ProviderStatusError("o", 400, "", "", "", "bad temperature", 0), false, false},
		{"a 500 mentioning context", llm.ProviderStatusError("o", 500, "", "", "", "context length", 0), false, false},
		{"azure filter", llm.ProviderStatusError("az", 400, "", "content_filter", "", "The response was filtered due to the prompt triggering Azure OpenAI's content management policy", 0), false, true},
		{"openai policy", llm.ProviderStatusError("o", 400, "", "content_policy_violation", "", "rejected", 0), false, true},
		{"gateway error", &llm.Error{Status: 400, Code: "context_length_exceeded", Fault: llm.FaultCaller}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsContextLength(tc.err); got != tc.ctxLen {
				t.Errorf("IsContextLength = %v", got)
			}
			if got := IsContentPolicy(tc.err); got != tc.polic {
				t.Errorf("IsContentPolicy = %v", got)
			}
		})
	}
	if health(llm.AsError(errors.New("x"))) != outcomeNeutral {
		t.Error("a gateway error counted against the target")
	}
}
