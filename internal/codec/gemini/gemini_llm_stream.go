package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

// maxCandidates bounds the candidate indexes a stream may use (Gemini
// allows at most 8), so a corrupt stream cannot make the decoder allocate.
const maxCandidates = 64

// StreamDecoder converts the events of streamGenerateContent?alt=sse into
// canonical chunks. It implements provider.EventDecoder and
// provider.Finisher (the adapter checks so at compile time; the codec does
// not import the provider package). A StreamDecoder serves one stream and is not safe for
// concurrent use; the chunk Decode returns is reused by the next call.
//
// Each Gemini event is a whole GenerateContentResponse holding the next
// fragment of every candidate, and there is no end event: the stream ends
// when the connection closes, so Finish tells a complete answer (every
// candidate reported a finishReason) from a truncated one.
//
// Text and thought text are incremental. A function call arrives whole in
// one event and becomes one ToolCallDelta carrying ID, Name and the whole
// Arguments. Gemini repeats usageMetadata, cumulative, on many events; the
// decoder reports Usage exactly once: on the event where the last
// unfinished candidate finishes, if that event carries usage, or else on the
// first later event that does. Earlier, partial counts are never reported.
type StreamDecoder struct {
	provider string
	started  bool
	id       string
	model    string
	created  int64
	cands    []candState
	usage    llm.Usage
	usageOut bool // Usage was reported
	chunk    llm.Chunk
	deltas   []llm.Delta
	args     bytes.Buffer
	// ev, in and dec decode events with one reused json.Decoder, whose
	// scanner and buffers then outlive the event (json.Unmarshal would
	// allocate them for every event).
	ev  generateResponse
	in  eventReader
	dec *json.Decoder
	fed int64 // bytes given to dec; data is trimmed, so a lone value ends there
}

// eventReader feeds one event's data to the reused json.Decoder.
type eventReader struct{ b []byte }

