package anthropic

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// StreamEncoder turns canonical chunks into Anthropic stream events. It is a
// state machine: the first chunk opens the message (message_start, with the
// input tokens if the chunk carries usage, else 0); fragments open, feed and
// close content blocks as the kind of content changes (text, thinking, one
// tool_use block per tool call); the finish reason and usage make the
// message_delta, and AppendEnd closes the message.
//
// Only choice 0 is encoded. Tool-call fragments may arrive interleaved for
// several calls: a call's block opens when no other call's block is open
// with incomplete arguments; until then its fragments are buffered, and
// any still buffered are written as whole blocks before message_delta. No
// delta is ever written for a closed block: a fragment for a call whose
// block was closed is an error.
//
// message_delta is written as soon as both the finish reason and usage
// reported with or after it are known, else by AppendEnd; a stream without
// a finish reason ends with end_turn, or tool_use if it called tools.
//
// A StreamEncoder serves one stream and is not safe for concurrent use.
type StreamEncoder struct {
	model string

	started   bool
	deltaSent bool
	ended     bool

	next      int       // index of the next block
	open      blockKind // kind of the open block, kindNone if none
	openIndex int       // index of the open block
	openTool  int       // tool-call index of the open tool_use block
	signed    bool      // the open thinking block got its signature
	wroteText bool      // the open text block got text
	tools     []encodedTool
	calledAny bool

	finish  llm.FinishReason
	stopSeq string
	usage   llm.Usage
}

// NewStreamEncoder returns an encoder for one stream. model is the model
// name shown to the client; empty means the model of the first chunk.
func NewStreamEncoder(model string) *StreamEncoder {
	return &StreamEncoder{model: model}
}

var errEnded = errors.New("anthropic: stream encoder: chunk after the end of the message")

// AppendChunk appends the events for c to dst: complete SSE events
// ("event: X\ndata: {...}\n\n"), possibly none. On error dst is returned
// with whatever complete events were appended before the failure.
func (e *StreamEncoder) AppendChunk(dst []byte, c *llm.Chunk) ([]byte, error) {
	if e.ended {
		return dst, errEnded
	}
	if !e.started {
		dst = e.appendMessageStart(dst, c)
	}
	for i := range c.Deltas {
		d := &c.Deltas[i]
		if d.Index != 0 {
			continue
		}
		if e.deltaSent && hasContent(d) {
			return dst, fmt.Errorf("anthropic: stream encoder: content after the message's stop reason")
		}
		var err error
		if dst, err = e.appendDelta(dst, d); err != nil {
			return dst, err
		}
		if d.FinishReason != "" {
			e.finish, e.stopSeq = d.FinishReason, d.StopSequence
		}
	}
	if c.Usage != nil {
		e.usage = *c.Usage
		if e.finish != "" && !e.deltaSent {
			dst = e.appendMessageDelta(dst)
		}
	}
	return dst, nil
}

