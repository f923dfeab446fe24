package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestGuardrailDefaults(t *testing.T) {
	c := mustParse(t, `mock: {enabled: true}
guardrails:
  - { id: a, detector: pii }
  - { id: b, detector: schema }
  - { id: c, detector: judge, model: mock/echo }
`)
	g := c.Guardrails
	if g[0].Apply != "request" || g[0].Action != "block" {
		t.Errorf("pii defaults: apply %q action %q; want request, block", g[0].Apply, g[0].Action)
	}
	if g[1].Apply != "response" {
		t.Errorf("schema apply %q; want response", g[1].Apply)
	}
	if g[2].Timeout != Duration(5*time.Second) {
		t.Errorf("judge timeout %v; want 5s", g[2].Timeout)
	}
}

func TestGuardrailValidation(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"no id", "guardrails:\n  - detector: pii\n",
			[]string{"sluice.yaml:2: guardrails[0].id: every guardrail needs an id"}},
		{"duplicate id", "guardrails:\n  - { id: a, detector: pii }\n  - { id: a, detector: secrets }\n",
			[]string{`sluice.yaml:3: guardrails[1].id: "a" is already the id of guardrails[0]`}},
		{"unknown detector", "guardrails:\n  - { id: a, detector: magic }\n",
			[]string{`sluice.yaml:2: guardrails[0].detector: must be pii, secrets, injection, rules, schema or judge, got "magic"`}},
		{"redact injection", "guardrails:\n  - { id: a, detector: injection, action: redact }\n",
			[]string{"sluice.yaml:2: guardrails[0].action: redact works with the pii, secrets and rules detectors only"}},
		{"restore without redact", "guardrails:\n  - { id: a, detector: pii, restore: true }\n",
			[]string{"sluice.yaml:2: guardrails[0].restore: needs action: redact on requests (apply: request or both)"}},
		{"injection on answers", "guardrails:\n  - { id: a, detector: injection, apply: response }\n",
			[]string{"sluice.yaml:2: guardrails[0].apply: the injection detector checks requests only"}},
		{"bad regex", "guardrails:\n  - { id: a, detector: rules, deny: [\"(\"] }\n",
			[]string{"sluice.yaml:2: guardrails[0].deny[0]: must be a valid RE2 regular expression"}},
		{"empty rules", "guardrails:\n  - { id: a, detector: rules }\n",
			[]string{"sluice.yaml:2: guardrails[0]: a rules guardrail needs deny, allow, keywords, topics, max_prompt_tokens or max_messages"}},
		{"judge without model", "guardrails:\n  - { id: a, detector: judge }\n",
			[]string{"sluice.yaml:2: guardrails[0].model: the judge detector needs a model to ask"}},
		{"judge category action", "mock: {enabled: true}\nguardrails:\n  - { id: a, detector: judge, model: mock/echo, categories: {S1: redact} }\n",
			[]string{`sluice.yaml:3: guardrails[0].categories: category "S1": action must be block or flag`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.src), "sluice.yaml", lookupIn(testEnv))
			if diff := cmp.Diff(tc.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
