package router

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

// runSized is runRouter.run with the plan sized for the context-window
// pre-skip.
func (rr *runRouter) runSized(t *testing.T, prompt, maxTokens int, errs map[string][]error) (Result, []string) {
	t.Helper()
	p, err := rr.Plan(nil, Request{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	p.PromptTokens, p.MaxTokens = prompt, maxTokens
	var tried []string
	res := rr.Run(context.Background(), &p, func(_ context.Context, tg Target) error {
		tried = append(tried, tg.String())
		if q := errs[tg.Provider.Name()]; len(q) > 0 {
			errs[tg.Provider.Name()] = q[1:]
			return q[0]
		}
		return nil
	})
	return res, tried
}

func TestContextWindowPreSkip(t *testing.T) {
	ctxLen := llm.ProviderStatusError("b", 400, "", "context_length_exceeded", "", "maximum context length is 16384 tokens", 0)
	win := func(name string, window, maxTokens int) Target {
		return Target{Provider: fake{name}, Model: "m", ContextWindow: window, MaxTokens: maxTokens}
	}
	tests := []struct {
		name              string
		pol               Policy
		targets           []Target
		prompt, maxTokens int
		errs              map[string][]error
		tried             []string
		code              int
	}{
		{name: "no estimate, no skip", targets: []Target{win("a", 8192, 0), win("b", 16384, 0)},
			tried: []string{"a/m"}},
		{name: "everything fits", targets: []Target{win("a", 8192, 0), win("b", 16384, 0)}, prompt: 4000, maxTokens: 1000,
			tried: []string{"a/m"}},
		{name: "a too small window is skipped for one that fits", targets: []Target{win("a", 8192, 0), win("b", 16384, 0)},
			prompt: 10_000, tried: []string{"b/m"}},
		{name: "max_tokens counts", targets: []Target{win("a", 16384, 0), win("b", 32768, 0)},
			prompt: 10_000, maxTokens: 8000, tried: []string{"b/m"}},
		{name: "the target's max_tokens cap counts instead", targets: []Target{win("a", 16384, 4000), win("b", 32768, 0)},
			prompt: 10_000, maxTokens: 8000, tried: []string{"a/m"}},
		{name: "a cap applies when the request sets none", targets: []Target{win("a", 12000, 4000), win("b", 32768, 0)},
			prompt: 10_000, tried: []string{"b/m"}},
		{name: "an unknown window may fit", targets: []Target{win("a", 8192, 0), win("c", 0, 0)},
			prompt: 10_000, tried: []string{"c/m"}},
		{name: "skipped targets are not fallbacks either", targets: []Target{win("a", 16384, 0), win("b", 8192, 0), win("c", 32768, 0)},
			prompt: 10_000, errs: map[string][]error{"a": {providerErr(503)}}, tried: []string{"a/m", "c/m"}},
		{name: "none fits: only the largest is called", targets: []Target{win("a", 8192, 0), win("b", 16384, 0), win("c", 4096, 0)},
			prompt: 20_000, tried: []string{"b/m"}},
		{name: "none fits: the provider decides", pol: Policy{FallbackOn: FallbackContextLength},
			targets: []Target{win("a", 8192, 0), win("b", 16384, 0)}, prompt: 20_000,
			errs: map[string][]error{"b": {ctxLen}}, tried: []string{"b/m"}, code: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rr := newRunRouter(t, tc.pol, HealthConfig{}, tc.targets...)
			res, tried := rr.runSized(t, tc.prompt, tc.maxTokens, tc.errs)
			if diff := cmp.Diff(tc.tried, tried); diff != "" {
				t.Errorf("tried (-want +got):\n%s", diff)
			}
			if res.Attempts != len(tc.tried) {
				t.Errorf("attempts = %d, want %d (skipped candidates are not attempts)", res.Attempts, len(tc.tried))
			}
			if got := asErr(res.Err); (got == nil) != (tc.code == 0) || got != nil && got.Status != tc.code {
				t.Errorf("err = %v, want status %d", res.Err, tc.code)
			}
		})
	}
}

// TestContextWindowPreSkipWithOpenBreakers: when every candidate that
// fits has an open breaker, the one tried anyway is one that fits, not
// the too small one.
func TestContextWindowPreSkipWithOpenBreakers(t *testing.T) {
	hc := HealthConfig{Breaker: BreakerConfig{Enabled: true, ConsecutiveFailures: 1, Cooldown: time.Hour, HalfOpenProbes: 1}}
	rr := newRunRouter(t, Policy{}, hc,
		Target{Provider: fake{"small"}, Model: "m", ContextWindow: 8192},
		Target{Provider: fake{"big"}, Model: "m", ContextWindow: 128_000})
	if _, tried := rr.runSized(t, 20_000, 0, map[string][]error{"big": {providerErr(503)}}); len(tried) != 1 || tried[0] != "big/m" {
		t.Fatalf("tried %v, want [big/m]", tried)
	}
	// big's breaker is open now; small is healthy but too small.
	res, tried := rr.runSized(t, 20_000, 0, nil)
	if diff := cmp.Diff([]string{"big/m"}, tried); diff != "" || res.Err != nil {
		t.Errorf("with big's breaker open: err %v, tried (-want +got):\n%s", res.Err, diff)
	}
}

func TestTargetRetryOverridesThePolicy(t *testing.T) {
	own := &Overrides{Retry: &Retry{MaxAttempts: 3, Delay: 10 * time.Millisecond, Backoff: BackoffConstant}}
	tests := []struct {
		name  string
		pol   Policy
		errs  map[string][]error
		tried []string
		waits []time.Duration
	}{
		{name: "the target's retry replaces the model's", pol: Policy{MaxAttempts: 1, Delay: time.Second},
			errs:  map[string][]error{"a": {providerErr(503), providerErr(503)}, "b": {providerErr(503)}},
			tried: []string{"a/1", "a/1", "a/1"}, waits: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}},
		{name: "other targets keep the model's", pol: Policy{MaxAttempts: 2, Delay: time.Second, Backoff: BackoffConstant},
			errs:  map[string][]error{"a": {providerErr(503), providerErr(503), providerErr(503)}, "b": {providerErr(503)}},
			tried: []string{"a/1", "a/1", "a/1", "b/2", "b/2"},
			waits: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, time.Second}},
		{name: "settings the request fixed win",
			pol:   Policy{MaxAttempts: 2, Delay: time.Second, Backoff: BackoffConstant, Fixed: FixedMaxAttempts | FixedDelay},
			errs:  map[string][]error{"a": {providerErr(503), providerErr(503)}},
			tried: []string{"a/1", "a/1", "b/2"}, waits: []time.Duration{time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rr := newRunRouter(t, tc.pol, HealthConfig{},
				Target{Provider: fake{"a"}, Model: "1", Overrides: own}, Target{Provider: fake{"b"}, Model: "2"})
			res, tried := rr.run(t, false, tc.errs)
			if diff := cmp.Diff(tc.tried, tried); diff != "" {
				t.Errorf("tried (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.waits, rr.waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if res.Err != nil {
				t.Errorf("err = %v", res.Err)
			}
		})
	}
}
