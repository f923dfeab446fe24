package anthropic

import (
	"fmt"
	"math/rand/v2"

	"github.com/sluicehq/sluice/internal/llm"
)

// This file holds the small mappings both directions share: stop reasons,
// token usage and generated IDs.

// Anthropic stop reasons.
const (
	stopEndTurn      = "end_turn"
	stopMaxTokens    = "max_tokens"
	stopSequence     = "stop_sequence"
	stopToolUse      = "tool_use"
	stopPauseTurn    = "pause_turn"
	stopRefusal      = "refusal"
	stopContextLimit = "model_context_window_exceeded"
)

// finishReason maps an Anthropic stop reason to the canonical one. Unknown
// reasons are a natural stop: the model did finish.
func finishReason(stop string) llm.FinishReason {
	switch stop {
	case stopMaxTokens, stopContextLimit:
		return llm.FinishLength
	case stopToolUse:
		return llm.FinishToolCalls
	case stopPauseTurn:
		return llm.FinishPause
	case stopRefusal:
		return llm.FinishContentFilter
	case "":
		return ""
	}
	return llm.FinishStop
}

// stopReason maps a canonical finish reason back: a stop with a reported
// sequence is stop_sequence; unknown or missing reasons are end_turn.
func stopReason(f llm.FinishReason, stopSeq string) string {
	switch f {
	case llm.FinishLength:
		return stopMaxTokens
	case llm.FinishToolCalls, "function_call":
		return stopToolUse
	case llm.FinishContentFilter:
		return stopRefusal
	case llm.FinishPause:
		return stopPauseTurn
	}
	if stopSeq != "" {
		return stopSequence
	}
	return stopEndTurn
}

// usageFrom converts Anthropic usage (input_tokens excludes cache tokens) to
// canonical usage (InputTokens includes them), merging into u: fields absent
// from w keep their value in u.
func usageFrom(u *llm.Usage, w *wireUsage) {
	in, cr, cw := u.InputTokens-u.CachedInputTokens-u.CacheWriteTokens, u.CachedInputTokens, u.CacheWriteTokens
	if w.InputTokens != nil {
		in = *w.InputTokens
	}
	if w.CacheReadInputTokens != nil {
		cr = *w.CacheReadInputTokens
	}
	if w.CacheCreationInputTokens != nil {
		cw = *w.CacheCreationInputTokens
	}
	u.InputTokens, u.CachedInputTokens, u.CacheWriteTokens = in+cr+cw, cr, cw
	if w.OutputTokens != nil {
		u.OutputTokens = *w.OutputTokens
	}
}

// appendUsage writes u as Anthropic usage fields (without braces):
// input_tokens excludes the cache tokens, never going below zero.
func appendUsage(dst []byte, u *llm.Usage) []byte {
	in := max(u.InputTokens-u.CachedInputTokens-u.CacheWriteTokens, 0)
	dst = appendIntField(dst, "input_tokens", int64(in))
	dst = appendIntField(dst, "cache_creation_input_tokens", int64(u.CacheWriteTokens))
	dst = appendIntField(dst, "cache_read_input_tokens", int64(u.CachedInputTokens))
	return appendIntField(dst, "output_tokens", int64(u.OutputTokens))
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix followed by 24 random base62 characters, the shape
// of Anthropic's message and tool-use IDs. IDs need to be unique, not
// secret.
func newID(prefix string) string {
	b := make([]byte, len(prefix)+24)
	copy(b, prefix)
	for i := len(prefix); i < len(b); i++ {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return string(b)
}

// loc names a content part in error messages and params; it is formatted
// only when an error occurs, so the hot path builds no strings.
type loc struct {
	resp  bool // in choices[0].message rather than messages[msg]
	msg   int
	block int
	inner int // index within a tool result's content, or -1
}

func partLoc(msg, block int) loc { return loc{msg: msg, block: block, inner: -1} }

// in returns the location of the k-th part of a tool result at l.
func (l loc) in(k int) loc {
	l.inner = k
	return l
}

func (l loc) String() string {
	s := fmt.Sprintf("messages[%d].content[%d]", l.msg, l.block)
	if l.resp {
		s = fmt.Sprintf("choices[0].message.content[%d]", l.block)
	}
	if l.inner >= 0 {
		s += fmt.Sprintf(".content[%d]", l.inner)
	}
	return s
}
