package openai

import (
	"encoding/json"
	"reflect"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// The types in this file mirror the parts of OpenAI's
// CreateChatCompletionRequest that Sluice maps into llm.Request. Fields that
// accept several JSON shapes (content, stop, tool_choice, …) have their own
// UnmarshalJSON; on a shape they do not accept they return a
// *json.UnmarshalTypeError whose Type is one of the marker types below, so
// that the error message can say what was expected.

type chatRequestWire struct {
	Model               string              `json:"model"`
	Messages            []messageWire       `json:"messages"`
	Tools               []toolWire          `json:"tools"`
	ToolChoice          toolChoiceWire      `json:"tool_choice"`
	ParallelToolCalls   *bool               `json:"parallel_tool_calls"`
	ResponseFormat      *responseFormatWire `json:"response_format"`
	Stream              *bool               `json:"stream"`
	StreamOptions       *streamOptionsWire  `json:"stream_options"`
	MaxTokens           *int                `json:"max_tokens"`
	MaxCompletionTokens *int                `json:"max_completion_tokens"`
	Temperature         *float64            `json:"temperature"`
	TopP                *float64            `json:"top_p"`
	TopK                *int                `json:"top_k"`
	N                   *int                `json:"n"`
	Stop                stopWire            `json:"stop"`
	Seed                *int64              `json:"seed"`
	PresencePenalty     *float64            `json:"presence_penalty"`
	FrequencyPenalty    *float64            `json:"frequency_penalty"`
	LogitBias           map[string]float64  `json:"logit_bias"`
	Logprobs            *bool               `json:"logprobs"`
	TopLogprobs         *int                `json:"top_logprobs"`
	User                string              `json:"user"`
	Metadata            map[string]string   `json:"metadata"`
	ReasoningEffort     *string             `json:"reasoning_effort"`
	Modalities          []string            `json:"modalities"`
	Audio               rawJSON             `json:"audio"`
	ServiceTier         string              `json:"service_tier"`
	Store               *bool               `json:"store"`
}

// knownRequestKey reports whether key is a top-level request member that
// chatRequestWire decodes; every other member goes to Request.Extra.
func knownRequestKey(key string) bool {
	switch key {
	case "model", "messages", "tools", "tool_choice", "parallel_tool_calls",
		"response_format", "stream", "stream_options", "max_tokens",
		"max_completion_tokens", "temperature", "top_p", "top_k", "n", "stop",
		"seed", "presence_penalty", "frequency_penalty", "logit_bias",
		"logprobs", "top_logprobs", "user", "metadata", "reasoning_effort",
		"modalities", "audio", "service_tier", "store":
		return true
	}
	return false
}

// requestKeys lists knownRequestKey's keys, for case-insensitive matching.
var requestKeys = []string{"model", "messages", "tools", "tool_choice", "parallel_tool_calls",
	"response_format", "stream", "stream_options", "max_tokens",
	"max_completion_tokens", "temperature", "top_p", "top_k", "n", "stop",
	"seed", "presence_penalty", "frequency_penalty", "logit_bias",
	"logprobs", "top_logprobs", "user", "metadata", "reasoning_effort",
	"modalities", "audio", "service_tier", "store"}

type messageWire struct {
	Role         string         `json:"role"`
	Content      contentWire    `json:"content"`
	Name         string         `json:"name"`
	Refusal      string         `json:"refusal"`
	ToolCalls    []toolCallWire `json:"tool_calls"`
	ToolCallID   *string        `json:"tool_call_id"`
	Audio        *audioRefWire  `json:"audio"`
	FunctionCall rawJSON        `json:"function_call"`
	CacheControl rawJSON        `json:"cache_control"`
}

// contentWire is a message's content: a string, an array of parts, or null.
type contentWire struct {
	present bool // a string or an array was given
	isText  bool // it was a string
	text    string
	parts   []partWire
}

func (c *contentWire) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		return nil
	case '"':
		c.present, c.isText = true, true
		var err error
		c.text, err = jsonw.Unquote(b)
		return err
	case '[':
		c.present = true
		return json.Unmarshal(b, &c.parts)
	}
	return typeError(b, contentType)
}

type partWire struct {
	Type         string          `json:"type"`
	Text         *string         `json:"text"`
	Refusal      *string         `json:"refusal"`
	ImageURL     *imageURLWire   `json:"image_url"`
	InputAudio   *inputAudioWire `json:"input_audio"`
	File         *fileWire       `json:"file"`
	CacheControl rawJSON         `json:"cache_control"`
}

// imageURLWire is {"url","detail"}; a bare URL string is accepted too, as
// several OpenAI-compatible clients send it.
type imageURLWire struct {
	URL    string `json:"url"`
	Detail string `json:"detail"`
}

func (u *imageURLWire) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case '"':
		var err error
		u.URL, err = jsonw.Unquote(b)
		return err
	case '{':
		type plain imageURLWire
		return json.Unmarshal(b, (*plain)(u))
	}
	return typeError(b, imageURLType)
}

type inputAudioWire struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

