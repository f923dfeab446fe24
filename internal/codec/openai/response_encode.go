package openai

import (
	"encoding/json"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// EncodeChatResponse encodes a whole response as OpenAI's chat.completion
// object, with OpenAI's field order and nulls. A message's text parts are
// joined into content and its refusals into refusal; reasoning parts, which
// Chat Completions has no field for, are sent as reasoning_content (the
// extension DeepSeek, vLLM and LiteLLM clients read). Citations are sent as
// annotations only when they are OpenAI url_citation annotations. A zero
// Created is replaced by the current time.
func EncodeChatResponse(resp *llm.Response) ([]byte, error) {
	size := 512
	for i := range resp.Choices {
		size += 160 + partsSize(resp.Choices[i].Message.Parts) + len(resp.Choices[i].Logprobs)
	}
	return AppendChatResponse(make([]byte, 0, size), resp), nil
}

// AppendChatResponse appends the encoding of resp (see EncodeChatResponse)
// to dst and returns the extended buffer.
func AppendChatResponse(dst []byte, resp *llm.Response) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonw.AppendString(dst, resp.ID)
	dst = append(dst, `,"object":"chat.completion","created":`...)
	created := resp.Created
	if created == 0 {
		created = now().Unix()
	}
	dst = jsonw.AppendInt(dst, created)
	dst = append(dst, `,"model":`...)
	dst = jsonw.AppendString(dst, resp.Model)
	dst = append(dst, `,"choices":[`...)
	for i := range resp.Choices {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendChoice(dst, &resp.Choices[i])
	}
	dst = append(dst, `],"usage":`...)
	dst = appendUsage(dst, &resp.Usage, true)
	if resp.ServiceTier != "" {
		dst = append(dst, `,"service_tier":`...)
		dst = jsonw.AppendString(dst, resp.ServiceTier)
	}
	if resp.SystemFingerprint != "" {
		dst = append(dst, `,"system_fingerprint":`...)
		dst = jsonw.AppendString(dst, resp.SystemFingerprint)
	}
	return append(dst, '}')
}

func appendChoice(dst []byte, c *llm.Choice) []byte {
	dst = append(dst, `{"index":`...)
	dst = jsonw.AppendInt(dst, int64(c.Index))
	dst = append(dst, `,"message":{"role":"assistant","content":`...)
	parts := c.Message.Parts
	dst = appendJoined(dst, parts, llm.PartText)
	if hasKind(parts, llm.PartReasoning) {
		dst = append(dst, `,"reasoning_content":`...)
		dst = appendJoined(dst, parts, llm.PartReasoning)
	}
	dst = append(dst, `,"refusal":`...)
	dst = appendJoined(dst, parts, llm.PartRefusal)
	if hasKind(parts, llm.PartToolCall) {
		dst = append(dst, `,"tool_calls":[`...)
		n := 0
		for j := range parts {
			tc := parts[j].ToolCall
			if parts[j].Kind != llm.PartToolCall || tc == nil {
				continue
			}
			if n++; n > 1 {
				dst = append(dst, ',')
			}
			dst = appendResponseToolCall(dst, tc)
		}
		dst = append(dst, ']')
	}
	for j := range parts {
		if m := parts[j].Media; parts[j].Kind == llm.PartAudio && m != nil {
			dst = append(dst, `,"audio":{"id":`...)
			dst = jsonw.AppendString(dst, m.FileID)
			dst = append(dst, `,"data":`...)
			dst = jsonw.AppendString(dst, m.Data)
			dst = append(dst, '}')
			break
		}
	}
	if ann := openAIAnnotations(parts); ann != nil {
		dst = append(dst, `,"annotations":`...)
		dst = append(dst, ann...)
	}
	dst = append(dst, `},"logprobs":`...)
	dst = jsonw.AppendRaw(dst, c.Logprobs)
	dst = append(dst, `,"finish_reason":`...)
	dst = jsonw.AppendStringOrNull(dst, string(c.FinishReason))
	return append(dst, '}')
}

