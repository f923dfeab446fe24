package anthropic

import (
	"fmt"
	"math"
	"strconv"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// DefaultMaxTokens is the max_tokens sent when neither the request nor
// EncodeOptions set one; Anthropic requires the field.
const DefaultMaxTokens = 4096

// minThinkingBudget is the smallest thinking budget Anthropic accepts.
const minThinkingBudget = 1024

// EncodeOptions configures EncodeMessagesRequest.
type EncodeOptions struct {
	// Provider names the upstream in errors; empty means "anthropic".
	Provider string
	// DefaultMaxTokens is max_tokens when req.MaxTokens is nil; zero means
	// DefaultMaxTokens (4096).
	DefaultMaxTokens int
}

// EncodeMessagesRequest writes req as an Anthropic Messages API body.
//
// System and developer messages become the top-level "system", wherever
// they were; tool results go into user messages; consecutive messages that
// land on the same role are merged, as Anthropic requires alternating turns.
// Empty text parts and reasoning without a signature (which Anthropic
// rejects) are left out, as are messages left empty, and participant names.
// User becomes metadata.user_id; Stop becomes stop_sequences; a false
// ParallelToolCalls becomes disable_parallel_tool_use; tool_choice is sent
// only with tools.
//
// Reasoning: a budget is sent as is; an effort maps to a budget — minimal
// and low 1024, medium 8192, high 24576, xhigh and max 32768 — kept below
// max_tokens (when max_tokens was not given it becomes budget +
// DefaultMaxTokens); effort "none" and Disabled send thinking disabled.
//
// Parameters without an Anthropic equivalent: n > 1, logprobs,
// top_logprobs, audio output and json response formats fail with
// llm.Unsupported; seed, presence and frequency penalties, logit_bias,
// store, metadata and service tiers other than "auto" and "standard_only"
// are dropped, as Anthropic's and LiteLLM's OpenAI compatibility layers do.
// Extra passes through only when req.Format is "anthropic"; otherwise its
// first key (in sorted order) fails with llm.Unsupported.
//
// Errors are *llm.Error values: 400 for what the caller must change, 500
// for raw JSON in req that is not valid (a gateway bug).
func EncodeMessagesRequest(req *llm.Request, opt EncodeOptions) ([]byte, error) {
	provider := opt.Provider
	if provider == "" {
		provider = "anthropic"
	}
	if err := checkSupported(req, provider); err != nil {
		return nil, err
	}
	defMax := opt.DefaultMaxTokens
	if defMax <= 0 {
		defMax = DefaultMaxTokens
	}
	maxTokens, budget, disabled, err := thinkingBudget(req, defMax, provider)
	if err != nil {
		return nil, err
	}

	w := partWriter{dst: make([]byte, 0, estimateSize(req)), mode: forRequest, provider: provider}
	w.dst = append(w.dst, `{"model":`...)
	w.dst = jsonw.AppendString(w.dst, req.Model)
	w.dst = appendIntField(w.dst, "max_tokens", int64(maxTokens))
	if err := w.appendSystem(req.Messages); err != nil {
		return nil, err
	}
	if err := w.appendMessages(req.Messages); err != nil {
		return nil, err
	}
	if err := w.appendTools(req); err != nil {
		return nil, err
	}
	dst := w.dst
	switch {
	case disabled:
		dst = append(dst, `,"thinking":{"type":"disabled"}`...)
	case budget > 0:
		dst = append(dst, `,"thinking":{"type":"enabled","budget_tokens":`...)
		dst = strconv.AppendInt(dst, int64(budget), 10)
		dst = append(dst, '}')
	}
	if len(req.Stop) > 0 {
		dst = append(dst, `,"stop_sequences":[`...)
		for i, s := range req.Stop {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonw.AppendString(dst, s)
		}
		dst = append(dst, ']')
	}
	if req.Temperature != nil {
		dst = strconv.AppendFloat(jsonw.AppendKey(dst, "temperature"), *req.Temperature, 'g', -1, 64)
	}
	if req.TopP != nil {
		dst = strconv.AppendFloat(jsonw.AppendKey(dst, "top_p"), *req.TopP, 'g', -1, 64)
	}
	if req.TopK != nil {
		dst = appendIntField(dst, "top_k", int64(*req.TopK))
	}
	if req.User != "" {
		dst = append(dst, `,"metadata":{"user_id":`...)
		dst = jsonw.AppendString(dst, req.User)
		dst = append(dst, '}')
	}
	if req.ServiceTier == "auto" || req.ServiceTier == "standard_only" {
		dst = appendStringField(dst, "service_tier", req.ServiceTier)
	}
	if req.Stream {
		dst = append(dst, `,"stream":true`...)
	}
	if req.Format == Format {
		for _, k := range extraKeys(req.Extra) {
			if requestKey([]byte(k)) && (k != "thinking" || req.Reasoning != nil) {
				continue // a canonical field said it
			}
			if dst, err = jsonw.AppendCompact(appendKeyString(dst, k), req.Extra[k]); err != nil {
				return nil, w.rawError("extra "+strconv.Quote(k), err)
			}
		}
	}
	return append(dst, '}'), nil
}

// finite rejects a parameter that JSON cannot carry.
func finite(name string, f *float64) error {
	if f != nil && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
		return llm.BadRequest(name, "%s: must be a finite number", name)
	}
	return nil
}

