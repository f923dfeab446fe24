package cache

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/llm"
)

// ReplayPiece is the most bytes of text, reasoning or refusal that one
// chunk made by Replay carries.
const ReplayPiece = 512

// Replay returns a stream that plays a whole answer as chunks: a first
// chunk with each choice's role; then, choice by choice and part by part
// in order, its reasoning (then the part's signature), text and refusal
// in pieces of at most ReplayPiece bytes (cut on rune boundaries), each
// redacted reasoning whole, its tool calls (one delta per call: index, id,
// type, name, whole arguments); a last delta per choice with the finish
// reason, stop sequence and the choice's logprobs; and a final chunk
// carrying only resp.Usage (when not zero). Every chunk carries resp's
// ID, Model, Created, SystemFingerprint and ServiceTier.
//
// A text part's citations (Part.Citations, a JSON array) are sent before
// its text, one Delta.Citation per element, as Anthropic streams them.
// Parts a stream cannot carry are left out: media, tool results, opaque
// parts, and Part.Raw and CacheControl of the others.
//
// Chunks are new for each Recv: a consumer may keep them. Their strings
// are shared with resp and their JSON bytes copied; resp is only read, but
// must not change while the stream is read. Close is a no-op; Recv after
// the end returns io.EOF. A nil resp gives a stream that only ends.
func Replay(resp *llm.Response) llm.Stream {
	s := &replayStream{resp: resp}
	if resp == nil {
		s.phase = phaseDone
	}
	return s
}

// replayPhase is where a replayStream is in its answer.
type replayPhase uint8

const (
	phaseRoles replayPhase = iota
	phaseContent
	phaseUsage
	phaseDone
)

// replayStream makes Replay's chunks one at a time: ci, pi and off locate
// the next piece (choice, part, byte offset in the part's text).
type replayStream struct {
	resp  *llm.Response
	phase replayPhase
	ci    int
	pi    int
	off   int
	// calls counts the tool calls sent in the current choice.
	calls int
	// inPart is set once the current part's citations were split; once
	// is set once its one whole delta (signature, redacted data, tool
	// call) was sent.
	inPart bool
	once   bool
	cites  []json.RawMessage
}

// oneDeltaChunk lets a chunk and its single delta share an allocation.
type oneDeltaChunk struct {
	c llm.Chunk
	d [1]llm.Delta
}

func (s *replayStream) Recv() (*llm.Chunk, error) {
	r := s.resp
	switch s.phase {
	case phaseRoles:
		s.phase = phaseContent
		c := s.head(&llm.Chunk{})
		c.Deltas = make([]llm.Delta, len(r.Choices))
		for i := range r.Choices {
			c.Deltas[i] = llm.Delta{Index: r.Choices[i].Index, Role: r.Choices[i].Message.Role}
		}
		return c, nil
	case phaseContent:
		if d, ok := s.next(); ok {
			o := &oneDeltaChunk{d: [1]llm.Delta{d}}
			c := s.head(&o.c)
			c.Deltas = o.d[:]
			return c, nil
		}
		s.phase = phaseUsage
		fallthrough
	case phaseUsage:
		s.phase = phaseDone
		if !r.Usage.IsZero() {
			c := s.head(&llm.Chunk{})
			u := r.Usage
			c.Usage = &u
			return c, nil
		}
	}
	return nil, io.EOF
}

// Close does nothing: a replay holds no resources.
func (s *replayStream) Close() error { return nil }

// head fills c's response-level fields and returns it.
func (s *replayStream) head(c *llm.Chunk) *llm.Chunk {
	r := s.resp
	c.ID, c.Model, c.Created = r.ID, r.Model, r.Created
	c.SystemFingerprint, c.ServiceTier = r.SystemFingerprint, r.ServiceTier
	return c
}