func (r *eventReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// unmarshal decodes one event's JSON value into d.ev, which it clears
// first (the decoder fills reused slice elements without zeroing them).
func (d *StreamDecoder) unmarshal(data []byte) error {
	cands := d.ev.Candidates
	clear(cands[:cap(cands)])
	d.ev = generateResponse{Candidates: cands[:0]}
	d.in.b = data
	if d.dec == nil {
		d.dec = json.NewDecoder(&d.in)
		d.fed = 0
	}
	if err := d.dec.Decode(&d.ev); err != nil {
		d.dec = nil // a decoder that failed stays failed
		return err
	}
	// One event holds one value: anything after it is corrupt.
	d.fed += int64(len(data))
	if d.dec.InputOffset() != d.fed {
		d.dec = nil
		return fmt.Errorf("gemini: data after the JSON value")
	}
	return nil
}

// candState is what the decoder remembers of one candidate.
type candState struct {
	seen     bool
	roleSent bool
	finished bool
	calls    int // function calls so far, the next ToolCallDelta.Index
}

// NewStreamDecoder returns a decoder for one stream from the named provider.
func NewStreamDecoder(provider string) *StreamDecoder {
	return &StreamDecoder{provider: provider}
}

// Decode converts one event. It returns a nil chunk for events that carry
// nothing new, never done=true (Gemini has no end event), and an
// *llm.Error for an {"error":…} event, a blocked prompt or an event that is
// not valid JSON.
func (d *StreamDecoder) Decode(ev *sse.Event) (*llm.Chunk, bool, error) {
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 || string(data) == "[DONE]" {
		return nil, false, nil
	}
	gr := &d.ev
	if err := d.unmarshal(data); err != nil {
		return nil, false, invalidResponse(d.provider, fmt.Errorf("gemini: decode stream event: %w", err))
	}
	if gr.Error != nil {
		return nil, false, decodeAPIError(d.provider, 0, gr.Error)
	}
	if len(gr.Candidates) == 0 && gr.UsageMetadata == nil && gr.PromptFeedback == nil {
		return nil, false, nil // nothing to report, not even an ID
	}
	if !d.started {
		d.started = true
		d.id = gr.ResponseID
		if d.id == "" {
			d.id = newID()
		}
		d.created = now().Unix()
	}
	if gr.ModelVersion != "" {
		d.model = gr.ModelVersion
	}
	if len(gr.Candidates) == 0 && gr.PromptFeedback != nil && gr.PromptFeedback.BlockReason != "" {
		return nil, false, promptBlocked(d.provider, gr.PromptFeedback.BlockReason)
	}
	d.deltas = d.deltas[:0]
	for i := range gr.Candidates {
		if err := d.candidate(&gr.Candidates[i]); err != nil {
			return nil, false, err
		}
	}
	c := &d.chunk
	*c = llm.Chunk{ID: d.id, Model: d.model, Created: d.created, Deltas: d.deltas}
	if gr.UsageMetadata != nil && !d.usageOut && d.finished() {
		d.usage = usage(gr.UsageMetadata)
		d.usageOut = true
		c.Usage = &d.usage
	}
	if len(c.Deltas) == 0 && c.Usage == nil {
		return nil, false, nil
	}
	return c, false, nil
}

// candidate appends the delta for one candidate's fragment, if it has any.
func (d *StreamDecoder) candidate(gc *candidate) error {
	idx := gc.Index
	if idx < 0 || idx >= maxCandidates {
		return invalidResponse(d.provider, fmt.Errorf("gemini: candidate index %d out of range", idx))
	}
	for len(d.cands) <= idx {
		d.cands = append(d.cands, candState{})
	}
	cs := &d.cands[idx]
	cs.seen = true
	n := len(d.deltas)
	if cap(d.deltas) > n {
		// Reuse the delta (and its ToolCalls array) from an earlier event.
		d.deltas = d.deltas[:n+1]
		tcs := d.deltas[n].ToolCalls[:0]
		d.deltas[n] = llm.Delta{ToolCalls: tcs}
	} else {
		d.deltas = append(d.deltas, llm.Delta{})
	}
	dl := &d.deltas[n]
	dl.Index = idx
	for j := range gc.Content.Parts {
		p := &gc.Content.Parts[j]
		switch {
		case p.FunctionCall != nil:
			dl.ToolCalls = append(dl.ToolCalls, llm.ToolCallDelta{
				Index: cs.calls,
				ID:    makeCallID(d.id, idx, cs.calls, p.FunctionCall.ID, p.ThoughtSignature),
				Type:  "function", Name: p.FunctionCall.Name,
				Arguments: compactArgs(&d.args, p.FunctionCall.Args),
			})
			cs.calls++
		case p.Thought:
			dl.Reasoning += p.Text
			if p.ThoughtSignature != "" {
				dl.ReasoningSignature = p.ThoughtSignature
			}
		default:
			// Text. Inline media (image output) has no place in a
			// canonical delta and is not streamed.
			dl.Text += p.Text
		}
	}
	if gc.FinishReason != "" && !cs.finished {
		dl.FinishReason = finishReason(gc.FinishReason, cs.calls > 0)
		cs.finished = true
	}
	if gc.LogprobsResult != nil {
		dl.Logprobs = encodeLogprobs(gc.LogprobsResult)
	}
	if dl.Text == "" && dl.Reasoning == "" && dl.ReasoningSignature == "" && len(dl.ToolCalls) == 0 &&
		dl.FinishReason == "" && dl.Logprobs == nil {
		if cs.roleSent {
			d.deltas = d.deltas[:n]
			return nil
		}
	}
	if !cs.roleSent {
		dl.Role = llm.RoleAssistant
		cs.roleSent = true
	}
	return nil
}

// finished reports whether every candidate seen so far has finished.
func (d *StreamDecoder) finished() bool {
	some := false
	for i := range d.cands {
		if d.cands[i].seen {
			if !d.cands[i].finished {
				return false
			}
			some = true
		}
	}
	return some
}

// Finish reports, at the end of the stream, whether the answer was
// complete: nil once every candidate has sent its finishReason, otherwise a
// 502 *llm.Error with code "stream_truncated".
func (d *StreamDecoder) Finish() error {
	if d.finished() {
		return nil
	}
	return &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "stream_truncated",
		Message:  "the provider ended the stream before it was complete",
		Provider: d.provider, Fault: llm.FaultProvider, Err: io.ErrUnexpectedEOF}
}
