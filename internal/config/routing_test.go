package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRoutingValidation(t *testing.T) {
	const provider = "providers:\n  - {name: openai, type: openai, api_key: k}\n"
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "every strategy, nesting and the routing keys",
			src: provider + `models:
  - name: small
    strategy: cost
    targets: [{provider: openai, model: a, context_window: 8192, max_tokens: 100, region: eu}]
  - name: big
    strategy: least-latency
    fallback_on: [context_length, content_policy]
    retry: {max_attempts: 3, backoff: linear}
    timeouts: {request: 30s, attempt: 10s, ttft: 2s, idle: 5s}
    targets: [{model: small}, {provider: openai, model: b, weight: 0}]
  - name: busy
    strategy: least-busy
    targets: [{provider: openai, model: c}]
routing:
  retry: {max_attempts: 2, delay: 100ms}
  breaker: {consecutive_failures: 3, cooldown: 10s}
  least_latency: {explore: 0.1}
`,
		},
		{
			name: "bad routing values",
			src: provider + `routing:
  retry: {max_attempts: 11, backoff: fibonacci, delay: -1s}
  timeouts: {idle: -1s}
  fallback_on: [rate_limit]
  breaker: {error_rate: 1.5, half_open_probes: 0, cooldown: 0s}
  least_latency: {decay: 0, explore: 0.9}
`,
			want: []string{
				"sluice.yaml:4: routing.retry.max_attempts: must be from 1 to 10 (attempts on one target, the first included)",
				`sluice.yaml:4: routing.retry.backoff: must be constant, linear or exponential, got "fibonacci"`,
				"sluice.yaml:4: routing.retry.delay: must not be negative",
				"sluice.yaml:5: routing.timeouts.idle: must not be negative",
				`sluice.yaml:6: routing.fallback_on[0]: must be context_length or content_policy, got "rate_limit"`,
				"sluice.yaml:7: routing.breaker.error_rate: must be from 0 to 1 (a share of failed attempts; 0 disables this trigger)",
				"sluice.yaml:7: routing.breaker.cooldown: must be greater than 0 (how long an open breaker skips its target)",
				"sluice.yaml:7: routing.breaker.half_open_probes: must be at least 1",
				"sluice.yaml:8: routing.least_latency.decay: must be above 0 and at most 1 (the weight of a new sample)",
				"sluice.yaml:8: routing.least_latency.explore: must be from 0 to 0.5 (a share of requests)",
			},
		},
		{
			name: "nesting cycle",
			src: provider + `models:
  - name: a
    targets: [{model: b}]
  - name: b
    targets: [{provider: openai, model: x}, {model: a}]
`,
			want: []string{"sluice.yaml:5: models[0].targets: nesting cycle: a → b → a"},
		},
		{
			name: "a target without provider must name a virtual model",
			src:  provider + "models:\n  - name: a\n    targets: [{model: gpt-4o}]\n",
			want: []string{`sluice.yaml:5: models[0].targets[0].provider: required: the name of a configured provider (or leave it out and name a virtual model in model; "gpt-4o" is not one)`},
		},
		{
			name: "bad target and provider routing keys",
			src: `providers:
  - {name: openai, type: openai, api_key: k, region: EU!, health_check: {interval: -1s}}
models:
  - name: a
    retry: {max_attempts: 0}
    targets: [{provider: openai, model: x, region: "eu west", context_window: -1, max_tokens: -5}]
`,
			want: []string{
				`sluice.yaml:2: providers[0].region: must be 1 to 32 of a-z, 0-9 and '-' (e.g. eu, us-east), got "EU!"`,
				"sluice.yaml:2: providers[0].health_check.interval: must not be negative",
				"sluice.yaml:5: models[0].retry.max_attempts: must be from 1 to 10 (attempts on one target, the first included)",
				`sluice.yaml:6: models[0].targets[0].region: must be 1 to 32 of a-z, 0-9 and '-' (e.g. eu, us-east), got "eu west"`,
				"sluice.yaml:6: models[0].targets[0].context_window: must not be negative",
				"sluice.yaml:6: models[0].targets[0].max_tokens: must not be negative",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.src), "sluice.yaml", lookupIn(testEnv))
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestModelRoutingInheritsKeyByKey checks that a model's retry, timeouts
// and fallback_on take routing's values for the keys they do not write,
// and keep an explicit zero.
func TestModelRoutingInheritsKeyByKey(t *testing.T) {
	c := mustParse(t, okProvider+`models:
  - name: a
    retry: {max_attempts: 4, jitter: false}
    timeouts: {idle: 0s}
    targets: [{provider: openai, model: x}]
  - name: b
    fallback_on: []
    targets: [{provider: openai, model: y}]
routing:
  retry: {max_attempts: 2, delay: 50ms, backoff: constant}
  timeouts: {request: 9s, idle: 3s}
  fallback_on: [context_length]
`)
	a, b := c.Models[0], c.Models[1]
	wantA := Retry{MaxAttempts: 4, Backoff: "constant", Delay: Duration(50 * time.Millisecond),
		MaxDelay: defaultRetryMaxDelay, Jitter: false, MaxRetryAfter: defaultMaxRetryAfter}
	if diff := cmp.Diff(wantA, a.Retry); diff != "" {
		t.Errorf("a.retry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Timeouts{Request: Duration(9 * time.Second)}, a.Timeouts); diff != "" {
		t.Errorf("a.timeouts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"context_length"}, a.FallbackOn); diff != "" {
		t.Errorf("a.fallback_on (-want +got):\n%s", diff)
	}
	if len(b.FallbackOn) != 0 || b.Retry.MaxAttempts != 2 || !b.Retry.Jitter {
		t.Errorf("b: fallback_on %v (want the explicit empty list), retry %+v", b.FallbackOn, b.Retry)
	}
}