// appendResponseToolCall writes a whole tool call: function, or custom.
func appendResponseToolCall(dst []byte, tc *llm.ToolCall) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonw.AppendString(dst, tc.ID)
	if tc.Type == "custom" {
		dst = append(dst, `,"type":"custom","custom":{"name":`...)
		dst = jsonw.AppendString(dst, tc.Name)
		dst = append(dst, `,"input":`...)
	} else {
		dst = append(dst, `,"type":"function","function":{"name":`...)
		dst = jsonw.AppendString(dst, tc.Name)
		dst = append(dst, `,"arguments":`...)
	}
	dst = jsonw.AppendString(dst, tc.Arguments)
	return append(dst, "}}"...)
}

func hasKind(parts []llm.Part, k llm.PartKind) bool {
	for i := range parts {
		if parts[i].Kind == k {
			return true
		}
	}
	return false
}

// appendJoined writes the text of all parts of kind k as one JSON string,
// or null when there are none.
func appendJoined(dst []byte, parts []llm.Part, k llm.PartKind) []byte {
	n := 0
	for i := range parts {
		if parts[i].Kind == k {
			if n == 0 {
				dst = append(dst, '"')
			}
			n++
			dst = jsonw.AppendEscaped(dst, parts[i].Text)
		}
	}
	if n == 0 {
		return append(dst, "null"...)
	}
	return append(dst, '"')
}

// openAIAnnotations returns the text parts' citations when they are arrays
// of OpenAI annotations ({"type":"url_citation",…}); citations in another
// provider's form are not shown as annotations.
func openAIAnnotations(parts []llm.Part) json.RawMessage {
	for i := range parts {
		c := parts[i].Citations
		if parts[i].Kind != llm.PartText || len(c) == 0 || parts[i].CitationsFormat != FormatName {
			continue
		}
		var probe []struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(c, &probe) != nil || len(probe) == 0 {
			continue
		}
		ok := true
		for _, p := range probe {
			ok = ok && p.Type == "url_citation"
		}
		if ok {
			return c
		}
	}
	return nil
}

// appendUsage writes a usage object. whole responses always carry the
// detail objects, as OpenAI's do; stream usage chunks carry each only when
// one of its counts is non-zero.
func appendUsage(dst []byte, u *llm.Usage, always bool) []byte {
	dst = append(dst, `{"prompt_tokens":`...)
	dst = jsonw.AppendInt(dst, int64(u.InputTokens))
	dst = append(dst, `,"completion_tokens":`...)
	dst = jsonw.AppendInt(dst, int64(u.OutputTokens))
	dst = append(dst, `,"total_tokens":`...)
	dst = jsonw.AppendInt(dst, int64(u.TotalTokens()))
	if always || u.CachedInputTokens != 0 || u.AudioInputTokens != 0 || u.CacheWriteTokens != 0 {
		dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":`...)
		dst = jsonw.AppendInt(dst, int64(u.CachedInputTokens))
		dst = append(dst, `,"audio_tokens":`...)
		dst = jsonw.AppendInt(dst, int64(u.AudioInputTokens))
		if u.CacheWriteTokens != 0 {
			dst = append(dst, `,"cache_write_tokens":`...)
			dst = jsonw.AppendInt(dst, int64(u.CacheWriteTokens))
		}
		dst = append(dst, '}')
	}
	if always || u.ReasoningTokens != 0 || u.AudioOutputTokens != 0 {
		dst = append(dst, `,"completion_tokens_details":{"reasoning_tokens":`...)
		dst = jsonw.AppendInt(dst, int64(u.ReasoningTokens))
		dst = append(dst, `,"audio_tokens":`...)
		dst = jsonw.AppendInt(dst, int64(u.AudioOutputTokens))
		if always {
			dst = append(dst, `,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0`...)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}
