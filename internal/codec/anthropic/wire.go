package anthropic

import "encoding/json"

// This file holds the Anthropic wire types the decoders read into. Encoders
// write JSON directly (with package jsonw) and need no types.

// Anthropic block types with a canonical meaning. Any other block type is
// carried as an opaque part.
const (
	blockText             = "text"
	blockImage            = "image"
	blockDocument         = "document"
	blockToolUse          = "tool_use"
	blockToolResult       = "tool_result"
	blockThinking         = "thinking"
	blockRedactedThinking = "redacted_thinking"
)

// knownBlock reports whether blocks of type t map onto canonical parts
// without keeping their raw form.
func knownBlock(t string) bool {
	switch t {
	case blockText, blockImage, blockToolUse, blockToolResult, blockThinking, blockRedactedThinking:
		return true
	}
	return false
}

// wireRequest is a Messages API request body, as parseRequest reads it.
type wireRequest struct {
	Model         string
	Messages      []wireMessage
	HasMessages   bool
	System        content
	MaxTokens     *int
	UserID        *string
	StopSequences []string
	Stream        bool
	Temperature   *float64
	TopP          *float64
	TopK          *int
	Tools         []wireTool
	ToolChoice    *wireToolChoice
	Thinking      []byte
	ServiceTier   string
	Extra         map[string]json.RawMessage
}

type wireMessage struct {
	Role    string
	Content content
}

// content is a message's, system prompt's or tool result's content: a
// string or an array of blocks. Other JSON values are tolerated (opaque
// blocks use "content" for objects) and leave it unset.
type content struct {
	Text     string
	Blocks   []wireBlock
	IsString bool
	IsArray  bool
}

// wireBlock is any content block, flattened: which fields are meaningful
// depends on Type. raw holds the block as sent for types the canonical
// model cannot express whole (documents and unknown types).
type wireBlock struct {
	Type         string
	Text         string
	Citations    json.RawMessage
	CacheControl json.RawMessage
	Source       wireSource
	ID           string
	Name         string
	Input        json.RawMessage
	ToolUseID    string
	Content      content
	IsError      bool
	Thinking     string
	Signature    string
	Data         string

	raw []byte
}

// wireSource is an image or document source.
type wireSource struct {
	Type      string
	MediaType string
	Data      string
	URL       string
	FileID    string
}

// wireTool is a tool definition; raw is set when the tool is not a plain
// custom tool (a server tool, or one with fields the canonical Tool lacks).
type wireTool struct {
	Type         string
	Name         string
	Description  string
	InputSchema  json.RawMessage
	CacheControl json.RawMessage
	Strict       *bool

	raw []byte
}

type wireToolChoice struct {
	Type                   string
	Name                   string
	DisableParallelToolUse bool
}

// wireResponse is a Messages API response, and the message of a
// message_start event.
type wireResponse struct {
	ID           string
	Type         string
	Role         string
	Model        string
	Content      content
	StopReason   *string
	StopSequence *string
	Usage        wireUsage
	Error        *wireErrorDetail
}

// wireUsage counts tokens the Anthropic way: input_tokens excludes the
// cache tokens. Absent fields are nil (message_delta sends only some).
type wireUsage struct {
	InputTokens              *int
	OutputTokens             *int
	CacheCreationInputTokens *int
	CacheReadInputTokens     *int
}

// wireEvent is any stream event, flattened.
type wireEvent struct {
	Type         string
	Index        int
	Message      *wireResponse
	ContentBlock *wireBlock
	Delta        wireDelta
	Usage        *wireUsage
	Error        *wireErrorDetail
}

// wireDelta is the delta of content_block_delta and message_delta events.
type wireDelta struct {
	Type         string
	Text         string
	PartialJSON  string
	Thinking     string
	Signature    string
	Citation     json.RawMessage
	StopReason   *string
	StopSequence *string
}

// wireError is an error body: {"type":"error","error":{...}}.
type wireError struct {
	Type  string          `json:"type"`
	Error wireErrorDetail `json:"error"`
}

type wireErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}
