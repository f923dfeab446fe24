package openai

import (
	"slices"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// EncodeOptions says how to encode a request for one upstream.
type EncodeOptions struct {
	// Provider names the upstream in errors ("openai", "my-vllm").
	Provider string
	// Type is the provider's catalog type ("openai", "azure", "vllm", …);
	// it selects the server's quirks (see quirks.go). Empty means "openai".
	Type string
	// IncludeUsage asks a streamed answer to end with a usage chunk
	// (stream_options.include_usage) even if the client did not: the
	// gateway always wants usage.
	IncludeUsage bool
}

// EncodeChatRequest encodes req as a Chat Completions request body for the
// upstream opt describes. req is not modified.
//
// What cannot be expressed is rejected with llm.Unsupported naming the
// parameter: Extra members when req.Format is not "openai" (the first key in
// sorted order), top_k for servers without it, built-in tools of other
// formats. What OpenAI's own SDK would not send is dropped: cache_control
// hints, reasoning ("thinking") parts in assistant history, a tool result's
// is_error flag and the thinking signature. Reasoning.Effort is sent as
// reasoning_effort; a bare BudgetTokens is mapped to an effort (see
// effortForBudget); Reasoning.Disabled alone sends nothing.
func EncodeChatRequest(req *llm.Request, opt EncodeOptions) ([]byte, error) {
	q := quirksFor(opt.Type)
	if req.Format != FormatName && len(req.Extra) > 0 {
		return nil, llm.Unsupported(opt.Provider, firstKey(req.Extra))
	}
	if req.TopK != nil && !q.topK {
		return nil, llm.Unsupported(opt.Provider, "top_k")
	}
	dst := make([]byte, 0, requestSize(req))
	var err error
	dst = append(dst, '{')
	dst = jsonw.AppendKey(dst, "model")
	dst = jsonw.AppendString(dst, req.Model)
	dst = jsonw.AppendKey(dst, "messages")
	if dst, err = appendMessages(dst, req.Messages, q, opt.Provider); err != nil {
		return nil, err
	}
	if req.Stream {
		dst = jsonw.AppendKey(dst, "stream")
		dst = append(dst, "true"...)
		if (req.IncludeUsage || opt.IncludeUsage) && q.streamOptions {
			dst = jsonw.AppendKey(dst, "stream_options")
			dst = append(dst, `{"include_usage":true}`...)
		}
	}
	if len(req.Tools) > 0 {
		dst = jsonw.AppendKey(dst, "tools")
		if dst, err = appendTools(dst, req, opt.Provider); err != nil {
			return nil, err
		}
	}
	if c := req.ToolChoice; c != nil {
		dst = jsonw.AppendKey(dst, "tool_choice")
		if c.Mode == llm.ToolChoiceFunction {
			dst = append(dst, `{"type":"function","function":{"name":`...)
			dst = jsonw.AppendString(dst, c.Name)
			dst = append(dst, "}}"...)
		} else {
			dst = jsonw.AppendString(dst, string(c.Mode))
		}
	}
	switch {
	case req.ParallelToolCalls != nil:
		dst = jsonw.AppendKey(dst, "parallel_tool_calls")
		dst = jsonw.AppendBool(dst, *req.ParallelToolCalls)
	case req.ToolChoice != nil && req.ToolChoice.DisableParallel && len(req.Tools) > 0:
		dst = jsonw.AppendKey(dst, "parallel_tool_calls")
		dst = append(dst, "false"...)
	}
	if f := req.ResponseFormat; f != nil {
		dst = jsonw.AppendKey(dst, "response_format")
		dst = appendResponseFormat(dst, f)
	}
	if req.MaxTokens != nil {
		if q.maxCompletionTokens {
			dst = jsonw.AppendKey(dst, "max_completion_tokens")
		} else {
			dst = jsonw.AppendKey(dst, "max_tokens")
		}
		dst = jsonw.AppendInt(dst, int64(*req.MaxTokens))
	}
	dst = appendOptFloat(dst, "temperature", req.Temperature)
	dst = appendOptFloat(dst, "top_p", req.TopP)
	dst = appendOptInt(dst, "top_k", req.TopK)
	dst = appendOptInt(dst, "n", req.N)
	if req.Stop != nil {
		dst = jsonw.AppendKey(dst, "stop")
		dst = appendStrings(dst, req.Stop)
	}
	if req.Seed != nil {
		dst = jsonw.AppendKey(dst, "seed")
		dst = jsonw.AppendInt(dst, *req.Seed)
	}
	dst = appendOptFloat(dst, "presence_penalty", req.PresencePenalty)
	dst = appendOptFloat(dst, "frequency_penalty", req.FrequencyPenalty)
	if req.LogitBias != nil {
		dst = jsonw.AppendKey(dst, "logit_bias")
		dst = appendFloatMap(dst, req.LogitBias)
	}
	if req.Logprobs != nil {
		dst = jsonw.AppendKey(dst, "logprobs")
		dst = jsonw.AppendBool(dst, *req.Logprobs)
	}
	dst = appendOptInt(dst, "top_logprobs", req.TopLogprobs)
	if req.User != "" {
		dst = jsonw.AppendKey(dst, "user")
		dst = jsonw.AppendString(dst, req.User)
	}
	if req.Metadata != nil {
		dst = jsonw.AppendKey(dst, "metadata")
		dst = appendStringMap(dst, req.Metadata)
	}
	if effort := reasoningEffort(req.Reasoning); effort != "" {
		dst = jsonw.AppendKey(dst, "reasoning_effort")
		dst = jsonw.AppendString(dst, effort)
	}
	if req.Modalities != nil {
		dst = jsonw.AppendKey(dst, "modalities")
		dst = appendStrings(dst, req.Modalities)
	}
	if len(req.Audio) > 0 {
		dst = jsonw.AppendKey(dst, "audio")
		dst = jsonw.AppendRaw(dst, req.Audio)
	}
	if req.ServiceTier != "" {
		dst = jsonw.AppendKey(dst, "service_tier")
		dst = jsonw.AppendString(dst, req.ServiceTier)
	}
	if req.Store != nil {
		dst = jsonw.AppendKey(dst, "store")
		dst = jsonw.AppendBool(dst, *req.Store)
	}
	if len(req.Extra) > 0 {
		for _, k := range sortedKeys(req.Extra) {
			// A member the encoder writes from a canonical field is never
			// written twice; tool_choice is in Extra only when the canonical
			// field could not hold it.
			if knownRequestKey(k) && !(k == "tool_choice" && req.ToolChoice == nil) {
				continue
			}
			dst = append(dst, ',')
			dst = jsonw.AppendString(dst, k)
			dst = append(dst, ':')
			dst = jsonw.AppendRaw(dst, req.Extra[k])
		}
	}
	return append(dst, '}'), nil
}

// reasoningEffort returns the reasoning_effort to send for r, or "".
func reasoningEffort(r *llm.Reasoning) string {
	switch {
	case r == nil:
		return ""
	case r.Effort != "":
		return r.Effort
	case r.BudgetTokens > 0 && !r.Disabled:
		return effortForBudget(r.BudgetTokens)
	}
	return ""
}

func appendResponseFormat(dst []byte, f *llm.ResponseFormat) []byte {
	if f.Type != llm.FormatJSONSchema {
		dst = append(dst, `{"type":`...)
		dst = jsonw.AppendString(dst, string(f.Type))
		return append(dst, '}')
	}
	name := f.Name
	if name == "" {
		name = "response" // OpenAI requires a name; other formats have none
	}
	dst = append(dst, `{"type":"json_schema","json_schema":{"name":`...)
	dst = jsonw.AppendString(dst, name)
	if f.Description != "" {
		dst = append(dst, `,"description":`...)
		dst = jsonw.AppendString(dst, f.Description)
	}
	if len(f.Schema) > 0 {
		dst = append(dst, `,"schema":`...)
		dst = jsonw.AppendRaw(dst, f.Schema)
	}
	if f.Strict != nil {
		dst = append(dst, `,"strict":`...)
		dst = jsonw.AppendBool(dst, *f.Strict)
	}
	return append(dst, "}}"...)
}

func appendOptFloat(dst []byte, name string, v *float64) []byte {
	if v == nil {
		return dst
	}
	dst = jsonw.AppendKey(dst, name)
	return jsonw.AppendFloat(dst, *v, 64)
}

func appendOptInt(dst []byte, name string, v *int) []byte {
	if v == nil {
		return dst
	}
	dst = jsonw.AppendKey(dst, name)
	return jsonw.AppendInt(dst, int64(*v))
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.AppendString(dst, s)
	}
	return append(dst, ']')
}

