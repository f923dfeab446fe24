package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/sse"
)

// StreamDecoder turns an upstream's chat.completion.chunk events into
// canonical chunks; it is a provider.EventDecoder. "data: [DONE]" ends the
// stream; an error object (data: {"error":{…}}, or an "error" event) ends it
// with an *llm.Error. Every error it returns is an *llm.Error.
//
// The Chunk returned by Decode, and everything it points to, is reused by
// the next call. A StreamDecoder holds the state of one stream and is used
// by one goroutine.
type StreamDecoder struct {
	provider string
	// id, model and fingerprint repeat in every event: kept as strings that
	// are only replaced when the upstream's value changes.
	id, model, fingerprint, tier sticky
	w                            streamWire
	// src and dec decode every event with one json.Decoder, which keeps
	// its scanner and error-path buffers from event to event (json.Unmarshal
	// allocates them afresh each time).
	src   bytes.Reader
	dec   *json.Decoder
	chunk llm.Chunk
	usage llm.Usage
	tools []llm.ToolCallDelta
	// calls tracks, per choice, the tool call being streamed, to number
	// fragments that come without an index.
	calls []callTrack
}

// maxTrackedChoices bounds the per-choice state an upstream can make the
// decoder keep.
const maxTrackedChoices = 128

// callTrack is the state of one choice's streamed tool calls.
type callTrack struct {
	cur, next int    // index of the open call; how many calls have started
	curID     string // id of the open call
	open      bool
}

// index returns a fragment's tool-call index: the one it carries, or, for
// servers that omit it, the open call's (a fragment without an id, or
// with the open call's id) or the next one (a new id starts a new call).
func (d *StreamDecoder) index(choice int, tw *toolDeltaWire) int {
	if choice < 0 || choice >= maxTrackedChoices {
		// No real answer has this many choices; do not grow state for it.
		if tw.Index != nil {
			return *tw.Index
		}
		return 0
	}
	for len(d.calls) <= choice {
		d.calls = append(d.calls, callTrack{})
	}
	ct := &d.calls[choice]
	var i int
	switch {
	case tw.Index != nil:
		i = *tw.Index
	case ct.open && (tw.ID == "" || tw.ID == ct.curID):
		i = ct.cur
	default:
		i = ct.next
	}
	if i != ct.cur || !ct.open || tw.ID != "" {
		ct.cur, ct.open = i, true
		if tw.ID != "" {
			ct.curID = tw.ID
		}
	}
	if i >= ct.next {
		ct.next = i + 1
	}
	return i
}

var _ provider.EventDecoder = (*StreamDecoder)(nil)

// NewStreamDecoder returns a decoder for one stream from the named provider.
func NewStreamDecoder(provider string) *StreamDecoder {
	return &StreamDecoder{provider: provider}
}

// streamWire is one chat.completion.chunk. Its choices are reused from
// event to event (cleared first: encoding/json does not zero the elements
// of a slice it decodes into).
type streamWire struct {
	ID                *sticky            `json:"id"`
	Model             *sticky            `json:"model"`
	SystemFingerprint *sticky            `json:"system_fingerprint"`
	ServiceTier       *sticky            `json:"service_tier"`
	Created           unixTime           `json:"created"`
	Choices           []streamChoiceWire `json:"choices"`
	Usage             *usageWire         `json:"usage"`
	XGroq             *xGroqWire         `json:"x_groq"`
	Error             *wireError         `json:"error"`
}

