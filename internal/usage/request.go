package usage

import (
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/tiktoken-go/tokenizer"
)

// Chat framing overheads, as OpenAI counts them for the gpt-3.5/gpt-4/gpt-4o
// families (the cookbook's num_tokens_from_messages).
const (
	tokensPerMessage = 3 // <|start|>{role}\n … <|end|>\n around every message
	tokensPerName    = 1 // a message's "name" field
	tokensReplyPrime = 3 // <|start|>assistant<|message|> priming the reply
)

// Flat token estimates for content the tokenizer cannot see. They are
// deliberately round numbers: the real cost depends on the media (image size,
// audio duration, page count), which the gateway does not decode.
const (
	// ImagePartTokens is an image at "high" or "auto" detail: OpenAI's
	// price of a 1024×1024 image (85 base + 4 tiles × 170).
	ImagePartTokens = 765
	// ImageLowDetailTokens is an image with detail "low" (OpenAI's fixed 85).
	ImageLowDetailTokens = 85
	// AudioPartTokens is an audio clip of unknown length: about twenty
	// seconds at OpenAI's rate of ten input tokens per second.
	AudioPartTokens = 200
	// FilePartTokens is a file (typically a PDF of a few pages).
	FilePartTokens = 1000
	// OpaquePartTokens is a part only its own wire format understands
	// (PartOpaque, redacted reasoning).
	OpaquePartTokens = 100
)

// CountRequest returns the prompt tokens of a chat request the way OpenAI
// counts them: for each message 3 tokens of framing, the role, the content
// and, when set, the name plus 1; then 3 tokens priming the reply.
//
// Content counts text, reasoning and refusal parts by their text; tool calls
// by their name and raw arguments; tool results by their parts; images,
// audio, files and opaque parts by the flat estimates above. Each tool
// definition counts its name, description and parameters JSON as sent (a
// provider built-in tool counts its raw JSON); a json_schema response format
// counts its name, description and schema. The encoding follows req.Model
// (see EncodingFor), so for non-OpenAI models the result is an estimate.
// A nil request is 0 tokens.
func CountRequest(req *llm.Request) int {
	if req == nil {
		return 0
	}
	enc := EncodingFor(req.Model)
	n := tokensReplyPrime
	for i := range req.Messages {
		m := &req.Messages[i]
		n += tokensPerMessage + countEnc(enc, string(m.Role))
		if m.Name != "" {
			n += countEnc(enc, m.Name) + tokensPerName
		}
		n += countParts(enc, m.Parts)
	}
	for i := range req.Tools {
		t := &req.Tools[i]
		if t.Type != "" && t.Type != "function" && len(t.Raw) > 0 {
			n += countEnc(enc, string(t.Raw))
			continue
		}
		n += countEnc(enc, t.Name) + countEnc(enc, t.Description) + countEnc(enc, string(t.Parameters))
	}
	if rf := req.ResponseFormat; rf != nil && rf.Type == llm.FormatJSONSchema {
		n += countEnc(enc, rf.Name) + countEnc(enc, rf.Description) + countEnc(enc, string(rf.Schema))
	}
	return n
}

// countParts counts the content parts of one message or tool result.
func countParts(enc tokenizer.Encoding, parts []llm.Part) int {
	n := 0
	for i := range parts {
		p := &parts[i]
		switch p.Kind {
		case llm.PartText, llm.PartReasoning, llm.PartRefusal:
			n += countEnc(enc, p.Text)
		case llm.PartToolCall:
			if p.ToolCall != nil {
				n += countEnc(enc, p.ToolCall.Name) + countEnc(enc, p.ToolCall.Arguments)
			}
		case llm.PartToolResult:
			if p.ToolResult != nil {
				n += countParts(enc, p.ToolResult.Parts)
			}
		case llm.PartImage:
			if p.Media != nil && p.Media.Detail == "low" {
				n += ImageLowDetailTokens
			} else {
				n += ImagePartTokens
			}
		case llm.PartAudio:
			n += AudioPartTokens
		case llm.PartFile:
			n += FilePartTokens
		default: // PartOpaque, PartRedacted and kinds added later
			n += OpaquePartTokens
		}
	}
	return n
}

// CountEmbeddings returns the input tokens of an embeddings request: the sum
// of each text input's tokens plus the length of each token-array input. No
// framing is added (OpenAI charges none). A nil request is 0 tokens.
func CountEmbeddings(req *llm.EmbeddingsRequest) int {
	if req == nil {
		return 0
	}
	enc := EncodingFor(req.Model)
	n := 0
	for i := range req.Inputs {
		in := &req.Inputs[i]
		if in.Tokens != nil {
			n += len(in.Tokens)
			continue
		}
		n += countEnc(enc, in.Text)
	}
	return n
}
