package mock

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// anthropicRequest is the part of an Anthropic Messages request the mock
// reads.
type anthropicRequest struct {
	Model     string             `json:"model"`
	Messages  []anthropicMessage `json:"messages"`
	System    anthropicContent   `json:"system"`
	MaxTokens *int               `json:"max_tokens"`
	Stream    bool               `json:"stream"`
	Tools     []struct {
		Name         string  `json:"name"`
		CacheControl present `json:"cache_control"`
	} `json:"tools"`
	ToolChoice *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tool_choice"`
}

type anthropicMessage struct {
	Role    string           `json:"role"`
	Content anthropicContent `json:"content"`
}

// anthropicContent is Anthropic content: a string or an array of blocks.
// Text blocks are concatenated into text; tool_result blocks are counted
// and the last one's text kept.
type anthropicContent struct {
	text          string
	runes         int // runes of text and of every tool result's text
	hasToolResult bool
	toolResult    string
	hash          promptHash // of every text and tool result's content, in order
	cacheControl  bool       // a block (or a block of a tool result) has cache_control
}

type anthropicBlock struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	Content      json.RawMessage `json:"content"` // tool_result: string or blocks
	CacheControl present         `json:"cache_control"`
}

// present records whether a JSON member is there and not null, without
// decoding (or validating) its value.
type present bool

func (p *present) UnmarshalJSON(b []byte) error {
	*p = string(b) != "null"
	return nil
}

var errAnthropicContent = errors.New("content must be a string or an array of content blocks")

func (c *anthropicContent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimLeft(b, " \t\r\n")
	*c = anthropicContent{}
	if len(b) == 0 {
		return errAnthropicContent
	}
	switch b[0] {
	case 'n':
		return nil
	case '"':
		var err error
		if c.text, err = jsonw.Unquote(b); err != nil {
			return err
		}
		c.runes = utf8.RuneCountInString(c.text)
		c.hash.add(tagText, c.text)
		return nil
	case '[':
		var blocks []anthropicBlock
		if err := json.Unmarshal(b, &blocks); err != nil {
			return err
		}
		for i := range blocks {
			c.cacheControl = c.cacheControl || bool(blocks[i].CacheControl)
			switch blocks[i].Type {
			case "text":
				c.text += blocks[i].Text
				c.runes += utf8.RuneCountInString(blocks[i].Text)
				c.hash.add(tagText, blocks[i].Text)
			case "tool_result":
				var inner anthropicContent
				if len(blocks[i].Content) > 0 {
					if err := inner.UnmarshalJSON(blocks[i].Content); err != nil {
						return err
					}
				}
				c.hasToolResult, c.toolResult = true, inner.text
				c.runes += utf8.RuneCountInString(inner.text)
				c.hash.addHash(tagToolResult, inner.hash)
				c.cacheControl = c.cacheControl || inner.cacheControl
			}
		}
		return nil
	}
	return errAnthropicContent
}

// anthropicConvo parses an Anthropic Messages request, returning a client
// error as param and message.
func anthropicConvo(body []byte) (c convo, param, msg string) {
	var req anthropicRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return c, "", "invalid JSON body: " + err.Error()
	}
	switch {
	case req.Model == "":
		return c, "model", "model: Field required"
	case req.MaxTokens == nil:
		return c, "max_tokens", "max_tokens: Field required"
	case *req.MaxTokens < 1:
		return c, "max_tokens", "max_tokens: Input should be greater than or equal to 1"
	case len(req.Messages) == 0:
		return c, "messages", "messages: at least one message is required"
	}
	c.model, c.stream, c.maxTokens = req.Model, req.Stream, *req.MaxTokens
	c.prompt.add(tagModel, c.model)
	c.cacheControl = req.System.cacheControl
	if req.System.runes > 0 {
		c.addMessage(req.System.runes)
		c.prompt.addHash(tagSystem, req.System.hash)
	}
	for i := range req.Messages {
		m := &req.Messages[i]
		c.addMessage(m.Content.runes)
		c.prompt.add(tagMessage, m.Role)
		c.prompt.addHash(tagText, m.Content.hash)
		c.cacheControl = c.cacheControl || m.Content.cacheControl
		switch {
		case m.Role == "assistant":
			c.last = lastAssistant
		case m.Role != "user":
			return c, "messages." + strconv.Itoa(i) + ".role", "Input should be 'user' or 'assistant'"
		case m.Content.hasToolResult:
			c.last, c.toolResult = lastToolResult, m.Content.toolResult
		default:
			c.userText(m.Content.text)
		}
	}
	for i := range req.Tools {
		c.prompt.add(tagTool, req.Tools[i].Name)
		c.cacheControl = c.cacheControl || bool(req.Tools[i].CacheControl)
	}
	if len(req.Tools) > 0 {
		c.tool = req.Tools[0].Name
		if tc := req.ToolChoice; tc != nil {
			switch tc.Type {
			case "none":
				c.tool = ""
			case "tool":
				c.tool = tc.Name
			}
		}
	}
	return c, "", ""
}