// next returns the next content or finish delta, false after the last.
func (s *replayStream) next() (llm.Delta, bool) {
	choices := s.resp.Choices
	for s.ci < len(choices) {
		ch := &choices[s.ci]
		if s.pi >= len(ch.Message.Parts) {
			d := llm.Delta{Index: ch.Index, FinishReason: ch.FinishReason,
				StopSequence: ch.StopSequence, Logprobs: bytes.Clone(ch.Logprobs)}
			s.ci, s.pi, s.calls = s.ci+1, 0, 0
			s.resetPart()
			return d, true
		}
		if d, ok := s.fromPart(ch.Index, &ch.Message.Parts[s.pi]); ok {
			return d, true
		}
		s.pi++
		s.resetPart()
	}
	return llm.Delta{}, false
}

func (s *replayStream) resetPart() {
	s.off, s.inPart, s.once, s.cites = 0, false, false, nil
}

// fromPart returns the next delta of part p of choice index, false when
// the part has been sent whole.
func (s *replayStream) fromPart(index int, p *llm.Part) (d llm.Delta, ok bool) {
	d.Index = index
	switch p.Kind {
	case llm.PartText:
		if !s.inPart {
			s.cites, s.inPart = splitJSONArray(p.Citations), true
		}
		if len(s.cites) > 0 {
			d.Citation, d.CitationFormat = s.cites[0], p.CitationsFormat
			s.cites = s.cites[1:]
			return d, true
		}
		d.Text, ok = s.piece(p.Text)
	case llm.PartReasoning:
		if d.Reasoning, ok = s.piece(p.Text); !ok && p.Signature != "" && !s.once {
			d.ReasoningSignature, s.once, ok = p.Signature, true, true
		}
	case llm.PartRedacted:
		if p.Signature != "" && !s.once {
			d.RedactedReasoning, s.once, ok = p.Signature, true, true
		}
	case llm.PartRefusal:
		d.Refusal, ok = s.piece(p.Text)
	case llm.PartToolCall:
		if tc := p.ToolCall; tc != nil && !s.once {
			d.ToolCalls = []llm.ToolCallDelta{{Index: s.calls, ID: tc.ID, Type: tc.Type,
				Name: tc.Name, Arguments: tc.Arguments}}
			s.calls++
			s.once, ok = true, true
		}
	}
	return d, ok
}

// piece returns the next piece of str, at most ReplayPiece bytes ending on
// a rune boundary (unless str is not UTF-8 there), false at its end.
func (s *replayStream) piece(str string) (string, bool) {
	start := s.off
	if start >= len(str) {
		return "", false
	}
	end := start + ReplayPiece
	if end >= len(str) {
		end = len(str)
	} else {
		for e := end; e > end-utf8.UTFMax && e > start; e-- {
			if utf8.RuneStart(str[e]) {
				end = e
				break
			}
		}
	}
	s.off = end
	return str[start:end], true
}

// splitJSONArray returns the elements of a JSON array (copies), raw itself
// (copied) when it is not an array, nil when raw is nil, null or empty.
func splitJSONArray(raw json.RawMessage) []json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return []json.RawMessage{bytes.Clone(raw)}
	}
	return elems
}

// CloneChunk deep-copies a chunk: its deltas, their tool calls and JSON
// bytes, and its usage (strings are immutable and shared). Nil gives nil.
func CloneChunk(c *llm.Chunk) *llm.Chunk {
	if c == nil {
		return nil
	}
	var out *llm.Chunk
	if len(c.Deltas) == 1 { // the usual chunk: one allocation
		o := &oneDeltaChunk{c: *c, d: [1]llm.Delta{c.Deltas[0]}}
		out, o.c.Deltas = &o.c, o.d[:]
	} else {
		cp := *c
		out, cp.Deltas = &cp, slices.Clone(c.Deltas)
	}
	for i := range out.Deltas {
		d := &out.Deltas[i]
		d.ToolCalls = slices.Clone(d.ToolCalls)
		d.Logprobs, d.Citation, d.Raw = bytes.Clone(d.Logprobs), bytes.Clone(d.Citation), bytes.Clone(d.Raw)
	}
	if c.Usage != nil {
		u := *c.Usage
		out.Usage = &u
	}
	return out
}