type fileWire struct {
	FileData string `json:"file_data"`
	FileID   string `json:"file_id"`
	Filename string `json:"filename"`
}

type audioRefWire struct {
	ID string `json:"id"`
}

type toolCallWire struct {
	ID       string        `json:"id"`
	Type     string        `json:"type"`
	Function *functionCall `json:"function"`
	Custom   *customCall   `json:"custom"`
}

type functionCall struct {
	Name      string    `json:"name"`
	Arguments arguments `json:"arguments"`
}

type customCall struct {
	Name  string `json:"name"`
	Input string `json:"input"`
}

// arguments is a tool call's arguments: a string of JSON text, as OpenAI
// sends it, or (from lax clients) the JSON value itself, kept as its text.
type arguments string

func (a *arguments) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case '"':
		s, err := jsonw.Unquote(b)
		*a = arguments(s)
		return err
	case 'n':
		return nil
	}
	*a = arguments(b)
	return nil
}

// toolWire is a tool definition. Function tools are decoded; any other
// type is kept raw (see rawTools), for an upstream that knows it.
type toolWire struct {
	Type         string           `json:"type"`
	Function     *functionDefWire `json:"function"`
	CacheControl rawJSON          `json:"cache_control"`
}

type functionDefWire struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Parameters  rawJSON `json:"parameters"`
	Strict      *bool   `json:"strict"`
}

// toolChoiceWire is "none" | "auto" | "required" | {"type":"function",
// "function":{"name"}}. Other objects (allowed_tools, custom) are kept raw.
type toolChoiceWire struct {
	present bool
	mode    string
	name    string
	raw     rawJSON
}

func (c *toolChoiceWire) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		return nil
	case '"':
		c.present = true
		var err error
		c.mode, err = jsonw.Unquote(b)
		return err
	case '{':
		var w struct {
			Type     string `json:"type"`
			Function *struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if err := json.Unmarshal(b, &w); err != nil {
			return err
		}
		c.present = true
		if w.Type == "function" && w.Function != nil {
			c.mode, c.name = "function", w.Function.Name
			return nil
		}
		c.mode = w.Type
		c.raw = append(rawJSON(nil), b...)
		return nil
	}
	return typeError(b, toolChoiceType)
}

// stopWire is a string or an array of strings.
type stopWire []string

func (s *stopWire) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		return nil
	case '"':
		one, err := jsonw.Unquote(b)
		*s = stopWire{one}
		return err
	case '[':
		return json.Unmarshal(b, (*[]string)(s))
	}
	return typeError(b, stopType)
}

type responseFormatWire struct {
	Type       string          `json:"type"`
	JSONSchema *jsonSchemaWire `json:"json_schema"`
}

type jsonSchemaWire struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Schema      rawJSON `json:"schema"`
	Strict      *bool   `json:"strict"`
}

type streamOptionsWire struct {
	IncludeUsage bool `json:"include_usage"`
}

// rawJSON is a raw JSON value in bytes of its own (the input may be reused
// by the caller, and the decoded value outlives the wire struct), nil for
// JSON null.
type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = nil
		return nil
	}
	*r = append(rawJSON(nil), b...)
	return nil
}

// Marker types name what a multi-shape field expects in type errors.
type (
	contentMarker    struct{}
	imageURLMarker   struct{}
	toolChoiceMarker struct{}
	stopMarker       struct{}
	inputMarker      struct{}
	embeddingMarker  struct{}
)

var (
	contentType    = reflect.TypeFor[contentMarker]()
	imageURLType   = reflect.TypeFor[imageURLMarker]()
	toolChoiceType = reflect.TypeFor[toolChoiceMarker]()
	stopType       = reflect.TypeFor[stopMarker]()
	inputType      = reflect.TypeFor[inputMarker]()
	embeddingType  = reflect.TypeFor[embeddingMarker]()
)

// typeError reports that the JSON value b does not fit the field whose
// expected shape the marker type t names.
func typeError(b []byte, t reflect.Type) error {
	kind := jsonw.KindOf(b)
	switch kind {
	case "a string":
		kind = "string"
	case "an object":
		kind = "object"
	case "an array":
		kind = "array"
	case "a boolean":
		kind = "bool"
	case "a number":
		kind = "number"
	}
	return &json.UnmarshalTypeError{Value: kind, Type: t}
}

// expected describes in words what a Go type accepts as JSON.
func expected(t reflect.Type) string {
	switch t {
	case contentType:
		return "a string or an array of content parts"
	case imageURLType:
		return "an object with a url"
	case toolChoiceType:
		return `"none", "auto", "required" or an object naming a function`
	case stopType:
		return "a string or an array of strings"
	case inputType:
		return "a string, an array of strings, or an array (or arrays) of token ids"
	case embeddingType:
		return "an array of numbers or a base64 string"
	case nil:
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Struct {
			return "an array of objects"
		}
		return "an array"
	case reflect.Map:
		if t.Elem().Kind() == reflect.String {
			return "an object with string values"
		}
		return "an object"
	case reflect.Struct:
		return "an object"
	}
	return "another type"
}