type streamChoiceWire struct {
	Index        int             `json:"index"`
	Delta        respMessageWire `json:"delta"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     rawJSON         `json:"logprobs"`
}

// sticky is a string field decoded without allocating when it holds the
// same text as last time.
type sticky struct{ s string }

func (t *sticky) UnmarshalJSON(b []byte) error {
	switch {
	case b[0] == 'n':
		t.s = ""
		return nil
	case b[0] != '"':
		return typeError(b, reflectString)
	case string(b[1:len(b)-1]) == t.s:
		return nil
	}
	s, err := jsonw.Unquote(b)
	t.s = s
	return err
}

// Decode implements provider.EventDecoder.
func (d *StreamDecoder) Decode(ev *sse.Event) (*llm.Chunk, bool, error) {
	data := jsonw.TrimSpace(ev.Data)
	if string(ev.Type) == "error" {
		we, ok := parseErrorBody(data)
		if !ok {
			we.Message = "the provider reported an error in the stream"
		}
		return nil, false, streamError(d.provider, we)
	}
	if len(data) == 0 {
		return nil, false, nil
	}
	if string(data) == "[DONE]" {
		return nil, true, nil
	}
	choices := d.w.Choices[:cap(d.w.Choices)]
	clear(choices)
	d.w = streamWire{ID: &d.id, Model: &d.model, SystemFingerprint: &d.fingerprint,
		ServiceTier: &d.tier, Choices: choices[:0]}
	if err := d.unmarshal(data); err != nil {
		d.dec = nil // its buffer may hold the rest of the bad event
		return nil, false, &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI,
			Code: "invalid_stream_event", Message: "the provider sent a stream event the gateway could not read",
			Provider: d.provider, Fault: llm.FaultProvider, Err: fmt.Errorf("openai: decode stream event: %w", err)}
	}
	w := &d.w
	if w.Error != nil && (w.Error.Message != "" || w.Error.Code != "" || w.Error.Type != "") {
		return nil, false, streamError(d.provider, *w.Error)
	}
	c := &d.chunk
	c.ID, c.Model, c.Created = d.id.s, d.model.s, int64(w.Created)
	c.SystemFingerprint, c.ServiceTier = d.fingerprint.s, d.tier.s
	c.Deltas, c.Usage = c.Deltas[:0], nil
	d.tools = d.tools[:0]
	for i := range w.Choices {
		if delta, ok := d.delta(&w.Choices[i]); ok {
			c.Deltas = append(c.Deltas, delta)
		}
	}
	u := w.Usage
	if u == nil && w.XGroq != nil {
		u = w.XGroq.Usage
	}
	if u != nil {
		d.usage = u.usage()
		c.Usage = &d.usage
	}
	if len(c.Deltas) == 0 && c.Usage == nil {
		return nil, false, nil
	}
	return c, false, nil
}

// unmarshal decodes data, one whole JSON value, into d.w.
func (d *StreamDecoder) unmarshal(data []byte) error {
	d.src.Reset(data)
	if d.dec == nil {
		d.dec = json.NewDecoder(&d.src)
	}
	start := d.dec.InputOffset()
	if err := d.dec.Decode(&d.w); err != nil {
		return err
	}
	if d.dec.InputOffset()-start != int64(len(data)) {
		return errTrailingData
	}
	return nil
}

var errTrailingData = errors.New("openai: data after the JSON value in a stream event")

// delta converts one choice; ok is false when it carries nothing.
func (d *StreamDecoder) delta(cw *streamChoiceWire) (llm.Delta, bool) {
	m := &cw.Delta
	delta := llm.Delta{Index: cw.Index, Role: llm.Role(m.Role), Text: string(m.Content),
		Refusal: string(m.Refusal), Reasoning: reasoningText(m),
		FinishReason: finishReason(cw.FinishReason), Logprobs: json.RawMessage(cw.Logprobs)}
	if len(m.ToolCalls) > 0 {
		start := len(d.tools)
		for i := range m.ToolCalls {
			tw := &m.ToolCalls[i]
			t := llm.ToolCallDelta{Index: d.index(cw.Index, tw), ID: tw.ID, Type: tw.Type}
			switch {
			case tw.Function != nil:
				t.Name, t.Arguments = tw.Function.Name, string(tw.Function.Arguments)
			case tw.Custom != nil:
				t.Name, t.Arguments = tw.Custom.Name, tw.Custom.Input
			}
			d.tools = append(d.tools, t)
		}
		delta.ToolCalls = d.tools[start:len(d.tools):len(d.tools)]
	}
	ok := delta.Role != "" || delta.Text != "" || delta.Refusal != "" || delta.Reasoning != "" ||
		len(delta.ToolCalls) > 0 || delta.FinishReason != "" || len(delta.Logprobs) > 0
	return delta, ok
}