// Collector assembles a streamed answer into a whole one, for storing. Add
// every chunk in order, then call Response. It stops collecting (Add
// returns false from then on, and Response fails) once the answer is
// bigger than maxBytes, or holds what a Response cannot say:
//
//   - a Delta.Raw: a wire-format stream event that only its own format's
//     converter can re-emit, and no canonical part can hold;
//   - a Delta.Citation: a Response keeps citations per text part, but a
//     stream does not mark where one text block ends and the next begins,
//     so the text a citation belongs to is lost;
//   - a Delta.Logprobs that is not an OpenAI logprobs object (an object
//     whose values are arrays or null). Such objects are kept: a choice's
//     fragments are merged by concatenating each field's arrays, which
//     gives the whole answer's object; a single fragment is kept as is;
//   - a choice index below 0 or above MaxChoiceIndex.
//
// The size counted against maxBytes is the bytes kept (text, reasoning,
// refusal, signatures, redacted data, tool-call ids, types, names and
// arguments, stop sequences, logprobs) plus a small fixed charge per
// choice and part, so that a stream of empty deltas cannot grow it
// without bound.
//
// Parts are rebuilt in the order they began: consecutive text fragments
// make one text part, refusal fragments one refusal part, reasoning
// fragments one reasoning part until a signature ends it (a signature with
// no open reasoning part is a reasoning part of its own); each redacted
// reasoning is a part, and so is each tool call (by ToolCallDelta.Index;
// its later fragments append arguments wherever they arrive). The first
// non-empty ID, Model, Created, SystemFingerprint and ServiceTier of the
// chunks are kept, and the last Usage. A choice without a role gets
// RoleAssistant.
//
// A Collector copies what it keeps (chunks may be reused once Add
// returns) and is not safe for concurrent use.
type Collector struct {
	max     int
	size    int
	stopped bool
	head    llm.Response
	choices []*choiceBuilder // sorted by index
}

// MaxChoiceIndex is the highest choice index a Collector accepts (OpenAI
// allows n up to 128).
const MaxChoiceIndex = 127

// Fixed charges counted against a Collector's max for each choice and
// part, so that a stream of empty deltas cannot grow it without bound.
const (
	choiceCharge = 64
	partCharge   = 32
)

// choiceBuilder is one choice being collected.
type choiceBuilder struct {
	index    int
	role     llm.Role
	parts    []partBuilder
	calls    []callSlot
	finish   llm.FinishReason
	stop     string
	logprobs logprobsBuilder
}

// partBuilder is one message part being collected; text holds the text of
// text, reasoning and refusal parts and the arguments of tool calls, sig a
// reasoning signature or redacted data.
type partBuilder struct {
	kind           llm.PartKind
	text           []byte
	sig            string
	id, typ, fname string
}

// callSlot maps a tool call's stream index to its part.
type callSlot struct {
	index, part int
}

// NewCollector returns a collector of answers of at most maxBytes bytes.
func NewCollector(maxBytes int) *Collector {
	return &Collector{max: maxBytes}
}

// Add adds the next chunk of the stream; it reports whether the collector
// is still collecting. A nil chunk is ignored. ch is not kept.
func (c *Collector) Add(ch *llm.Chunk) bool {
	if c.stopped {
		return false
	}
	if ch == nil {
		return true
	}
	c.addHead(ch)
	for i := range ch.Deltas {
		if !c.addDelta(&ch.Deltas[i]) {
			return c.stop()
		}
	}
	if ch.Usage != nil {
		c.head.Usage = *ch.Usage
	}
	if c.size > c.max {
		return c.stop()
	}
	return true
}

// stop ends collecting and drops what was collected; it returns false.
func (c *Collector) stop() bool {
	c.stopped, c.choices = true, nil
	return false
}

func (c *Collector) addHead(ch *llm.Chunk) {
	h := &c.head
	if h.ID == "" {
		h.ID = ch.ID
	}
	if h.Model == "" {
		h.Model = ch.Model
	}
	if h.Created == 0 {
		h.Created = ch.Created
	}
	if h.SystemFingerprint == "" {
		h.SystemFingerprint = ch.SystemFingerprint
	}
	if h.ServiceTier == "" {
		h.ServiceTier = ch.ServiceTier
	}
}