// appendStringMap and appendFloatMap write maps with sorted keys, so equal
// requests encode to equal bytes (caches key on them).
func appendStringMap(dst []byte, m map[string]string) []byte {
	return appendMap(dst, m, jsonw.AppendString)
}

func appendFloatMap(dst []byte, m map[string]float64) []byte {
	return appendMap(dst, m, func(dst []byte, f float64) []byte { return jsonw.AppendFloat(dst, f, 64) })
}

func appendMap[V any](dst []byte, m map[string]V, appendValue func([]byte, V) []byte) []byte {
	dst = append(dst, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.AppendString(dst, k)
		dst = append(dst, ':')
		dst = appendValue(dst, m[k])
	}
	return append(dst, '}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func firstKey[V any](m map[string]V) string {
	first := ""
	for k := range m {
		if first == "" || k < first {
			first = k
		}
	}
	return first
}

// requestSize estimates the encoded size of req, so the buffer is allocated
// once.
func requestSize(req *llm.Request) int {
	n := 256 + len(req.Model)
	for i := range req.Messages {
		n += 48 + partsSize(req.Messages[i].Parts)
	}
	for i := range req.Tools {
		t := &req.Tools[i]
		n += 96 + len(t.Name) + len(t.Description) + len(t.Parameters) + len(t.Raw)
	}
	if f := req.ResponseFormat; f != nil {
		n += 96 + len(f.Schema) + len(f.Description)
	}
	for k, v := range req.Extra {
		n += len(k) + len(v) + 4
	}
	return n
}

func partsSize(parts []llm.Part) int {
	n := 0
	for i := range parts {
		p := &parts[i]
		n += 40 + len(p.Text) + len(p.Text)/8 // room for escapes
		if m := p.Media; m != nil {
			n += 64 + len(m.URL) + len(m.Data) + len(m.Filename) + len(m.FileID)
		}
		if c := p.ToolCall; c != nil {
			n += 80 + len(c.ID) + len(c.Name) + len(c.Arguments) + len(c.Arguments)/8
		}
		if r := p.ToolResult; r != nil {
			n += 64 + len(r.CallID) + partsSize(r.Parts)
		}
	}
	return n
}
