package llm

import "encoding/json"

// FinishReason says why the model stopped.
type FinishReason string

// Canonical finish reasons (OpenAI's vocabulary, which the others map onto).
const (
	FinishStop          FinishReason = "stop"           // natural end or a stop sequence
	FinishLength        FinishReason = "length"         // max tokens reached
	FinishToolCalls     FinishReason = "tool_calls"     // the model called tools
	FinishContentFilter FinishReason = "content_filter" // safety system or refusal
	FinishPause         FinishReason = "pause"          // Anthropic pause_turn: continue the turn
)

// Response is a whole (non-streamed) chat response.
type Response struct {
	ID string
	// Model is the model that answered, as the provider named it.
	Model   string
	Created int64
	Choices []Choice
	Usage   Usage
	// SystemFingerprint and ServiceTier are passed through from OpenAI.
	SystemFingerprint string
	ServiceTier       string
}

// Choice is one candidate answer. Most requests have exactly one.
type Choice struct {
	Index        int
	Message      Message
	FinishReason FinishReason
	// StopSequence is the stop sequence that ended the output, when the
	// provider reports it (Anthropic stop_sequence).
	StopSequence string
	// Logprobs is the provider's logprobs object in OpenAI form, nil if none.
	Logprobs json.RawMessage
}

// Usage counts tokens; see the package doc for what each field includes.
type Usage struct {
	InputTokens       int
	OutputTokens      int
	CachedInputTokens int // prompt tokens read from the provider's cache
	CacheWriteTokens  int // prompt tokens written to the provider's cache
	ReasoningTokens   int
	AudioInputTokens  int
	AudioOutputTokens int
}

// TotalTokens is InputTokens + OutputTokens.
func (u Usage) TotalTokens() int { return u.InputTokens + u.OutputTokens }

// IsZero reports whether no token was counted.
func (u Usage) IsZero() bool { return u == Usage{} }

// Model describes a model for /v1/models.
type Model struct {
	ID      string
	OwnedBy string
	Created int64
}