// addDelta adds d's fragments in the order the stream encoders write them;
// false when d holds what a Response cannot say.
func (c *Collector) addDelta(d *llm.Delta) bool {
	if len(d.Raw) > 0 || len(d.Citation) > 0 {
		return false
	}
	cb := c.choice(d.Index)
	if cb == nil {
		return false
	}
	if d.Role != "" {
		cb.role = d.Role
	}
	if d.Reasoning != "" {
		c.fragment(cb, llm.PartReasoning, d.Reasoning)
	}
	if d.ReasoningSignature != "" {
		c.sign(cb, d.ReasoningSignature)
	}
	if d.RedactedReasoning != "" {
		c.newPart(cb, llm.PartRedacted).sig = d.RedactedReasoning
		c.size += len(d.RedactedReasoning)
	}
	if d.Text != "" {
		c.fragment(cb, llm.PartText, d.Text)
	}
	if d.Refusal != "" {
		c.fragment(cb, llm.PartRefusal, d.Refusal)
	}
	for i := range d.ToolCalls {
		c.toolCall(cb, &d.ToolCalls[i])
	}
	if d.FinishReason != "" {
		cb.finish = d.FinishReason
	}
	if d.StopSequence != "" {
		cb.stop = d.StopSequence
		c.size += len(d.StopSequence)
	}
	if len(d.Logprobs) > 0 && !isNullJSON(d.Logprobs) {
		if !cb.logprobs.add(d.Logprobs) {
			return false
		}
		c.size += 2 * len(d.Logprobs) // kept parsed, and whole while alone
	}
	return true
}

// choice returns the builder of choice index, making it if new; nil for an
// index out of range.
func (c *Collector) choice(index int) *choiceBuilder {
	if index < 0 || index > MaxChoiceIndex {
		return nil
	}
	i, found := slices.BinarySearchFunc(c.choices, index, func(cb *choiceBuilder, index int) int {
		return cb.index - index
	})
	if found {
		return c.choices[i]
	}
	cb := &choiceBuilder{index: index}
	c.choices = slices.Insert(c.choices, i, cb)
	c.size += choiceCharge
	return cb
}

// newPart appends a part of kind k to cb and returns it.
func (c *Collector) newPart(cb *choiceBuilder, k llm.PartKind) *partBuilder {
	cb.parts = append(cb.parts, partBuilder{kind: k})
	c.size += partCharge
	return &cb.parts[len(cb.parts)-1]
}

// last returns cb's last part, nil if none.
func (cb *choiceBuilder) last() *partBuilder {
	if len(cb.parts) == 0 {
		return nil
	}
	return &cb.parts[len(cb.parts)-1]
}

// fragment appends s to cb's last part if it is of kind k (and not a
// signed reasoning part), else to a new part.
func (c *Collector) fragment(cb *choiceBuilder, k llm.PartKind, s string) {
	p := cb.last()
	if p == nil || p.kind != k || p.sig != "" {
		p = c.newPart(cb, k)
	}
	p.text = append(p.text, s...)
	c.size += len(s)
}

// sign gives cb's last part its signature if it is an unsigned reasoning
// part, else makes a reasoning part of the signature alone.
func (c *Collector) sign(cb *choiceBuilder, sig string) {
	p := cb.last()
	if p == nil || p.kind != llm.PartReasoning || p.sig != "" {
		p = c.newPart(cb, llm.PartReasoning)
	}
	p.sig = sig
	c.size += len(sig)
}

// toolCall adds a tool-call fragment: the first of its index makes the
// call's part, later ones append arguments (and fill an id, type or name
// still empty).
func (c *Collector) toolCall(cb *choiceBuilder, t *llm.ToolCallDelta) {
	var p *partBuilder
	for _, s := range cb.calls {
		if s.index == t.Index {
			p = &cb.parts[s.part]
			break
		}
	}
	if p == nil {
		cb.calls = append(cb.calls, callSlot{index: t.Index, part: len(cb.parts)})
		p = c.newPart(cb, llm.PartToolCall)
	}
	for _, f := range [...]struct {
		dst *string
		v   string
	}{{&p.id, t.ID}, {&p.typ, t.Type}, {&p.fname, t.Name}} {
		if *f.dst == "" && f.v != "" {
			*f.dst = f.v
			c.size += len(f.v)
		}
	}
	p.text = append(p.text, t.Arguments...)
	c.size += len(t.Arguments)
}

