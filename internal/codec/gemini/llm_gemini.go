package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/sluicehq/sluice/internal/llm"
)

// EncodeOptions adjusts EncodeGenerateRequest and EncodeEmbedRequest.
type EncodeOptions struct {
	// Provider names the provider in errors ("parameter x is not supported
	// by provider y"); empty means "gemini".
	Provider string
}

func (o EncodeOptions) provider() string {
	if o.Provider == "" {
		return "gemini"
	}
	return o.Provider
}

// wireGemini is the Request.Format of a client that spoke Gemini's own
// format: its Extra fields and built-in tools pass through unchanged.
const wireGemini = "gemini"

// EncodeGenerateRequest returns the generateContent (and
// streamGenerateContent) body for req. It does not modify req. Errors are
// *llm.Error values: 400 naming the parameter at fault for a request Gemini
// cannot express.
//
// Parameters with no Gemini equivalent are handled as follows:
//
//   - logit_bias is rejected (Unsupported): it changes what the model may
//     say, and token IDs from another tokenizer cannot be translated.
//   - parallel_tool_calls=false and tool_choice's DisableParallel are
//     dropped: they are a preference, Gemini has no switch for it, and
//     OpenAI-wire agent frameworks send it by default; a client already has
//     to handle several calls in one answer.
//   - user, metadata, store and service_tier are dropped: they concern
//     OpenAI's abuse tracking, storage and scheduling, not the answer, and
//     Gemini's API (so any Gemini SDK) has no field for them. The gateway
//     records them in its own log.
//   - Any other Extra field is rejected (Unsupported), unless the client
//     spoke Gemini's format, in which case it is passed through.
func EncodeGenerateRequest(req *llm.Request, opt EncodeOptions) ([]byte, error) {
	prov := opt.provider()
	if len(req.Extra) > 0 && req.Format != wireGemini {
		return nil, llm.Unsupported(prov, firstKey(req.Extra))
	}
	gr := generateRequest{}
	var err error
	if gr.Contents, gr.SystemInstruction, err = encodeMessages(req); err != nil {
		return nil, err
	}
	if err := encodeTools(req, prov, &gr); err != nil {
		return nil, err
	}
	if gr.GenerationConfig, err = encodeGenerationConfig(req, prov); err != nil {
		return nil, err
	}
	var extra []string
	for k := range req.Extra { // only a Gemini-format client's, by now
		if !knownTopLevel(k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	return marshal(&gr, extra, req.Extra)
}

// knownTopLevel reports whether key is a request field the encoder writes
// itself, which Extra must not duplicate.
func knownTopLevel(key string) bool {
	switch key {
	case "contents", "systemInstruction", "tools", "toolConfig", "generationConfig":
		return true
	}
	return false
}

// firstKey returns the smallest key of m, so errors are deterministic.
func firstKey(m map[string]json.RawMessage) string {
	first := ""
	for k := range m {
		if first == "" || k < first {
			first = k
		}
	}
	return first
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// marshal encodes v without HTML escaping (prompts are full of <, > and &)
// and appends the extra fields, in keys order, to the top-level object.
func marshal(v any, keys []string, extra map[string]json.RawMessage) ([]byte, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("gemini: encode request: %w", err)
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	if len(keys) == 0 {
		return bytes.Clone(b), nil
	}
	n := len(b)
	for _, k := range keys {
		n += len(k) + len(extra[k]) + 4
	}
	out := make([]byte, 0, n)
	out = append(out, b[:len(b)-1]...) // without the closing brace
	for _, k := range keys {
		raw := bytes.TrimSpace(extra[k])
		if !json.Valid(raw) {
			return nil, llm.BadRequest(k, "%s is not valid JSON", k)
		}
		kb, _ := json.Marshal(k)
		out = append(out, ',')
		out = append(out, kb...)
		out = append(out, ':')
		out = append(out, raw...)
	}
	return append(out, '}'), nil
}

// encodeTools sets gr.Tools and gr.ToolConfig.
func encodeTools(req *llm.Request, prov string, gr *generateRequest) error {
	var fn *functionTool
	for i := range req.Tools {
		t := &req.Tools[i]
		if t.Type != "" && t.Type != "function" {
			if req.Format == wireGemini && len(t.Raw) > 0 {
				gr.Tools = append(gr.Tools, t.Raw)
				continue
			}
			return llm.Unsupported(prov, fmt.Sprintf("tools[%d].type", i))
		}
		if t.Name == "" {
			return llm.BadRequest(fmt.Sprintf("tools[%d].function.name", i), "a function tool needs a name")
		}
		if fn == nil {
			fn = &functionTool{FunctionDeclarations: make([]functionDeclaration, 0, len(req.Tools))}
			gr.Tools = append(gr.Tools, fn)
		}
		params := t.Parameters
		if len(bytes.TrimSpace(params)) == 0 || string(bytes.TrimSpace(params)) == "null" {
			params = nil
		} else if !json.Valid(params) {
			return llm.BadRequest(fmt.Sprintf("tools[%d].function.parameters", i), "parameters is not valid JSON")
		}
		fn.FunctionDeclarations = append(fn.FunctionDeclarations, functionDeclaration{
			Name: t.Name, Description: t.Description, ParametersJSONSchema: params,
		})
	}
	tc := req.ToolChoice
	if tc == nil || len(gr.Tools) == 0 {
		// Without tools there is nothing to configure, and Gemini rejects a
		// function-calling config that names no declared function.
		return nil
	}
	cfg := functionCallingConfig{}
	switch tc.Mode {
	case llm.ToolChoiceAuto, "":
		cfg.Mode = "AUTO"
	case llm.ToolChoiceNone:
		cfg.Mode = "NONE"
	case llm.ToolChoiceRequired:
		cfg.Mode = "ANY"
	case llm.ToolChoiceFunction:
		if tc.Name == "" {
			return llm.BadRequest("tool_choice", "tool_choice names no function")
		}
		cfg.Mode = "ANY"
		cfg.AllowedFunctionNames = []string{tc.Name}
	default:
		return llm.BadRequest("tool_choice", "unknown tool_choice mode %q", tc.Mode)
	}
	gr.ToolConfig = &toolConfig{FunctionCallingConfig: cfg}
	return nil
}

// encodeGenerationConfig collects the sampling and output controls; nil
// when none is set.
func encodeGenerationConfig(req *llm.Request, prov string) (*generationConfig, error) {
	if req.LogitBias != nil {
		return nil, llm.Unsupported(prov, "logit_bias")
	}
	if len(req.Audio) > 0 && string(req.Audio) != "null" {
		return nil, llm.Unsupported(prov, "audio")
	}
	for _, m := range req.Modalities {
		if m != "text" {
			return nil, llm.Unsupported(prov, "modalities")
		}
	}
	gc := generationConfig{
		StopSequences:    req.Stop,
		CandidateCount:   req.N,
		MaxOutputTokens:  req.MaxTokens,
		Temperature:      req.Temperature,
		TopP:             req.TopP,
		TopK:             req.TopK,
		Seed:             req.Seed,
		PresencePenalty:  req.PresencePenalty,
		FrequencyPenalty: req.FrequencyPenalty,
		Logprobs:         req.TopLogprobs,
	}
	if req.Logprobs != nil && *req.Logprobs {
		gc.ResponseLogprobs = true
	}
	if gc.Logprobs != nil && !gc.ResponseLogprobs {
		if *gc.Logprobs == 0 {
			gc.Logprobs = nil
		} else {
			return nil, llm.BadRequest("top_logprobs", "top_logprobs requires logprobs to be true")
		}
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case llm.FormatText, "":
		case llm.FormatJSONObject:
			gc.ResponseMIMEType = "application/json"
		case llm.FormatJSONSchema:
			gc.ResponseMIMEType = "application/json"
			if len(rf.Schema) > 0 {
				if !json.Valid(rf.Schema) {
					return nil, llm.BadRequest("response_format.json_schema.schema", "schema is not valid JSON")
				}
				gc.ResponseJSONSchema = rf.Schema
			}
		default:
			return nil, llm.BadRequest("response_format.type", "unknown response format %q", rf.Type)
		}
	}
	tc, err := encodeThinking(req.Reasoning, req.Model)
	if err != nil {
		return nil, err
	}
	gc.ThinkingConfig = tc
	if isZeroConfig(&gc) {
		return nil, nil
	}
	return &gc, nil
}

func isZeroConfig(gc *generationConfig) bool {
	return len(gc.StopSequences) == 0 && gc.ResponseMIMEType == "" && gc.ResponseJSONSchema == nil &&
		gc.CandidateCount == nil && gc.MaxOutputTokens == nil && gc.Temperature == nil &&
		gc.TopP == nil && gc.TopK == nil && gc.Seed == nil && gc.PresencePenalty == nil &&
		gc.FrequencyPenalty == nil && !gc.ResponseLogprobs && gc.Logprobs == nil && gc.ThinkingConfig == nil
}