// appendKeyString appends `,"key":` for a key that may need escaping.
func appendKeyString(dst []byte, key string) []byte {
	return append(jsonw.AppendString(append(dst, ','), key), ':')
}

func checkSupported(req *llm.Request, provider string) error {
	switch {
	case req.N != nil && *req.N > 1:
		return llm.Unsupported(provider, "n")
	case req.Logprobs != nil && *req.Logprobs:
		return llm.Unsupported(provider, "logprobs")
	case req.TopLogprobs != nil && *req.TopLogprobs > 0:
		return llm.Unsupported(provider, "top_logprobs")
	case req.ResponseFormat != nil && req.ResponseFormat.Type != "" && req.ResponseFormat.Type != llm.FormatText:
		return llm.Unsupported(provider, "response_format")
	case len(req.Audio) > 0 && string(req.Audio) != "null":
		return llm.Unsupported(provider, "audio")
	}
	if err := finite("temperature", req.Temperature); err != nil {
		return err
	}
	if err := finite("top_p", req.TopP); err != nil {
		return err
	}
	for _, m := range req.Modalities {
		if m != "text" {
			return llm.Unsupported(provider, "modalities")
		}
	}
	if req.Format != Format && len(req.Extra) > 0 {
		return llm.Unsupported(provider, extraKeys(req.Extra)[0])
	}
	return nil
}

// effortBudgets maps reasoning efforts to thinking budgets.
var effortBudgets = map[string]int{
	"minimal": minThinkingBudget, "low": minThinkingBudget, "medium": 8192, "high": 24576, "xhigh": 32768, "max": 32768,
}

