package anthropic

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// Format is the value of llm.Request.Format for requests decoded here, and
// of llm.Part.RawFormat and llm.Delta.RawFormat for raw Anthropic content.
const Format = "anthropic"

// DecodeMessagesRequest parses a client's POST /v1/messages body into a
// canonical request with Format "anthropic". The result does not alias body.
//
// The system prompt becomes a leading RoleSystem message; tool_result blocks
// become RoleTool messages (one per result) placed where they appeared;
// metadata.user_id becomes User; a streamed request asks for usage. Fields
// the canonical model does not know are kept in Extra by their wire name,
// as are thinking settings other than enabled-with-budget and disabled.
// Blocks without a canonical meaning (server-tool blocks, search results)
// become PartOpaque parts, and documents keep their raw form, so that an
// Anthropic upstream receives them unchanged.
//
// Every failure is an *llm.Error with status 400 naming the parameter at
// fault: invalid JSON or UTF-8, a missing model, messages or max_tokens (which
// Anthropic requires), a wrongly typed field, an unknown role, or a block in
// a place it cannot be.
func DecodeMessagesRequest(body []byte) (*llm.Request, error) {
	if !utf8.Valid(body) {
		return nil, llm.BadRequest("", "the request body is not valid UTF-8")
	}
	if !jsonw.Valid(body) {
		var v any
		return nil, jsonError(json.Unmarshal(body, &v))
	}
	var w wireRequest
	if err := w.parse(body); err != nil {
		return nil, err
	}
	req := &llm.Request{
		Model:       w.Model,
		Stream:      w.Stream,
		MaxTokens:   w.MaxTokens,
		Temperature: w.Temperature,
		TopP:        w.TopP,
		TopK:        w.TopK,
		Stop:        w.StopSequences,
		ServiceTier: w.ServiceTier,
		Extra:       w.Extra,
		Format:      Format,
	}
	switch {
	case w.Model == "":
		return nil, llm.BadRequest("model", "model: field required")
	case w.MaxTokens == nil:
		return nil, llm.BadRequest("max_tokens", "max_tokens: field required")
	case *w.MaxTokens < 0:
		return nil, llm.BadRequest("max_tokens", "max_tokens: must be greater than or equal to 0")
	case len(w.Messages) == 0:
		return nil, llm.BadRequest("messages", "messages: at least one message is required")
	}
	req.IncludeUsage = w.Stream
	if w.UserID != nil {
		req.User = *w.UserID
	}
	if err := decodeMessages(req, &w); err != nil {
		return nil, err
	}
	if err := decodeTools(req, &w); err != nil {
		return nil, err
	}
	if err := decodeThinking(req, w.Thinking); err != nil {
		return nil, err
	}
	return req, nil
}

// jsonError turns an encoding/json syntax error into a 400.
func jsonError(err error) *llm.Error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return llm.BadRequest("", "the request body is not valid JSON: %v (at byte %d)", se, se.Offset)
	}
	return llm.BadRequest("", "the request body is not valid JSON: %v", err)
}

func decodeMessages(req *llm.Request, w *wireRequest) error {
	msgs := make([]llm.Message, 0, len(w.Messages)+1)
	if w.System.IsString || len(w.System.Blocks) > 0 {
		parts, err := systemParts(&w.System)
		if err != nil {
			return err
		}
		msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Parts: parts})
	}
	for i := range w.Messages {
		m := &w.Messages[i]
		var err error
		switch m.Role {
		case "user":
			msgs, err = appendUserMessage(msgs, i, m)
		case "assistant":
			msgs, err = appendAssistantMessage(msgs, i, m)
		case "":
			err = llm.BadRequest(fmt.Sprintf("messages[%d].role", i), "messages[%d].role: field required", i)
		default:
			err = llm.BadRequest(fmt.Sprintf("messages[%d].role", i),
				"messages[%d].role: must be \"user\" or \"assistant\", got %q (put system prompts in the top-level \"system\")", i, m.Role)
		}
		if err != nil {
			return err
		}
	}
	req.Messages = msgs
	return nil
}

func systemParts(c *content) ([]llm.Part, error) {
	if c.IsString {
		return []llm.Part{llm.TextPart(c.Text)}, nil
	}
	parts := make([]llm.Part, len(c.Blocks))
	for j := range c.Blocks {
		b := &c.Blocks[j]
		if b.Type != blockText {
			return nil, llm.BadRequest(fmt.Sprintf("system[%d].type", j),
				"system[%d].type: system blocks must be text blocks, got %q", j, b.Type)
		}
		parts[j] = textPart(b)
	}
	return parts, nil
}