// AppendEnd appends what ends the message: it closes the open block, writes
// buffered tool calls and message_delta unless already written, and
// message_stop. Further calls append nothing.
func (e *StreamEncoder) AppendEnd(dst []byte) []byte {
	if e.ended {
		return dst
	}
	if !e.started {
		dst = e.appendMessageStart(dst, &llm.Chunk{})
	}
	if !e.deltaSent {
		dst = e.appendMessageDelta(dst)
	}
	e.ended = true
	return append(dst, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
}

func hasContent(d *llm.Delta) bool {
	return d.Text != "" || d.Reasoning != "" || d.ReasoningSignature != "" || d.RedactedReasoning != "" ||
		d.Refusal != "" || len(d.ToolCalls) > 0 || d.Citation != nil || d.Raw != nil
}

func (e *StreamEncoder) appendDelta(dst []byte, d *llm.Delta) ([]byte, error) {
	var err error
	if d.Raw != nil && d.RawFormat == Format {
		if dst, err = e.appendRawEvent(dst, d.Raw); err != nil {
			return dst, err
		}
	}
	if d.Reasoning != "" {
		if e.signed {
			dst = e.closeOpen(dst) // a signature ends a thinking block
		}
		dst = e.ensure(dst, kindThinking)
		dst = e.appendBlockDelta(dst, "thinking_delta", "thinking", d.Reasoning)
	}
	if d.ReasoningSignature != "" {
		dst = e.ensure(dst, kindThinking)
		dst = e.appendBlockDelta(dst, "signature_delta", "signature", d.ReasoningSignature)
		e.signed = true
	}
	if d.RedactedReasoning != "" {
		dst = e.closeOpen(dst)
		dst = e.appendBlockStartHead(dst)
		dst = append(dst, `{"type":"redacted_thinking","data":`...)
		dst = jsonw.AppendString(dst, d.RedactedReasoning)
		dst = append(dst, "}}\n\n"...)
		e.open = kindOther
		dst = e.closeOpen(dst)
	}
	for _, s := range [...]string{d.Text, d.Refusal} {
		if s != "" {
			dst = e.ensure(dst, kindText)
			dst = e.appendBlockDelta(dst, "text_delta", "text", s)
			e.wroteText = true
		}
	}
	if d.Citation != nil && d.CitationFormat == Format {
		if e.open == kindText && e.wroteText {
			// Anthropic sends a cited block's citations before its text:
			// a citation after text starts the next block.
			dst = e.closeOpen(dst)
		}
		dst = e.ensure(dst, kindText)
		mark := len(dst)
		dst = e.appendDeltaHead(dst)
		dst = append(dst, `{"type":"citations_delta","citation":`...)
		if dst, err = jsonw.AppendCompact(dst, d.Citation); err != nil {
			return dst[:mark], fmt.Errorf("anthropic: stream encoder: citation: %w", err)
		}
		dst = append(dst, "}}\n\n"...)
	}
	for i := range d.ToolCalls {
		if dst, err = e.appendToolDelta(dst, &d.ToolCalls[i]); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// ensure makes the open block one of kind k (text or thinking), closing
// the open block and starting a new one if needed.
func (e *StreamEncoder) ensure(dst []byte, k blockKind) []byte {
	if e.open == k {
		return dst
	}
	dst = e.closeOpen(dst)
	dst = e.appendBlockStartHead(dst)
	if k == kindText {
		dst = append(dst, `{"type":"text","text":""}}`...)
	} else {
		dst = append(dst, `{"type":"thinking","thinking":"","signature":""}}`...)
	}
	e.open = k
	return append(dst, '\n', '\n')
}

// appendBlockStartHead writes the start of a content_block_start event for
// a new block, up to its content_block value.
func (e *StreamEncoder) appendBlockStartHead(dst []byte) []byte {
	e.openIndex = e.next
	e.next++
	dst = append(dst, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(e.openIndex), 10)
	return append(dst, `,"content_block":`...)
}

// appendDeltaHead writes the start of a content_block_delta event for the
// open block, up to its delta value.
func (e *StreamEncoder) appendDeltaHead(dst []byte) []byte {
	dst = append(dst, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(e.openIndex), 10)
	return append(dst, `,"delta":`...)
}

// appendBlockDelta writes a delta {"type":typ, field:s} for the open block.
func (e *StreamEncoder) appendBlockDelta(dst []byte, typ, field, s string) []byte {
	dst = e.appendDeltaHead(dst)
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","`...)
	dst = append(dst, field...)
	dst = append(dst, `":`...)
	dst = jsonw.AppendString(dst, s)
	return append(dst, "}}\n\n"...)
}

// closeOpen writes content_block_stop for the open block, if any.
func (e *StreamEncoder) closeOpen(dst []byte) []byte {
	if e.open == kindNone {
		return dst
	}
	if e.open == kindTool {
		e.tools[e.openTool].state = toolClosed
	}
	e.open, e.signed, e.wroteText = kindNone, false, false
	dst = append(dst, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(e.openIndex), 10)
	return append(dst, "}\n\n"...)
}

func (e *StreamEncoder) appendMessageStart(dst []byte, c *llm.Chunk) []byte {
	e.started = true
	id := c.ID
	if id == "" {
		id = newID("msg_")
	}
	model := e.model
	if model == "" {
		model = c.Model
	}
	if c.Usage != nil {
		e.usage = *c.Usage
	}
	dst = append(dst, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"...)
	dst = jsonw.AppendString(dst, id)
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = jsonw.AppendString(dst, model)
	dst = append(dst, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{`...)
	dst = appendUsage(dst, &e.usage)
	return append(dst, "}}}\n\n"...)
}

func (e *StreamEncoder) appendMessageDelta(dst []byte) []byte {
	dst = e.flushTools(dst)
	e.deltaSent = true
	finish := e.finish
	if finish == "" && e.calledAny {
		finish = llm.FinishToolCalls
	}
	reason := stopReason(finish, e.stopSeq)
	dst = append(dst, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"...)
	dst = jsonw.AppendString(dst, reason)
	dst = append(dst, `,"stop_sequence":`...)
	if reason == stopSequence {
		dst = jsonw.AppendString(dst, e.stopSeq)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `},"usage":{`...)
	dst = appendUsage(dst, &e.usage)
	return append(dst, "}}\n\n"...)
}

// appendRawEvent re-emits a raw Anthropic block event (see llm.Delta.Raw)
// with its index renumbered: a start opens a block, a delta feeds the open
// raw block, a stop closes it.
func (e *StreamEncoder) appendRawEvent(dst, raw []byte) ([]byte, error) {
	var ev struct {
		Type         string          `json:"type"`
		ContentBlock json.RawMessage `json:"content_block"`
		Delta        json.RawMessage `json:"delta"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return dst, fmt.Errorf("anthropic: stream encoder: raw event: %w", err)
	}
	mark := len(dst)
	var err error
	switch ev.Type {
	case "content_block_start":
		if isNull(ev.ContentBlock) {
			return dst, nil
		}
		dst = e.closeOpen(dst)
		mark = len(dst)
		dst = e.appendBlockStartHead(dst)
		dst, err = jsonw.AppendCompact(dst, ev.ContentBlock)
		e.open = kindOpaque
	case "content_block_delta":
		if e.open != kindOpaque || isNull(ev.Delta) {
			return dst, nil
		}
		dst = e.appendDeltaHead(dst)
		dst, err = jsonw.AppendCompact(dst, ev.Delta)
	case "content_block_stop":
		if e.open == kindOpaque {
			dst = e.closeOpen(dst)
		}
		return dst, nil
	default:
		return dst, nil
	}
	if err != nil {
		return dst[:mark], fmt.Errorf("anthropic: stream encoder: raw event: %w", err)
	}
	return append(dst, "}\n\n"...), nil
}
