package llm

import "encoding/json"

// Stream is a streamed chat response. Recv returns the next chunk, and io.EOF
// after the last one; any other error ends the stream (an *Error when the
// provider reported one). Close releases the connection and may be called at
// any time, more than once; a stream that is not read to the end must be
// closed. A Stream is used by one goroutine at a time.
type Stream interface {
	Recv() (*Chunk, error)
	Close() error
}

// Chunk is one increment of a streamed response. Fields that did not change
// are zero. The Chunk returned by Recv belongs to the caller until its next
// call to Recv; a Stream may reuse it afterwards.
type Chunk struct {
	ID      string
	Model   string
	Created int64
	Deltas  []Delta
	// Usage is set on the chunk that reports token usage, usually the last.
	// Providers that report input tokens first (Anthropic) may send it twice;
	// the later value replaces the earlier.
	Usage *Usage
	// SystemFingerprint and ServiceTier are passed through from OpenAI.
	SystemFingerprint string
	ServiceTier       string
}

// Delta is a change to one choice.
type Delta struct {
	Index int
	// Role is set on the first delta of a choice.
	Role Role
	// Text, Reasoning and Refusal are fragments to append.
	Text      string
	Reasoning string
	// ReasoningSignature is the reasoning block's signature (sent whole).
	ReasoningSignature string
	// RedactedReasoning is an opaque redacted-thinking payload (sent whole).
	RedactedReasoning string
	Refusal           string
	ToolCalls         []ToolCallDelta
	// FinishReason is set on the last delta of a choice.
	FinishReason FinishReason
	StopSequence string
	// Logprobs is this fragment's logprobs object in OpenAI form.
	Logprobs json.RawMessage
	// Citation is one citation to attach to the current text, in the wire
	// form named by CitationFormat; encoders skip other formats'.
	Citation       json.RawMessage
	CitationFormat string
	// Raw is a stream item the canonical model cannot express, in the wire
	// form named by RawFormat; converters for other formats ignore it. For
	// "anthropic" it is one content_block_start, content_block_delta or
	// content_block_stop event of a block type without a canonical meaning
	// (server-tool blocks), to be re-emitted in order with its index
	// renumbered. Nil for ordinary deltas.
	Raw json.RawMessage
	// RawFormat is the wire format of Raw; empty when Raw is nil.
	RawFormat string
}

// ToolCallDelta is a fragment of a tool call. Index orders tool calls within
// the choice; ID, Type and Name are set in the first fragment of a call,
// Arguments fragments are appended.
type ToolCallDelta struct {
	Index     int
	ID        string
	Type      string
	Name      string
	Arguments string
}
