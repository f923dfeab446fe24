package llm

import "encoding/json"

// Request is a chat request in canonical form.
type Request struct {
	// Model is the model the client asked for: a virtual model name or
	// "provider/model". The router replaces it with the upstream model name
	// in the copy it hands to a provider.
	Model    string
	Messages []Message

	Tools             []Tool
	ToolChoice        *ToolChoice
	ParallelToolCalls *bool

	ResponseFormat *ResponseFormat

	Stream bool
	// IncludeUsage asks for a usage chunk at the end of a stream
	// (OpenAI stream_options.include_usage).
	IncludeUsage bool

	// MaxTokens caps output tokens (max_tokens or max_completion_tokens).
	MaxTokens        *int
	Temperature      *float64
	TopP             *float64
	TopK             *int
	N                *int
	Stop             []string
	Seed             *int64
	PresencePenalty  *float64
	FrequencyPenalty *float64
	LogitBias        map[string]float64
	Logprobs         *bool
	TopLogprobs      *int
	User             string

	// Reasoning configures thinking models; nil leaves the provider default.
	Reasoning *Reasoning
	// Modalities and Audio are OpenAI's output-modality controls.
	Modalities []string
	Audio      json.RawMessage
	// Metadata is the client's metadata object (OpenAI "metadata", Anthropic
	// "metadata.user_id" is mapped to User).
	Metadata map[string]string
	// ServiceTier is a provider scheduling hint ("auto", "default", "flex").
	ServiceTier string
	Store       *bool

	// Extra holds top-level fields the canonical model does not know, by
	// wire name; see the package doc for how adapters treat them.
	Extra map[string]json.RawMessage
	// Format is the wire format the client spoke ("openai", "anthropic").
	// Adapters use it to decide whether Extra can pass through.
	Format string
	// Headers are client request headers an upstream of the same wire
	// format needs to honour the request (e.g. "anthropic-beta"), by
	// lower-case name. The gateway copies only an allowlist of such headers,
	// never credentials; adapters forward them only when Format is theirs.
	Headers map[string]string
	// Patch is a JSON merge patch (RFC 7386; a JSON object) from the
	// gateway's config for the target the request is sent to (its extra
	// params). Every adapter applies it to the upstream body it encoded,
	// whatever Format is: members replace the encoded ones (objects merge
	// recursively, null removes a member). Nil for almost every request.
	Patch json.RawMessage
}

// Tool describes a tool the model may call.
type Tool struct {
	// Type is "function" for function tools. Any other value is a provider's
	// built-in tool, carried in Raw in its own wire form.
	Type        string
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments; nil means none.
	Parameters json.RawMessage
	Strict     *bool
	// Raw is the tool as the client sent it, for provider built-in tools.
	Raw json.RawMessage
	// CacheControl is a prompt-caching hint (Anthropic).
	CacheControl json.RawMessage
}

// ToolChoiceMode says how the model should use tools.
type ToolChoiceMode string

// Tool choice modes.
const (
	ToolChoiceAuto     ToolChoiceMode = "auto"
	ToolChoiceNone     ToolChoiceMode = "none"
	ToolChoiceRequired ToolChoiceMode = "required" // Anthropic "any"
	ToolChoiceFunction ToolChoiceMode = "function" // exactly the named function
)

// ToolChoice constrains tool use.
type ToolChoice struct {
	Mode ToolChoiceMode
	// Name is the function to call when Mode is ToolChoiceFunction.
	Name string
	// DisableParallel asks for at most one tool call (Anthropic
	// disable_parallel_tool_use).
	DisableParallel bool
}

// ResponseFormatType is the kind of structured output requested.
type ResponseFormatType string

// Response formats.
const (
	FormatText       ResponseFormatType = "text"
	FormatJSONObject ResponseFormatType = "json_object"
	FormatJSONSchema ResponseFormatType = "json_schema"
)

// ResponseFormat asks for structured output.
type ResponseFormat struct {
	Type ResponseFormatType
	// Name, Description, Schema and Strict describe a json_schema format.
	Name        string
	Description string
	Schema      json.RawMessage
	Strict      *bool
}

// Reasoning configures extended thinking. Either Effort or BudgetTokens is
// set; adapters convert between them where a provider only knows one.
type Reasoning struct {
	// Effort is "minimal", "low", "medium" or "high".
	Effort string
	// BudgetTokens is the thinking-token budget (Anthropic, Gemini).
	BudgetTokens int
	// Disabled turns thinking off explicitly.
	Disabled bool
}
