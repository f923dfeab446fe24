package anthropic

import (
	"bytes"
	"fmt"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

// maxIndexGap bounds how far ahead of the blocks seen so far a block index
// may jump, so a broken upstream cannot make the decoder allocate at will.
const maxIndexGap = 64

// blockKind is what an open content block holds.
type blockKind uint8

const (
	kindNone blockKind = iota
	kindText
	kindThinking
	kindTool
	kindOpaque
	kindOther // redacted thinking, or a block already complete at its start
)

// decodedBlock is the decoder's state for one upstream content block.
type decodedBlock struct {
	kind  blockKind
	tool  int    // the canonical tool-call index of a tool_use block
	args  bool   // a non-empty argument fragment has been passed on
	input string // a tool_use block's start input, if not the empty object
}

// StreamDecoder turns Anthropic stream events into canonical chunks; it
// implements provider.EventDecoder. message_start gives the ID, model, role
// and the usage known so far; text, thinking, signature and citation deltas
// become fragments; each tool_use block becomes a tool call whose index
// counts tool_use blocks only, its ID and name in the first fragment and its
// input_json_delta fragments as arguments (a call that received none gets
// "{}" when its block stops). message_delta gives the finish reason and the
// final usage, message_stop ends the stream, ping and unknown events are
// skipped, and an error event ends the stream with its *llm.Error. Blocks
// without a canonical meaning (server tools) are passed on as raw events in
// Delta.Raw.
//
// The returned chunk, and the Usage it points to, are reused by the next
// call to Decode. A StreamDecoder serves one stream.
type StreamDecoder struct {
	provider string
	ev       wireEvent
	chunk    llm.Chunk
	delta    [1]llm.Delta
	call     [1]llm.ToolCallDelta
	usage    llm.Usage
	blocks   []decodedBlock
	tools    int
}

// NewStreamDecoder returns a decoder for one stream from provider (the name
// errors carry).
func NewStreamDecoder(provider string) *StreamDecoder {
	return &StreamDecoder{provider: provider}
}

// Decode implements provider.EventDecoder.
func (d *StreamDecoder) Decode(ev *sse.Event) (*llm.Chunk, bool, error) {
	if len(bytes.TrimSpace(ev.Data)) == 0 {
		return nil, false, nil
	}
	d.ev = wireEvent{}
	data := validUTF8(ev.Data)
	if !jsonw.Valid(data) || data[jsonw.SkipSpace(data, 0)] != '{' {
		return nil, false, d.invalid(fmt.Errorf("anthropic: %q event: %w: %q", ev.Type, errNotObject, snippet(data)))
	}
	if err := d.ev.parse(data); err != nil {
		return nil, false, d.invalid(fmt.Errorf("anthropic: %q event: %w", ev.Type, err))
	}
	typ := d.ev.Type
	if typ == "" {
		typ = string(ev.Type)
	}
	switch typ {
	case "message_start":
		return d.messageStart()
	case "content_block_start":
		return d.blockStart(data)
	case "content_block_delta":
		return d.blockDelta(data)
	case "content_block_stop":
		return d.blockStop(data)
	case "message_delta":
		return d.messageDelta(), false, nil
	case "message_stop":
		return nil, true, nil
	case "error":
		if d.ev.Error == nil {
			return nil, false, d.invalid(fmt.Errorf("anthropic: error event without an error: %q", snippet(ev.Data)))
		}
		return nil, false, errorFromDetail(d.provider, d.ev.Error)
	}
	return nil, false, nil // ping, and event types added after this was written
}

func (d *StreamDecoder) invalid(err error) *llm.Error {
	return &llm.Error{Status: 502, Type: llm.TypeAPI, Code: "invalid_upstream_stream",
		Message: "the provider sent a stream event the gateway cannot read", Provider: d.provider,
		Fault: llm.FaultProvider, Err: err}
}

// newChunk resets the reused chunk to one empty delta for choice 0.
func (d *StreamDecoder) newChunk() (*llm.Chunk, *llm.Delta) {
	d.delta[0] = llm.Delta{}
	d.chunk = llm.Chunk{Deltas: d.delta[:1]}
	return &d.chunk, &d.delta[0]
}

func (d *StreamDecoder) messageStart() (*llm.Chunk, bool, error) {
	c, delta := d.newChunk()
	delta.Role = llm.RoleAssistant
	if m := d.ev.Message; m != nil {
		c.ID, c.Model = m.ID, m.Model
		usageFrom(&d.usage, &m.Usage)
		c.Usage = &d.usage
	}
	return c, false, nil
}

// block returns the state of the block at index i, growing the table when
// start is true; nil when i is out of range.
func (d *StreamDecoder) block(i int, start bool) *decodedBlock {
	if i >= 0 && i < len(d.blocks) {
		return &d.blocks[i]
	}
	if !start || i < 0 || i > len(d.blocks)+maxIndexGap {
		return nil
	}
	for len(d.blocks) <= i {
		d.blocks = append(d.blocks, decodedBlock{})
	}
	return &d.blocks[i]
}

func (d *StreamDecoder) blockStart(data []byte) (*llm.Chunk, bool, error) {
	b := d.ev.ContentBlock
	st := d.block(d.ev.Index, true)
	if b == nil || st == nil {
		return nil, false, d.invalid(fmt.Errorf("anthropic: content_block_start without a block or with index %d", d.ev.Index))
	}
	*st = decodedBlock{}
	c, delta := d.newChunk()
	switch b.Type {
	case blockText:
		st.kind = kindText
		if b.Text == "" {
			return nil, false, nil
		}
		delta.Text = b.Text
	case blockThinking:
		st.kind = kindThinking
		if b.Thinking == "" && b.Signature == "" {
			return nil, false, nil
		}
		delta.Reasoning, delta.ReasoningSignature = b.Thinking, b.Signature
	case blockRedactedThinking:
		st.kind = kindOther
		delta.RedactedReasoning = b.Data
	case blockToolUse:
		st.kind, st.tool = kindTool, d.tools
		d.tools++
		if in := bytes.TrimSpace(b.Input); !isNull(in) && string(in) != "{}" {
			st.input = string(in)
		}
		d.call[0] = llm.ToolCallDelta{Index: st.tool, ID: b.ID, Type: "function", Name: b.Name}
		delta.ToolCalls = d.call[:1]
	default:
		st.kind = kindOpaque
		delta.Raw, delta.RawFormat = bytes.Clone(data), Format
	}
	return c, false, nil
}

func (d *StreamDecoder) blockDelta(data []byte) (*llm.Chunk, bool, error) {
	st := d.block(d.ev.Index, false)
	if st == nil {
		return nil, false, d.invalid(fmt.Errorf("anthropic: content_block_delta for unknown block %d", d.ev.Index))
	}
	c, delta := d.newChunk()
	w := &d.ev.Delta
	switch {
	case st.kind == kindOpaque:
		delta.Raw, delta.RawFormat = bytes.Clone(data), Format
	case w.Type == "text_delta" && w.Text != "":
		delta.Text = w.Text
	case w.Type == "input_json_delta" && w.PartialJSON != "" && st.kind == kindTool:
		st.args = true
		d.call[0] = llm.ToolCallDelta{Index: st.tool, Arguments: w.PartialJSON}
		delta.ToolCalls = d.call[:1]
	case w.Type == "thinking_delta" && w.Thinking != "":
		delta.Reasoning = w.Thinking
	case w.Type == "signature_delta" && w.Signature != "":
		delta.ReasoningSignature = w.Signature
	case w.Type == "citations_delta" && !isNull(w.Citation):
		delta.Citation, delta.CitationFormat = w.Citation, Format
	default:
		return nil, false, nil
	}
	return c, false, nil
}

func (d *StreamDecoder) blockStop(data []byte) (*llm.Chunk, bool, error) {
	st := d.block(d.ev.Index, false)
	if st == nil {
		return nil, false, nil
	}
	switch {
	case st.kind == kindOpaque:
		c, delta := d.newChunk()
		delta.Raw, delta.RawFormat = bytes.Clone(data), Format
		return c, false, nil
	case st.kind == kindTool && !st.args:
		st.args = true
		args := st.input
		if args == "" {
			args = "{}"
		}
		c, delta := d.newChunk()
		d.call[0] = llm.ToolCallDelta{Index: st.tool, Arguments: args}
		delta.ToolCalls = d.call[:1]
		return c, false, nil
	}
	return nil, false, nil
}

func (d *StreamDecoder) messageDelta() *llm.Chunk {
	c, delta := d.newChunk()
	if r := d.ev.Delta.StopReason; r != nil {
		delta.FinishReason = finishReason(*r)
	}
	if s := d.ev.Delta.StopSequence; s != nil {
		delta.StopSequence = *s
	}
	if delta.FinishReason == "" && delta.StopSequence == "" {
		c.Deltas = nil
	}
	if d.ev.Usage != nil {
		usageFrom(&d.usage, d.ev.Usage)
		c.Usage = &d.usage
	}
	if c.Deltas == nil && c.Usage == nil {
		return nil
	}
	return c
}
