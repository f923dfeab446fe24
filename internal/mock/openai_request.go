package mock

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// openAIChatRequest is the part of an OpenAI chat request the mock reads.
type openAIChatRequest struct {
	Model         string          `json:"model"`
	Messages      []openAIMessage `json:"messages"`
	Tools         []openAITool    `json:"tools"`
	ToolChoice    json.RawMessage `json:"tool_choice"`
	Stream        bool            `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
}

type openAIMessage struct {
	Role    string      `json:"role"`
	Content textContent `json:"content"`
}

type openAITool struct {
	Type     string `json:"type"`
	Function *struct {
		Name string `json:"name"`
	} `json:"function"`
	Custom *struct {
		Name string `json:"name"`
	} `json:"custom"`
}

func (t *openAITool) name() string {
	switch {
	case t.Function != nil:
		return t.Function.Name
	case t.Custom != nil:
		return t.Custom.Name
	}
	return ""
}

// textContent is OpenAI message content: null, a string, or an array of
// parts whose "text" parts are concatenated (other parts are ignored).
type textContent struct {
	text string
}

var errContentShape = errors.New("content must be a string, an array of content parts or null")

func (c *textContent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return errContentShape
	}
	switch b[0] {
	case 'n':
		c.text = ""
		return nil
	case '"':
		var err error
		c.text, err = jsonw.Unquote(b)
		return err
	case '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
		c.text = ""
		for i := range parts {
			if parts[i].Type == "text" {
				c.text += parts[i].Text
			}
		}
		return nil
	}
	return errContentShape
}

// openAIConvo parses an OpenAI chat request. deployment is the Azure
// deployment from the path, used as the model when the body names none.
// It returns a client error (status 400) as param and message.
func openAIConvo(body []byte, deployment string) (c convo, param, msg string) {
	var req openAIChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return c, "", "invalid JSON body: " + err.Error()
	}
	c.model = req.Model
	if c.model == "" {
		c.model = deployment
	}
	switch {
	case c.model == "":
		return c, "model", "you must provide a model parameter"
	case len(req.Messages) == 0:
		return c, "messages", "messages must be a non-empty array"
	}
	c.stream = req.Stream
	c.includeUsage = req.Stream && req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	mtName, mt := "max_completion_tokens", req.MaxCompletionTokens
	if mt == nil {
		mtName, mt = "max_tokens", req.MaxTokens
	}
	if mt != nil {
		if *mt < 1 {
			return c, mtName, mtName + " must be at least 1"
		}
		c.maxTokens = *mt
	}
	c.prompt.add(tagModel, c.model)
	for i := range req.Messages {
		m := &req.Messages[i]
		c.addMessage(utf8.RuneCountInString(m.Content.text))
		c.prompt.add(tagMessage, m.Role)
		c.prompt.add(tagText, m.Content.text)
		switch m.Role {
		case "user":
			c.userText(m.Content.text)
		case "tool", "function":
			c.last, c.toolResult = lastToolResult, m.Content.text
		case "assistant":
			c.last = lastAssistant
		case "system", "developer":
			c.last = lastNone
		default:
			return c, "messages[" + strconv.Itoa(i) + "].role", "invalid role " + strconv.Quote(m.Role)
		}
	}
	for i := range req.Tools {
		c.prompt.add(tagTool, req.Tools[i].name())
	}
	c.tool = openAIToolChoice(req.Tools, req.ToolChoice)
	return c, "", ""
}

// openAIToolChoice returns the tool the mock calls: none when no tool is
// offered or tool_choice is "none", the named function when tool_choice
// names one, else the first tool.
func openAIToolChoice(tools []openAITool, choice json.RawMessage) string {
	if len(tools) == 0 {
		return ""
	}
	switch {
	case len(choice) == 0:
	case choice[0] == '"':
		if string(choice) == `"none"` {
			return ""
		}
	case choice[0] == '{':
		var named struct {
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if json.Unmarshal(choice, &named) == nil && named.Function.Name != "" {
			return named.Function.Name
		}
	}
	for i := range tools {
		if n := tools[i].name(); n != "" {
			return n
		}
	}
	return ""
}
