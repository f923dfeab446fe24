package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestTargetExtraBecomesJSON checks that a target's extra keeps every
// YAML shape as the JSON an upstream body needs, with ${ENV} expanded.
func TestTargetExtraBecomesJSON(t *testing.T) {
	c := mustParse(t, okProvider+`models:
  - name: a
    targets:
      - provider: openai
        model: x
        extra:
          safe_prompt: true
          top_k: 40
          temperature: 0.5
          big: 1e21
          hex: 0x1F
          user: "${MOCK_KEY}"
          quoted: "42"
          date: 2024-06-01
          gone: null
          generationConfig: {thinkingConfig: {thinkingBudget: 0}, stopSequences: [a, "b c"]}
          anchors: &a {k: v}
          again: *a
`)
	got := map[string]string{}
	for k, v := range c.Models[0].Targets[0].Extra {
		got[k] = string(v)
	}
	want := map[string]string{
		"safe_prompt": "true", "top_k": "40", "temperature": "0.5", "big": "1e+21", "hex": "31",
		"user": `"sk-mock-0000"`, "quoted": `"42"`, "date": `"2024-06-01"`, "gone": "",
		"generationConfig": `{"thinkingConfig":{"thinkingBudget":0},"stopSequences":["a","b c"]}`,
		"anchors":          `{"k":"v"}`, "again": `{"k":"v"}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("extra (-want +got):\n%s", diff)
	}
	// A printed config shows the values as YAML, not as bytes.
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "thinkingBudget: 0") || !strings.Contains(string(out), "safe_prompt: true") {
		t.Errorf("Redacted does not print extra as YAML:\n%s", out)
	}
}

// TestTargetRetryInheritsFromItsModel: a target's retry takes the model's
// values (themselves inherited from routing) for the keys it does not
// write; a target without one has none (the model's applies).
func TestTargetRetryInheritsFromItsModel(t *testing.T) {
	c := mustParse(t, okProvider+`models:
  - name: a
    retry: {max_attempts: 4, delay: 10ms}
    targets:
      - {provider: openai, model: x, retry: {max_attempts: 2, jitter: false}}
      - {provider: openai, model: y}
routing:
  retry: {backoff: constant}
`)
	ts := c.Models[0].Targets
	want := &Retry{MaxAttempts: 2, Backoff: "constant", Delay: Duration(10 * time.Millisecond),
		MaxDelay: defaultRetryMaxDelay, Jitter: false, MaxRetryAfter: defaultMaxRetryAfter}
	if diff := cmp.Diff(want, ts[0].Retry); diff != "" {
		t.Errorf("targets[0].retry (-want +got):\n%s", diff)
	}
	if ts[1].Retry != nil {
		t.Errorf("targets[1].retry = %+v; want nil (the model's applies)", ts[1].Retry)
	}
}

func TestTargetOverridesValidation(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "gateway members, empty keys and bad retry",
			src: okProvider + `models:
  - name: a
    targets:
      - provider: openai
        model: x
        extra:
          messages: []
          stream: false
          "": 1
        retry: {max_attempts: 0, backoff: random}
`,
			want: []string{
				`sluice.yaml:11: models[0].targets[0].extra.messages: the gateway writes "messages" from the client's request; extra cannot set it`,
				`sluice.yaml:12: models[0].targets[0].extra.stream: the gateway writes "stream" from the client's request; extra cannot set it`,
				`sluice.yaml:13: models[0].targets[0].extra[""]: must not be empty`,
				"sluice.yaml:14: models[0].targets[0].retry.max_attempts: must be from 1 to 10 (attempts on one target, the first included)",
				`sluice.yaml:14: models[0].targets[0].retry.backoff: must be constant, linear or exponential, got "random"`,
			},
		},
		{
			name: "overrides on a virtual target",
			src: okProvider + `models:
  - name: inner
    targets: [{provider: openai, model: x}]
  - name: outer
    targets:
      - {model: inner, extra: {top_k: 1}, retry: {max_attempts: 2}}
`,
			want: []string{
				`sluice.yaml:10: models[1].targets[0].extra: applies to provider targets only; set it on the targets of virtual model "inner"`,
				`sluice.yaml:10: models[1].targets[0].retry: applies to provider targets only; set it on the targets of virtual model "inner"`,
			},
		},
		{
			name: "values JSON cannot hold",
			src: okProvider + `models:
  - name: a
    targets:
      - provider: openai
        model: x
        extra: {a: .inf, b: !!binary aGk=, d: "${NOPE}"}
`,
			want: []string{
				`sluice.yaml:10: models[0].targets[0].extra.a: must be a finite number (JSON has no .inf or .nan), got ".inf"`,
				`sluice.yaml:10: models[0].targets[0].extra.b: must be a string, number, boolean or null, got a !!binary value`,
				`sluice.yaml:10: models[0].targets[0].extra.d: environment variable NOPE is not set (write ${NOPE:-default} for a fallback)`,
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

// TestRedactedHidesSecretExtras: a printed config hides extra members
// with a credential-like key at any depth or a value from the
// environment, and shows the others.
func TestRedactedHidesSecretExtras(t *testing.T) {
	c := mustParse(t, okProvider+`models:
  - name: a
    targets:
      - provider: openai
        model: x
        extra:
          max_tokens: 100
          topK: 40
          user: "${MOCK_KEY}"
          api_key: plain-secret-1
          data_sources: [{type: azure_search, parameters: {authentication: {type: api_key, key: plain-secret-2}}}]
          metadata: {accessToken: plain-secret-3}
`)
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"sk-mock-0000", "plain-secret-1", "plain-secret-2", "plain-secret-3"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("Redacted shows %q:\n%s", leak, out)
		}
	}
	for _, shown := range []string{"max_tokens: 100", "topK: 40"} {
		if !strings.Contains(string(out), shown) {
			t.Errorf("Redacted hides %q:\n%s", shown, out)
		}
	}
	if string(c.Models[0].Targets[0].Extra["api_key"]) != `"plain-secret-1"` {
		t.Error("Redacted changed the config itself")
	}
	for name, want := range map[string]bool{"api_key": true, "accessToken": true, "authentication": true, "x-api-key": true,
		"max_tokens": false, "top_k": false, "maxOutputTokens": false, "keywords": false, "monkey": false} {
		if got := sensitiveParam(name); got != want {
			t.Errorf("sensitiveParam(%q) = %v, want %v", name, got, want)
		}
	}
}
