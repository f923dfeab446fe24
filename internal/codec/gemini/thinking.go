package gemini

import (
	"strings"

	"github.com/sluicehq/sluice/internal/llm"
)

// Reasoning effort → Gemini thinking.
//
// Gemini 2.x models take a token budget (thinkingBudget); Gemini 3 and later
// take a level (thinkingLevel: minimal, low, medium, high) and accept a
// budget only for backward compatibility. The codec therefore maps:
//
//	canonical                Gemini 2.x (and unknown models)   Gemini 3+
//	BudgetTokens = n > 0     thinkingBudget n                  thinkingBudget n
//	Effort minimal           thinkingBudget 512                thinkingLevel minimal
//	Effort low               thinkingBudget 1024               thinkingLevel low
//	Effort medium            thinkingBudget 8192               thinkingLevel medium
//	Effort high              thinkingBudget 24576              thinkingLevel high
//	Disabled / Effort none   thinkingBudget 0                  thinkingLevel minimal
//
// The low/medium/high budgets are the ones Google's own OpenAI-compatible
// endpoint uses; 512 is the smallest budget every 2.5 model accepts. Gemini
// 3 cannot switch thinking off, so "off" asks for the least there is. When
// thinking is on, includeThoughts is set so that thought summaries reach
// clients that show reasoning; clients that do not simply never see the
// reasoning deltas.

// effortBudgets maps an effort to a Gemini 2.x thinking budget.
var effortBudgets = map[string]int{"minimal": 512, "low": 1024, "medium": 8192, "high": 24576}

// modernGemini reports whether model is Gemini 3 or later: a "gemini-" name
// that is not a 1.x or 2.x version. Unversioned aliases such as
// "gemini-flash-latest" count as modern, since they follow the newest
// generation.
func modernGemini(model string) bool {
	model = strings.TrimPrefix(model, "models/")
	rest, ok := strings.CutPrefix(model, "gemini-")
	if !ok {
		return false
	}
	return !strings.HasPrefix(rest, "1") && !strings.HasPrefix(rest, "2") && !strings.HasPrefix(rest, "exp")
}

// encodeThinking converts r into a thinkingConfig for model, or nil.
func encodeThinking(r *llm.Reasoning, model string) (*thinkingConfig, error) {
	if r == nil {
		return nil, nil
	}
	modern := modernGemini(model)
	tc := &thinkingConfig{}
	switch {
	case r.Disabled || r.Effort == "none":
		if modern {
			tc.ThinkingLevel = "minimal"
		} else {
			zero := 0
			tc.ThinkingBudget = &zero
		}
		return tc, nil
	case r.BudgetTokens > 0:
		n := r.BudgetTokens
		tc.ThinkingBudget = &n
	case r.Effort != "":
		budget, ok := effortBudgets[r.Effort]
		if !ok {
			return nil, llm.BadRequest("reasoning_effort",
				"reasoning effort %q is not one of minimal, low, medium, high", r.Effort)
		}
		if modern {
			tc.ThinkingLevel = r.Effort
		} else {
			tc.ThinkingBudget = &budget
		}
	default:
		return nil, nil // an empty Reasoning leaves the model's default
	}
	tc.IncludeThoughts = true
	return tc, nil
}
