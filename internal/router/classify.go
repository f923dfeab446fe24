package router

import (
	"net/http"
	"strings"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// verdict is what Run does after a failed attempt.
type verdict uint8

const (
	verdictStop   verdict = iota // no other attempt can help: return the error
	verdictRetry                 // retry the target (if attempts remain), then move on
	verdictNext                  // move to the next candidate at once
	verdictLonger                // move to a candidate with a larger context window
)

// judge classifies a failed attempt's error.
func judge(e *llm.Error, on Fallback) verdict {
	switch {
	case e.Retryable():
		return verdictRetry
	case e.Code == "unsupported_parameter" || e.Code == "unsupported_operation":
		// Another provider may honour what this one cannot.
		return verdictNext
	case e.CredentialsRefused():
		// The same target answers the same 401/403 again (and each retry
		// would take, and on a 401 disable, another vault key); another
		// target, with its own keys or access, may not.
		return verdictNext
	case on&FallbackContextLength != 0 && IsContextLength(e):
		return verdictLonger
	case on&FallbackContentPolicy != 0 && IsContentPolicy(e):
		return verdictNext
	}
	return verdictStop
}

// health is what an attempt's error says about the target: a retryable
// provider failure counts against it, anything else (the caller's mistake,
// a refusal, a refused credential, the client leaving) does not.
func health(e *llm.Error) outcome {
	if e.Retryable() && e.Status != provider.StatusClientClosed {
		return outcomeFailure
	}
	return outcomeNeutral
}

// contextPhrases are how providers say a prompt does not fit the model:
// OpenAI "maximum context length", Anthropic "prompt is too long", Gemini
// "input token count … exceeds", Mistral and vLLM variants.
var contextPhrases = []string{
	"context length", "context_length", "context window", "maximum context",
	"prompt is too long", "input token count", "too many tokens",
	"exceeds the maximum number of tokens", "input is too long",
}

// IsContextLength reports whether e is an upstream's refusal of a prompt
// longer than the model's context window.
func IsContextLength(e *llm.Error) bool {
	if e == nil || e.Fault != llm.FaultProvider {
		return false
	}
	if e.Status != http.StatusBadRequest && e.Status != http.StatusRequestEntityTooLarge &&
		e.Status != http.StatusUnprocessableEntity {
		return false
	}
	if strings.Contains(e.Code, "context_length") {
		return true
	}
	return containsAny(strings.ToLower(e.Message), contextPhrases)
}

// policyPhrases are how providers say a request or answer was refused by
// their content policy.
var policyPhrases = []string{"content policy", "content management policy", "content_policy", "safety system"}

// IsContentPolicy reports whether e is an upstream's content-policy
// refusal (OpenAI content_policy_violation, Azure and Gemini
// content_filter).
func IsContentPolicy(e *llm.Error) bool {
	if e == nil || e.Fault != llm.FaultProvider && e.Code != CodeContentFilter {
		return false
	}
	switch e.Code {
	case CodeContentFilter, "content_policy_violation", "responsible_ai_policy_violation":
		return true
	}
	return e.Status == http.StatusBadRequest && containsAny(strings.ToLower(e.Message), policyPhrases)
}

// CodeContentFilter is the code of a content-policy refusal, also used by
// the gateway for a whole answer the provider filtered.
const CodeContentFilter = "content_filter"

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