// thinkingBudget decides max_tokens and the thinking configuration.
func thinkingBudget(req *llm.Request, defMax int, provider string) (maxTokens, budget int, disabled bool, err error) {
	explicit := req.MaxTokens != nil
	maxTokens = defMax
	if explicit {
		maxTokens = *req.MaxTokens
	}
	r := req.Reasoning
	switch {
	case r == nil:
		return maxTokens, 0, false, nil
	case r.Disabled || r.Effort == "none":
		return maxTokens, 0, true, nil
	case r.BudgetTokens > 0:
		budget = r.BudgetTokens
		if !explicit && budget >= maxTokens {
			maxTokens = budget + defMax
		}
		return maxTokens, budget, false, nil
	case r.Effort == "":
		return maxTokens, 0, false, nil
	}
	budget, ok := effortBudgets[r.Effort]
	if !ok {
		return 0, 0, false, llm.BadRequest("reasoning_effort",
			"reasoning_effort: must be one of \"none\", \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", got %q", r.Effort)
	}
	switch {
	case !explicit:
		maxTokens = budget + defMax
	case budget >= maxTokens:
		budget = maxTokens - 1
		if budget < minThinkingBudget {
			return 0, 0, false, llm.BadRequest("max_tokens",
				"max_tokens: must be greater than %d to use reasoning with provider %q", minThinkingBudget, provider)
		}
	}
	return maxTokens, budget, false, nil
}

// estimateSize guesses the encoded size of req, so the output is allocated
// once.
func estimateSize(req *llm.Request) int {
	n := 256 + len(req.Model)
	for i := range req.Messages {
		for j := range req.Messages[i].Parts {
			n += partSize(&req.Messages[i].Parts[j])
		}
	}
	for i := range req.Tools {
		t := &req.Tools[i]
		n += 64 + len(t.Name) + len(t.Description) + len(t.Parameters) + len(t.Raw)
	}
	for k, v := range req.Extra {
		n += len(k) + len(v) + 4
	}
	return n
}

func partSize(p *llm.Part) int {
	n := 48 + len(p.Text) + len(p.Signature) + len(p.Raw) + len(p.CacheControl) + len(p.Citations)
	if p.Text != "" {
		n += len(p.Text) / 16 // room for escapes
	}
	if p.Media != nil {
		n += len(p.Media.Data) + len(p.Media.URL)
	}
	if p.ToolCall != nil {
		n += len(p.ToolCall.ID) + len(p.ToolCall.Name) + len(p.ToolCall.Arguments)
	}
	if p.ToolResult != nil {
		n += len(p.ToolResult.CallID)
		for k := range p.ToolResult.Parts {
			n += partSize(&p.ToolResult.Parts[k])
		}
	}
	return n
}

// anthropicRole is the role a canonical message takes in Anthropic's
// messages array; system messages have none.
func anthropicRole(r llm.Role) string {
	switch r {
	case llm.RoleAssistant:
		return "assistant"
	case llm.RoleUser, llm.RoleTool:
		return "user"
	}
	return ""
}

// appendSystem writes the system and developer messages as "system": one
// string when there is a single plain text, else text blocks.
func (w *partWriter) appendSystem(msgs []llm.Message) error {
	var only *llm.Part
	count := 0
	for i := range msgs {
		if m := &msgs[i]; m.Role == llm.RoleSystem || m.Role == llm.RoleDeveloper {
			for j := range m.Parts {
				p := &m.Parts[j]
				if p.Kind != llm.PartText {
					return llm.BadRequest(fmt.Sprintf("messages[%d].content[%d]", i, j),
						"messages[%d].content[%d]: system messages may only hold text for provider %q", i, j, w.provider)
				}
				if p.Text != "" {
					only = p
					count++
				}
			}
		}
	}
	if count == 0 {
		return nil
	}
	if count == 1 && textOnly([]llm.Part{*only}) {
		w.dst = appendStringField(w.dst, "system", only.Text)
		return nil
	}
	w.dst = append(w.dst, `,"system":[`...)
	first := true
	for i := range msgs {
		if m := &msgs[i]; m.Role == llm.RoleSystem || m.Role == llm.RoleDeveloper {
			for j := range m.Parts {
				if m.Parts[j].Text == "" {
					continue
				}
				if !first {
					w.dst = append(w.dst, ',')
				}
				first = false
				if err := w.appendPart(&m.Parts[j], partLoc(i, j)); err != nil {
					return err
				}
			}
		}
	}
	w.dst = append(w.dst, ']')
	return nil
}

// appendMessages writes "messages", merging consecutive messages that map
// to the same Anthropic role and skipping those that end up empty.
func (w *partWriter) appendMessages(msgs []llm.Message) error {
	w.dst = append(w.dst, `,"messages":[`...)
	open := ""
	for i := range msgs {
		m := &msgs[i]
		role := anthropicRole(m.Role)
		if role == "" {
			if m.Role != llm.RoleSystem && m.Role != llm.RoleDeveloper {
				return llm.BadRequest(fmt.Sprintf("messages[%d].role", i), "messages[%d].role: unknown role %q", i, m.Role)
			}
			continue
		}
		for j := range m.Parts {
			p := &m.Parts[j]
			mark, prev := len(w.dst), open
			if open == role {
				w.dst = append(w.dst, ',')
			} else {
				if open != "" {
					w.dst = append(w.dst, "]},"...)
				}
				w.dst = append(w.dst, `{"role":"`...)
				w.dst = append(w.dst, role...)
				w.dst = append(w.dst, `","content":[`...)
				open = role
			}
			n := len(w.dst)
			path := partLoc(i, j)
			var err error
			switch {
			case p.Kind == llm.PartToolResult && m.Role == llm.RoleTool && p.ToolResult != nil:
				err = w.appendToolResult(p, path)
			case m.Role == llm.RoleTool:
				err = llm.BadRequest(path.String(), "%s: tool messages may only hold tool results", path)
			case p.Kind == llm.PartToolResult:
				err = llm.BadRequest(path.String(), "%s: tool results may only appear in tool messages", path)
			case p.Kind == llm.PartToolCall && m.Role != llm.RoleAssistant:
				err = llm.BadRequest(path.String(), "%s: tool calls may only appear in assistant messages", path)
			default:
				err = w.appendPart(p, path)
			}
			if err != nil {
				return err
			}
			if len(w.dst) == n {
				w.dst, open = w.dst[:mark], prev
			}
		}
	}
	if open != "" {
		w.dst = append(w.dst, "]}"...)
	}
	w.dst = append(w.dst, ']')
	return nil
}