// Response returns the collected answer, and true only if collecting never
// stopped, at least one choice was seen and every choice seen has a finish
// reason: a stream cut short must never be cached. Choices are ordered by
// index. The Response is new for each call and shares nothing mutable
// with the collector.
func (c *Collector) Response() (*llm.Response, bool) {
	if c.stopped || len(c.choices) == 0 {
		return nil, false
	}
	for _, cb := range c.choices {
		if cb.finish == "" {
			return nil, false
		}
	}
	resp := c.head
	resp.Choices = make([]llm.Choice, len(c.choices))
	for i, cb := range c.choices {
		resp.Choices[i] = llm.Choice{Index: cb.index, FinishReason: cb.finish, StopSequence: cb.stop,
			Logprobs: cb.logprobs.merged(), Message: llm.Message{Role: cb.role, Parts: cb.buildParts()}}
		if cb.role == "" {
			resp.Choices[i].Message.Role = llm.RoleAssistant
		}
	}
	return &resp, true
}

// buildParts returns cb's parts as message parts, nil if none.
func (cb *choiceBuilder) buildParts() []llm.Part {
	if len(cb.parts) == 0 {
		return nil
	}
	parts := make([]llm.Part, len(cb.parts))
	for i := range cb.parts {
		p := &cb.parts[i]
		switch p.kind {
		case llm.PartToolCall:
			parts[i] = llm.Part{Kind: p.kind, ToolCall: &llm.ToolCall{ID: p.id, Type: p.typ,
				Name: p.fname, Arguments: string(p.text)}}
		case llm.PartRedacted:
			parts[i] = llm.Part{Kind: p.kind, Signature: p.sig}
		default:
			parts[i] = llm.Part{Kind: p.kind, Text: string(p.text), Signature: p.sig}
		}
	}
	return parts
}

// logprobsBuilder merges a choice's logprobs fragments, each an OpenAI
// logprobs object ({"content":[...],"refusal":null}): the whole answer's
// object has each field's arrays concatenated.
type logprobsBuilder struct {
	n      int
	first  json.RawMessage // the first fragment, as received
	fields []logprobsField
}

// logprobsField is one field of the merged object; array is false while
// every fragment had null for it.
type logprobsField struct {
	name  string
	elems []json.RawMessage
	array bool
}

// add adds a fragment (not null); false if it is not an object of arrays
// and nulls.
func (b *logprobsBuilder) add(raw json.RawMessage) bool {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return false
	}
	for name, v := range obj {
		f := b.field(name)
		if isNullJSON(v) {
			continue
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(v, &elems); err != nil || elems == nil {
			return false
		}
		f.elems, f.array = append(f.elems, elems...), true
	}
	if b.n++; b.n == 1 {
		b.first = bytes.Clone(raw)
	}
	return true
}

// field returns the field called name, adding it if new.
func (b *logprobsBuilder) field(name string) *logprobsField {
	for i := range b.fields {
		if b.fields[i].name == name {
			return &b.fields[i]
		}
	}
	b.fields = append(b.fields, logprobsField{name: name})
	return &b.fields[len(b.fields)-1]
}

// merged returns a new copy of the merged object (fields in name order),
// the lone fragment as received, or nil when there was none.
func (b *logprobsBuilder) merged() json.RawMessage {
	switch b.n {
	case 0:
		return nil
	case 1:
		return bytes.Clone(b.first)
	}
	fields := slices.Clone(b.fields)
	slices.SortFunc(fields, func(x, y logprobsField) int { return strings.Compare(x.name, y.name) })
	out := []byte{'{'}
	for i, f := range fields {
		if i > 0 {
			out = append(out, ',')
		}
		name, _ := json.Marshal(f.name) // a string always marshals
		out = append(append(out, name...), ':')
		if !f.array {
			out = append(out, "null"...)
			continue
		}
		out = append(out, '[')
		for j, e := range f.elems {
			if j > 0 {
				out = append(out, ',')
			}
			out = append(out, e...)
		}
		out = append(out, ']')
	}
	return append(out, '}')
}

// isNullJSON reports whether raw is the JSON literal null.
func isNullJSON(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}