// appendUserMessage appends the canonical form of a user message: its
// tool_result blocks become RoleTool messages, the other blocks RoleUser
// messages, in the order they appear.
func appendUserMessage(msgs []llm.Message, i int, m *wireMessage) ([]llm.Message, error) {
	if m.Content.IsString {
		return append(msgs, llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(m.Content.Text)}}), nil
	}
	if !m.Content.IsArray {
		return msgs, contentRequired(i)
	}
	blocks := m.Content.Blocks
	for j := 0; j < len(blocks); {
		if blocks[j].Type == blockToolResult {
			p, err := toolResultPart(&blocks[j], i, j)
			if err != nil {
				return msgs, err
			}
			msgs = append(msgs, llm.Message{Role: llm.RoleTool, Parts: []llm.Part{p}})
			j++
			continue
		}
		k := j
		for k < len(blocks) && blocks[k].Type != blockToolResult {
			k++
		}
		parts := make([]llm.Part, 0, k-j)
		for ; j < k; j++ {
			if blocks[j].Type == blockToolUse {
				return msgs, blockMisplaced(i, j, "tool_use", "assistant")
			}
			p, err := blockPart(&blocks[j], partLoc(i, j))
			if err != nil {
				return msgs, err
			}
			parts = append(parts, p)
		}
		msgs = append(msgs, llm.Message{Role: llm.RoleUser, Parts: parts})
	}
	if len(blocks) == 0 {
		msgs = append(msgs, llm.Message{Role: llm.RoleUser, Parts: []llm.Part{}})
	}
	return msgs, nil
}

func appendAssistantMessage(msgs []llm.Message, i int, m *wireMessage) ([]llm.Message, error) {
	if m.Content.IsString {
		return append(msgs, llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart(m.Content.Text)}}), nil
	}
	if !m.Content.IsArray {
		return msgs, contentRequired(i)
	}
	parts := make([]llm.Part, len(m.Content.Blocks))
	for j := range m.Content.Blocks {
		b := &m.Content.Blocks[j]
		if b.Type == blockToolResult {
			return msgs, blockMisplaced(i, j, "tool_result", "user")
		}
		p, err := blockPart(b, partLoc(i, j))
		if err != nil {
			return msgs, err
		}
		parts[j] = p
	}
	return append(msgs, llm.Message{Role: llm.RoleAssistant, Parts: parts}), nil
}

func contentRequired(i int) error {
	return llm.BadRequest(fmt.Sprintf("messages[%d].content", i),
		"messages[%d].content: must be a string or an array of content blocks", i)
}

func blockMisplaced(i, j int, typ, role string) error {
	return llm.BadRequest(fmt.Sprintf("messages[%d].content[%d].type", i, j),
		"messages[%d].content[%d]: %s blocks are only allowed in %s messages", i, j, typ, role)
}

func decodeTools(req *llm.Request, w *wireRequest) error {
	if len(w.Tools) > 0 {
		req.Tools = make([]llm.Tool, len(w.Tools))
		for i := range w.Tools {
			t := &w.Tools[i]
			if t.Name == "" {
				return llm.BadRequest(fmt.Sprintf("tools[%d].name", i), "tools[%d].name: field required", i)
			}
			typ := t.Type
			if typ == "" || typ == "custom" {
				typ = "function"
				if isNull(t.InputSchema) {
					return llm.BadRequest(fmt.Sprintf("tools[%d].input_schema", i), "tools[%d].input_schema: field required", i)
				}
			}
			req.Tools[i] = llm.Tool{Type: typ, Name: t.Name, Description: t.Description,
				Parameters: nonNull(t.InputSchema), Strict: t.Strict, Raw: t.raw, CacheControl: nonNull(t.CacheControl)}
		}
	}
	if tc := w.ToolChoice; tc != nil {
		c := &llm.ToolChoice{DisableParallel: tc.DisableParallelToolUse}
		switch tc.Type {
		case "auto":
			c.Mode = llm.ToolChoiceAuto
		case "any":
			c.Mode = llm.ToolChoiceRequired
		case "none":
			c.Mode = llm.ToolChoiceNone
		case "tool":
			if tc.Name == "" {
				return llm.BadRequest("tool_choice.name", "tool_choice.name: field required when type is \"tool\"")
			}
			c.Mode, c.Name = llm.ToolChoiceFunction, tc.Name
		default:
			return llm.BadRequest("tool_choice.type", "tool_choice.type: must be one of \"auto\", \"any\", \"tool\", \"none\", got %q", tc.Type)
		}
		req.ToolChoice = c
	}
	return nil
}

func setExtra(req *llm.Request, key string, v json.RawMessage) {
	if req.Extra == nil {
		req.Extra = make(map[string]json.RawMessage)
	}
	req.Extra[key] = v
}

// extraKeys returns the keys of extra in sorted order, for deterministic
// output.
func extraKeys(extra map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// requestKey reports whether k is a top-level request field that the
// decoder maps onto canonical fields; all others go to Extra.
func requestKey(k []byte) bool {
	switch string(k) {
	case "model", "messages", "system", "max_tokens", "metadata", "stop_sequences", "stream",
		"temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier":
		return true
	}
	return false
}
