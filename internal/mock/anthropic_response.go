package mock

import (
	"net/http"

	"github.com/sluicehq/sluice/internal/jsonw"
)

// anthropicMessages answers POST /v1/messages.
func (x *exchange) anthropicMessages() {
	c, param, msg := anthropicConvo(x.body)
	if msg != "" {
		x.fail(http.StatusBadRequest, "", param, msg)
		return
	}
	x.s.models.add(c.model)
	a := x.decide(&c)
	x.cacheExplicit(&c, &a)
	if c.stream {
		x.anthropicStream(&c, &a)
		return
	}
	b := getBuf()
	defer putBuf(b)
	buf := x.appendAnthropicHead(*b, c.model)
	buf = append(buf, '[')
	switch {
	case a.finish == finishFilter: // no content at all
	case a.toolName != "":
		buf = x.appendToolUse(buf, &a, true)
	default:
		buf = append(buf, `{"type":"text","text":`...)
		buf = jsonw.AppendString(buf, a.text)
		buf = append(buf, '}')
	}
	buf = append(buf, `],"stop_reason":`...)
	buf = jsonw.AppendString(buf, anthropicStop(a.finish))
	buf = append(buf, `,"stop_sequence":null,"usage":`...)
	buf = appendAnthropicUsage(buf, &a, a.completionTokens, true)
	*b = append(buf, '}')
	writeJSON(x.w, http.StatusOK, *b, x.drop)
}

// anthropicStream streams an answer with Anthropic's event sequence:
// message_start, content_block_start, ping, content_block_delta ×N,
// content_block_stop, message_delta (stop reason and output tokens, and
// the input and cache tokens again when the request used cache_control)
// and message_stop.
func (x *exchange) anthropicStream(c *convo, a *answer) {
	var frags []string
	if a.toolName != "" {
		frags = pieces(a.toolArgs, max(x.s.chunks, 2))
	} else {
		frags = pieces(a.text, x.s.chunks)
	}
	sw := x.stream(false, 3+(len(frags)+1)/2)
	defer sw.close()

	b := append(sw.begin("message_start"), `{"type":"message_start","message":`...)
	b = x.appendAnthropicHead(b, c.model)
	b = append(b, `[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	b = appendAnthropicUsage(b, a, 1, true)
	sw.send(append(b, "}}"...))

	if a.finish != finishFilter { // a filtered answer has no content block
		x.anthropicBlock(sw, a, frags)
	}

	b = append(sw.begin("message_delta"), `{"type":"message_delta","delta":{"stop_reason":`...)
	b = jsonw.AppendString(b, anthropicStop(a.finish))
	b = append(b, `,"stop_sequence":null},"usage":`...)
	if c.cacheControl {
		b = appendAnthropicUsage(b, a, a.completionTokens, false)
	} else {
		b = append(b, `{"output_tokens":`...)
		b = jsonw.AppendInt(b, int64(a.completionTokens))
		b = append(b, '}')
	}
	sw.send(append(b, '}'))
	sw.send(append(sw.begin("message_stop"), `{"type":"message_stop"}`...))
}

// anthropicBlock streams the answer's one content block: its start, a
// ping, the fragments and its stop.
func (x *exchange) anthropicBlock(sw *streamWriter, a *answer, frags []string) {
	b := append(sw.begin("content_block_start"), `{"type":"content_block_start","index":0,"content_block":`...)
	if a.toolName != "" {
		b = x.appendToolUse(b, a, false)
	} else {
		b = append(b, `{"type":"text","text":""}`...)
	}
	sw.send(append(b, '}'))
	sw.send(append(sw.begin("ping"), `{"type":"ping"}`...))

	for _, f := range frags {
		b = append(sw.begin("content_block_delta"), `{"type":"content_block_delta","index":0,"delta":`...)
		if a.toolName != "" {
			b = append(b, `{"type":"input_json_delta","partial_json":`...)
		} else {
			b = append(b, `{"type":"text_delta","text":`...)
		}
		b = jsonw.AppendString(b, f)
		sw.send(append(b, "}}"...))
	}
	sw.send(append(sw.begin("content_block_stop"), `{"type":"content_block_stop","index":0}`...))
}

// appendAnthropicHead appends a message object up to its content array,
// which the caller continues.
func (x *exchange) appendAnthropicHead(b []byte, model string) []byte {
	b = append(b, `{"id":`...)
	b = appendID(b, "msg_mock_", x.seq)
	b = append(b, `,"type":"message","role":"assistant","model":`...)
	b = jsonw.AppendString(b, model)
	return append(b, `,"content":`...)
}

// appendToolUse appends a tool_use block; its input is the whole arguments
// object, or {} at the start of a stream.
func (x *exchange) appendToolUse(b []byte, a *answer, whole bool) []byte {
	b = append(b, `{"type":"tool_use","id":`...)
	b = appendID(b, "toolu_mock_", x.seq)
	b = append(b, `,"name":`...)
	b = jsonw.AppendString(b, a.toolName)
	b = append(b, `,"input":`...)
	if whole {
		b = append(b, a.toolArgs...)
	} else {
		b = append(b, "{}"...)
	}
	return append(b, '}')
}

// appendAnthropicUsage appends an Anthropic usage object with out output
// tokens and a's prompt tokens split, as Anthropic does, into input_tokens
// (not cached), cache_creation_input_tokens and cache_read_input_tokens.
// tier adds service_tier, which message_delta's usage does not carry.
func appendAnthropicUsage(b []byte, a *answer, out int, tier bool) []byte {
	b = append(b, `{"input_tokens":`...)
	b = jsonw.AppendInt(b, int64(a.promptTokens-a.cacheRead-a.cacheWrite))
	b = append(b, `,"cache_creation_input_tokens":`...)
	b = jsonw.AppendInt(b, int64(a.cacheWrite))
	b = append(b, `,"cache_read_input_tokens":`...)
	b = jsonw.AppendInt(b, int64(a.cacheRead))
	b = append(b, `,"output_tokens":`...)
	b = jsonw.AppendInt(b, int64(out))
	if tier {
		b = append(b, `,"service_tier":"standard"`...)
	}
	return append(b, '}')
}

func anthropicStop(f finish) string {
	switch f {
	case finishLength:
		return "max_tokens"
	case finishTool:
		return "tool_use"
	case finishFilter:
		return "refusal"
	}
	return "end_turn"
}
