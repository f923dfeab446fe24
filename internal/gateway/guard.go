package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/guard"
	"github.com/sluicehq/sluice/internal/guard/injection"
	"github.com/sluicehq/sluice/internal/llm"
)

// guardPolicy is the compiled guardrails of a config snapshot: each rule
// with its detector built once.
type guardPolicy struct {
	rules []*guardRule
}

// guardRule is one compiled guardrail.
type guardRule struct {
	id, detector, action string
	req, resp, restore   bool
	threshold            float64
	// tenants, keys and models limit the rule; nil: all.
	tenants, keys, models map[string]bool

	pii   *guard.PII   // pii and secrets
	rules *guard.Rules // rules
	// allow says the rules have allow regexes, which judge a whole text:
	// on a stream they run once it finished, not on its pieces.
	allow  bool
	schema *guard.Schema // schema with a fixed schema; nil takes the request's
	retry  bool
	judge  *guard.Judge
	// hold is the look-behind a stream scanner keeps for this rule.
	hold int
}

// newGuardPolicy compiles the guardrails of cfg; nil when there are none.
// ask is how a judge calls its model.
func newGuardPolicy(cfg *config.Config, ask func(model string) func(ctx context.Context, prompt string) (string, error)) (*guardPolicy, error) {
	if len(cfg.Guardrails) == 0 {
		return nil, nil
	}
	p := &guardPolicy{}
	for i := range cfg.Guardrails {
		c := &cfg.Guardrails[i]
		r := &guardRule{id: c.ID, detector: c.Detector, action: c.Action, restore: c.Restore,
			req: c.Apply != guard.ApplyResponse, resp: c.Apply != guard.ApplyRequest, threshold: c.Threshold,
			tenants: set(c.Tenants), keys: set(c.Keys), models: set(c.Models), retry: c.Retry}
		var err error
		switch c.Detector {
		case config.DetectorPII, config.DetectorSecrets:
			r.pii, err = guard.NewPII(c.PIIOptions())
			if err == nil {
				r.hold = r.pii.MaxSpan()
			}
		case config.DetectorRules:
			r.rules, err = guard.NewRules(c.RulesOptions())
			r.hold, r.allow = guardRulesHold, len(c.Allow) > 0
		case config.DetectorInjection:
			if r.threshold == 0 {
				r.threshold = injection.DefaultThreshold
			}
		case config.DetectorSchema:
			if len(c.Schema) > 0 {
				r.schema, err = guard.NewSchema([]byte(c.Schema))
			}
		case config.DetectorJudge:
			r.judge, err = guard.NewJudge(c.JudgeOptions(ask(c.Model)))
		}
		if err != nil {
			return nil, fmt.Errorf("gateway: guardrails[%d] %q: %w", i, c.ID, err)
		}
		p.rules = append(p.rules, r)
	}
	return p, nil
}

// guardRulesHold is the look-behind of a rules detector in streams: the
// longest keyword or regex match it catches across chunks.
const guardRulesHold = 128

func set(xs []string) map[string]bool {
	if len(xs) == 0 {
		return nil
	}
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// applies reports whether the rule covers a request of p for model.
func (r *guardRule) applies(p *auth.Principal, model string) bool {
	if r.models != nil && !r.models[model] {
		return false
	}
	if r.tenants == nil && r.keys == nil {
		return true
	}
	if p == nil {
		return false
	}
	return (r.tenants == nil || r.tenants[p.TenantID]) && (r.keys == nil || r.keys[p.KeyID])
}

// find runs a text detector (pii, secrets, rules) over text.
func (r *guardRule) find(dst []guard.Finding, text string) []guard.Finding {
	switch {
	case r.pii != nil:
		return r.pii.Find(dst, text)
	case r.rules != nil:
		return r.rules.Find(dst, text)
	}
	return dst
}

// textDetector reports whether the rule looks at text piece by piece
// (and so can redact, and scan a stream as it flows).
func (r *guardRule) textDetector() bool { return r.pii != nil || r.rules != nil }

// contentBlocked is the error of a request a guardrail refused: it names
// the rule and what it found, never the text.
func contentBlocked(id, what string) *llm.Error {
	return &llm.Error{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Code: "content_blocked",
		Fault: llm.FaultCaller, Message: fmt.Sprintf("the request was blocked by guardrail %q (%s)", id, what)}
}

// responseBlocked is the error of an answer a guardrail refused.
func responseBlocked(id, what string) *llm.Error {
	return &llm.Error{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Code: "response_blocked",
		Fault: llm.FaultCaller, Message: fmt.Sprintf("the answer was blocked by guardrail %q (%s)", id, what)}
}

// kinds names the kinds of findings, each once, for errors and logs.
func kinds(fs []guard.Finding) string {
	var out []string
	for _, f := range fs {
		k := strings.TrimPrefix(f.Kind, "redacted_") // an answer's findings (answerFind)
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return strings.Join(out, ", ")
}

// askModel returns how a judge asks model: one short, deterministic chat
// request through the gateway's own router and providers (its cost is not
// recorded).
func (g *Gateway) askModel(model string) func(ctx context.Context, prompt string) (string, error) {
	return func(ctx context.Context, prompt string) (string, error) {
		zero, maxTokens := 0.0, judgeMaxTokens
		ex := &Exchange{Op: OpChat, Start: time.Now(), Request: &llm.Request{Model: model, Format: "openai",
			Messages:    []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(prompt)}}},
			Temperature: &zero, MaxTokens: &maxTokens}}
		if err := g.dispatch(ctx, ex); err != nil {
			return "", err
		}
		if ex.Response == nil || len(ex.Response.Choices) == 0 {
			return "", errors.New("the judge answered nothing")
		}
		return ex.Response.Choices[0].Message.Text(), nil
	}
}

// judgeMaxTokens bounds a judge's answer: a verdict and its categories.
const judgeMaxTokens = 64
