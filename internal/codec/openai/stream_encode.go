package openai

import (
	"errors"
	"time"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// StreamEncoder writes canonical chunks as OpenAI chat.completion.chunk
// events, the way OpenAI's own streams look: every event repeats the id,
// created, model (and system_fingerprint, service_tier) first seen, each
// Delta is one element of choices, finish_reason and logprobs are null
// until set.
//
// An upstream that gives no created time gets the time of the first event.
//
// Usage is held back and written once, as the chunk with "choices":[] that
// OpenAI sends last, by AppendDone — and only when the client asked for it
// (stream_options.include_usage). Upstreams that report usage more than
// once (Anthropic) thus still give the client exactly one usage chunk, with
// the latest counts. A StreamEncoder serves one stream, from one goroutine.
type StreamEncoder struct {
	includeUsage bool
	id, model    string
	fingerprint  string
	tier         string
	created      int64
	// head caches `data: {"id":…,"choices":[`, rebuilt when a carried
	// field changes.
	head      []byte
	usage     llm.Usage
	haveUsage bool
	// custom lists the (choice, tool call) indexes of custom tool calls, whose
	// later fragments must be written as custom too.
	custom [][2]int
}

// NewStreamEncoder returns an encoder for one stream. includeUsage is the
// client's stream_options.include_usage.
func NewStreamEncoder(includeUsage bool) *StreamEncoder {
	return &StreamEncoder{includeUsage: includeUsage}
}

// now is the clock for created timestamps the upstream did not give.
var now = time.Now

var errNilChunk = errors.New("openai: nil stream chunk")

// AppendChunk appends the event for c to dst: one event when c has deltas,
// none when it only reports usage (see StreamEncoder for where usage goes)
// or only carries items of another wire format (Delta.Raw) or signatures,
// which OpenAI's stream has no place for.
func (e *StreamEncoder) AppendChunk(dst []byte, c *llm.Chunk) ([]byte, error) {
	if c == nil {
		return dst, errNilChunk
	}
	e.carry(c)
	if c.Usage != nil {
		e.usage, e.haveUsage = *c.Usage, true
	}
	n := 0
	for i := range c.Deltas {
		d := &c.Deltas[i]
		if rawOnly(d) {
			continue // an item of another wire format: nothing to show
		}
		if n == 0 {
			dst = append(dst, e.header()...)
		} else {
			dst = append(dst, ',')
		}
		n++
		dst = e.appendDelta(dst, d)
	}
	if n == 0 {
		return dst, nil
	}
	return append(dst, "]}\n\n"...), nil
}

// rawOnly reports whether d carries nothing but a Raw item of another wire
// format (or nothing at all).
func rawOnly(d *llm.Delta) bool {
	return d.Role == "" && d.Text == "" && d.Reasoning == "" && d.Refusal == "" &&
		len(d.ToolCalls) == 0 && d.FinishReason == "" && len(d.Logprobs) == 0
}

// AppendDone appends the usage chunk, when the client asked for usage and
// the upstream reported it, then "data: [DONE]".
func (e *StreamEncoder) AppendDone(dst []byte) []byte {
	if e.includeUsage && e.haveUsage {
		dst = append(dst, e.header()...)
		dst = append(dst, `],"usage":`...)
		dst = appendUsage(dst, &e.usage, false)
		dst = append(dst, "}\n\n"...)
	}
	return append(dst, "data: [DONE]\n\n"...)
}

// carry records the fields every event repeats.
func (e *StreamEncoder) carry(c *llm.Chunk) {
	if c.ID != "" && c.ID != e.id {
		e.id, e.head = c.ID, e.head[:0]
	}
	if c.Model != "" && c.Model != e.model {
		e.model, e.head = c.Model, e.head[:0]
	}
	if c.Created != 0 && c.Created != e.created {
		e.created, e.head = c.Created, e.head[:0]
	}
	if c.SystemFingerprint != "" && c.SystemFingerprint != e.fingerprint {
		e.fingerprint, e.head = c.SystemFingerprint, e.head[:0]
	}
	if c.ServiceTier != "" && c.ServiceTier != e.tier {
		e.tier, e.head = c.ServiceTier, e.head[:0]
	}
}

func (e *StreamEncoder) header() []byte {
	if len(e.head) > 0 {
		return e.head
	}
	if e.created == 0 {
		e.created = now().Unix() // an upstream without timestamps
	}
	h := append(e.head[:0], `data: {"id":`...)
	h = jsonw.AppendString(h, e.id)
	h = append(h, `,"object":"chat.completion.chunk","created":`...)
	h = jsonw.AppendInt(h, e.created)
	h = append(h, `,"model":`...)
	h = jsonw.AppendString(h, e.model)
	if e.tier != "" {
		h = append(h, `,"service_tier":`...)
		h = jsonw.AppendString(h, e.tier)
	}
	if e.fingerprint != "" {
		h = append(h, `,"system_fingerprint":`...)
		h = jsonw.AppendString(h, e.fingerprint)
	}
	h = append(h, `,"choices":[`...)
	e.head = h
	return h
}

func (e *StreamEncoder) appendDelta(dst []byte, d *llm.Delta) []byte {
	dst = append(dst, `{"index":`...)
	dst = jsonw.AppendInt(dst, int64(d.Index))
	dst = append(dst, `,"delta":{`...)
	if d.Role != "" {
		// The first delta of a choice, as OpenAI sends it: role, content
		// (possibly empty) and refusal (null unless set).
		dst = jsonw.AppendKey(dst, "role")
		dst = jsonw.AppendString(dst, string(d.Role))
		dst = jsonw.AppendKey(dst, "content")
		dst = jsonw.AppendString(dst, d.Text)
		if d.Reasoning != "" {
			dst = jsonw.AppendKey(dst, "reasoning_content")
			dst = jsonw.AppendString(dst, d.Reasoning)
		}
		dst = jsonw.AppendKey(dst, "refusal")
		dst = jsonw.AppendStringOrNull(dst, d.Refusal)
	} else {
		if d.Text != "" {
			dst = jsonw.AppendKey(dst, "content")
			dst = jsonw.AppendString(dst, d.Text)
		}
		if d.Reasoning != "" {
			dst = jsonw.AppendKey(dst, "reasoning_content")
			dst = jsonw.AppendString(dst, d.Reasoning)
		}
		if d.Refusal != "" {
			dst = jsonw.AppendKey(dst, "refusal")
			dst = jsonw.AppendString(dst, d.Refusal)
		}
	}
	if len(d.ToolCalls) > 0 {
		dst = jsonw.AppendKey(dst, "tool_calls")
		dst = append(dst, '[')
		for i := range d.ToolCalls {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.appendToolDelta(dst, d.Index, &d.ToolCalls[i])
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `},"logprobs":`...)
	dst = jsonw.AppendRaw(dst, d.Logprobs)
	dst = append(dst, `,"finish_reason":`...)
	dst = jsonw.AppendStringOrNull(dst, string(d.FinishReason))
	return append(dst, '}')
}

// appendToolDelta writes a tool-call fragment: the first (with an ID or a
// name) carries id, type, name and arguments, later ones only arguments.
func (e *StreamEncoder) appendToolDelta(dst []byte, choice int, t *llm.ToolCallDelta) []byte {
	dst = append(dst, `{"index":`...)
	dst = jsonw.AppendInt(dst, int64(t.Index))
	first := t.ID != "" || t.Name != ""
	custom := t.Type == "custom"
	if first && custom {
		e.custom = append(e.custom, [2]int{choice, t.Index})
	} else if !first {
		for _, k := range e.custom {
			custom = custom || k == [2]int{choice, t.Index}
		}
	}
	if first {
		dst = append(dst, `,"id":`...)
		dst = jsonw.AppendString(dst, t.ID)
		if custom {
			dst = append(dst, `,"type":"custom","custom":{"name":`...)
		} else {
			dst = append(dst, `,"type":"function","function":{"name":`...)
		}
		dst = jsonw.AppendString(dst, t.Name)
		dst = append(dst, ',')
	} else if custom {
		dst = append(dst, `,"custom":{`...)
	} else {
		dst = append(dst, `,"function":{`...)
	}
	if custom {
		dst = append(dst, `"input":`...)
	} else {
		dst = append(dst, `"arguments":`...)
	}
	dst = jsonw.AppendString(dst, t.Arguments)
	return append(dst, "}}"...)
}
