package openai

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// The types in this file mirror CreateChatCompletionResponse and
// CreateChatCompletionStreamResponse, plus the extensions of compatible
// servers Sluice understands: reasoning_content (DeepSeek, vLLM) and
// reasoning (OpenRouter) for visible thinking, x_groq.usage for Groq's
// usage, prompt_cache_hit_tokens for DeepSeek's cache hits, and an error
// member in a 200 answer or mid-stream (OpenRouter).

type responseWire struct {
	ID                string       `json:"id"`
	Model             string       `json:"model"`
	Created           unixTime     `json:"created"`
	Choices           []choiceWire `json:"choices"`
	Usage             *usageWire   `json:"usage"`
	SystemFingerprint string       `json:"system_fingerprint"`
	ServiceTier       string       `json:"service_tier"`
	XGroq             *xGroqWire   `json:"x_groq"`
	Error             *wireError   `json:"error"`
}

type xGroqWire struct {
	Usage *usageWire `json:"usage"`
}

type choiceWire struct {
	Index        int              `json:"index"`
	Message      *respMessageWire `json:"message"`
	Delta        *respMessageWire `json:"delta"`
	FinishReason string           `json:"finish_reason"`
	Logprobs     rawJSON          `json:"logprobs"`
}

// respMessageWire is a response message or a stream delta.
type respMessageWire struct {
	Role             string          `json:"role"`
	Content          text            `json:"content"`
	Refusal          text            `json:"refusal"`
	ReasoningContent text            `json:"reasoning_content"`
	Reasoning        text            `json:"reasoning"`
	ToolCalls        []toolDeltaWire `json:"tool_calls"`
	Annotations      rawJSON         `json:"annotations"`
	Audio            *audioOutWire   `json:"audio"`
}

// toolDeltaWire is a tool call, whole or (in a stream) a fragment.
type toolDeltaWire struct {
	// Index orders a stream's tool calls. Some OpenAI-compatible servers
	// (Ollama, Gemini's compatibility endpoint) omit it: nil then, and the
	// stream decoder infers it.
	Index    *int   `json:"index"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function *struct {
		Name      string    `json:"name"`
		Arguments arguments `json:"arguments"`
	} `json:"function"`
	Custom *struct {
		Name  string `json:"name"`
		Input string `json:"input"`
	} `json:"custom"`
}

type audioOutWire struct {
	ID   string `json:"id"`
	Data string `json:"data"`
}

type usageWire struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptCacheHit      int `json:"prompt_cache_hit_tokens"`
	PromptTokensDetails *struct {
		CachedTokens     int `json:"cached_tokens"`
		CacheWriteTokens int `json:"cache_write_tokens"`
		AudioTokens      int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
		AudioTokens     int `json:"audio_tokens"`
	} `json:"completion_tokens_details"`
}

// usage converts to the canonical counts (OpenAI's meaning already: prompt
// tokens include cached ones, completion tokens include reasoning).
func (w *usageWire) usage() llm.Usage {
	u := llm.Usage{InputTokens: w.PromptTokens, OutputTokens: w.CompletionTokens,
		CachedInputTokens: w.PromptCacheHit}
	if d := w.PromptTokensDetails; d != nil {
		if d.CachedTokens > 0 {
			u.CachedInputTokens = d.CachedTokens
		}
		u.CacheWriteTokens, u.AudioInputTokens = d.CacheWriteTokens, d.AudioTokens
	}
	if d := w.CompletionTokensDetails; d != nil {
		u.ReasoningTokens, u.AudioOutputTokens = d.ReasoningTokens, d.AudioTokens
	}
	return u
}

// text is a string that may be null, or (from a few compatible servers) an
// array of text parts, which are joined. Strings without escapes are taken
// without a second pass of encoding/json: this is the stream's hot field.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		return nil
	case '"':
		s, err := jsonw.Unquote(b)
		*t = text(s)
		return err
	case '[':
		var parts []struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
		var s string
		for _, p := range parts {
			s += p.Text
		}
		*t = text(s)
		return nil
	}
	return typeError(b, contentType)
}

// unixTime is a Unix time in seconds; some servers send a fraction.
type unixTime int64

func (t *unixTime) UnmarshalJSON(b []byte) error {
	if b[0] == 'n' {
		return nil
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*t = unixTime(n)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<62 {
		return typeError(b, reflectInt64)
	}
	*t = unixTime(f)
	return nil
}

var reflectInt64 = reflect.TypeFor[int64]()

var reflectString = reflect.TypeFor[string]()
