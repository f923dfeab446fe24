package llm

import "encoding/json"

// Role is who authored a message.
type Role string

// The roles a message can have. Formats with fewer roles map onto these:
// Gemini's "model" is RoleAssistant, its "function" role is RoleTool.
const (
	RoleSystem    Role = "system"
	RoleDeveloper Role = "developer"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleSystem, RoleDeveloper, RoleUser, RoleAssistant, RoleTool:
		return true
	}
	return false
}

// Message is one turn of the conversation.
type Message struct {
	Role Role
	// Name is an optional participant name (OpenAI's "name" field).
	Name string
	// Parts is the ordered content. A message with no parts is allowed for
	// assistant turns that only carried tool calls in formats that keep them
	// apart; converters put tool calls into Parts.
	Parts []Part
}

// Text returns the concatenation of the message's text parts.
func (m *Message) Text() string {
	switch len(m.Parts) {
	case 0:
		return ""
	case 1:
		if m.Parts[0].Kind == PartText {
			return m.Parts[0].Text
		}
	}
	n := 0
	for i := range m.Parts {
		if m.Parts[i].Kind == PartText {
			n += len(m.Parts[i].Text)
		}
	}
	b := make([]byte, 0, n)
	for i := range m.Parts {
		if m.Parts[i].Kind == PartText {
			b = append(b, m.Parts[i].Text...)
		}
	}
	return string(b)
}

// ToolCalls returns the tool-call parts of the message, in order.
func (m *Message) ToolCalls() []*ToolCall {
	var out []*ToolCall
	for i := range m.Parts {
		if m.Parts[i].Kind == PartToolCall && m.Parts[i].ToolCall != nil {
			out = append(out, m.Parts[i].ToolCall)
		}
	}
	return out
}

// PartKind says what a Part holds.
type PartKind string

// The kinds of content a message part can have.
const (
	PartText       PartKind = "text"
	PartImage      PartKind = "image"
	PartAudio      PartKind = "audio"
	PartFile       PartKind = "file"
	PartReasoning  PartKind = "reasoning"   // visible thinking; Signature may carry the provider's proof
	PartRedacted   PartKind = "redacted"    // redacted thinking: opaque Data only
	PartRefusal    PartKind = "refusal"     // the model declined; Text says why
	PartToolCall   PartKind = "tool_call"   // ToolCall is set
	PartToolResult PartKind = "tool_result" // ToolResult is set
	// PartOpaque is a block of one wire format that the canonical model
	// cannot express (e.g. an Anthropic server-tool result); Raw holds it in
	// RawFormat. Only a converter for that format can send it on; others
	// reject it in requests and leave it out of responses.
	PartOpaque PartKind = "opaque"
)

// Part is one piece of message content. Which fields are meaningful depends on
// Kind; the others are zero.
type Part struct {
	Kind PartKind
	// Text is the text of PartText, PartReasoning and PartRefusal.
	Text string
	// Media is the payload of PartImage, PartAudio and PartFile.
	Media *Media
	// Signature is the provider's opaque proof for PartReasoning (Anthropic
	// "signature") and the opaque payload of PartRedacted. Round-trip it
	// unchanged to the provider that issued it.
	Signature string
	// ToolCall is set for PartToolCall.
	ToolCall *ToolCall
	// ToolResult is set for PartToolResult.
	ToolResult *ToolResult
	// CacheControl is a prompt-caching hint (Anthropic "cache_control").
	// Formats without explicit cache hints ignore it.
	CacheControl json.RawMessage
	// Citations are source references attached to a text part, in the
	// wire form named by CitationsFormat ("openai" annotations, "anthropic"
	// citations). Nil when none. An encoder writes only citations in its
	// own format: another provider's would be rejected if sent back.
	Citations       json.RawMessage
	CitationsFormat string
	// Raw is the whole part in the wire form named by RawFormat, kept by a
	// codec when the canonical fields cannot express all of it: always for
	// PartOpaque, and optionally for other kinds (an Anthropic document
	// with a title or citation settings), whose canonical fields then hold
	// a best-effort view. A converter for RawFormat sends Raw unchanged;
	// other converters ignore it. Nil for ordinary parts.
	Raw json.RawMessage
	// RawFormat is the wire format of Raw ("anthropic"); empty when Raw is nil.
	RawFormat string
}

// TextPart returns a text part.
func TextPart(s string) Part { return Part{Kind: PartText, Text: s} }

// Media is binary content given inline (Data, base64) or by reference (URL).
// Exactly one of URL and Data is set.
type Media struct {
	// MIMEType is e.g. "image/png" or "audio/wav"; it may be empty for a URL.
	MIMEType string
	// URL is an http(s) URL, or a data: URL as the client sent it.
	URL string
	// Data is the base64 encoding of the content, without a data: prefix.
	Data string
	// Detail is OpenAI's image detail hint ("low", "high", "auto").
	Detail string
	// Filename is the name of a file part, when given.
	Filename string
	// FileID references a file uploaded to the provider beforehand.
	FileID string
	// Format is the audio format ("wav", "mp3") for audio parts.
	Format string
}

// ToolCall is a model's request to call a tool.
type ToolCall struct {
	// ID identifies the call; the matching ToolResult carries it back.
	// Providers that do not issue IDs (Gemini) get one made up by the adapter.
	ID string
	// Type is "function" for function tools; other values name provider tools.
	Type string
	Name string
	// Arguments is the raw JSON text of the arguments.
	Arguments string
}

// ToolResult is the outcome of a tool call, sent back to the model.
type ToolResult struct {
	CallID string
	// Name is the called function's name, when known. Gemini requires it; the
	// Gemini adapter recovers it from the earlier call with the same ID.
	Name string
	// Parts is the result content: text, and images where the format allows.
	Parts   []Part
	IsError bool
}
