package openai

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// This file is DecodeChatRequest's fast path: a hand-written decoder that
// fills the same wire structs json.Unmarshal fills, for the shapes clients
// commonly send, and leaves everything else to encoding/json. Its contract
// is to give json.Unmarshal's result or nothing: whatever it is not sure of
// (a duplicate member, a key that encoding/json would match ignoring case,
// a value of an unexpected type, a rare field, any error) makes it give up,
// and the encoding/json path decides (FuzzDecodeChatRequestFast holds the
// two paths to the same result). The decoded request's strings share one
// copy of the body, its raw values another, and its numbers one
// allocation with the request; names (model, roles, types) are interned.

// errSlow stops the fast path: encoding/json decides.
var errSlow = errors.New("openai: not for the fast path")

// requestBlock is a decoded request and the values its pointer fields
// point to, allocated together.
type requestBlock struct {
	req                                                  llm.Request
	maxTokens, maxCompletionTokens, topK, n, topLogprobs int
	temperature, topP, presencePenalty, frequencyPenalty float64
	parallelToolCalls, stream, logprobs, store           bool
	seed                                                 int64
	reasoningEffort                                      string
	// strict holds the first tools' (and the response format's) strict
	// flags; more take an allocation each.
	strict  [4]bool
	nStrict int
	room    messageRoom
}

// newStrict returns storage for a *bool strict flag.
func (b *requestBlock) newStrict() *bool {
	if b.nStrict < len(b.strict) {
		b.nStrict++
		return &b.strict[b.nStrict-1]
	}
	return new(bool)
}

// requestScratch holds the wire structs of one decoding, reused through
// scratchPool: nothing of it is referenced by the decoded request (the
// pointer fields the request keeps point into its requestBlock).
type requestScratch struct {
	w      chatRequestWire
	msgs   []messageWire
	parts  []partWire
	calls  []toolCallWire
	fcalls []functionCall
	tools  []toolWire
	fdefs  []functionDefWire
	images []imageURLWire
	strs   []string // targets of *string fields
	rf     responseFormatWire
	schema jsonSchemaWire
	so     streamOptionsWire
}

var scratchPool = sync.Pool{New: func() any { return new(requestScratch) }}

// maxPooledScratch bounds the slices a pooled scratch keeps, so one huge
// request does not pin its wire structs.
const maxPooledScratch = 256

func (s *requestScratch) release() {
	if cap(s.msgs) > maxPooledScratch || cap(s.parts) > maxPooledScratch || cap(s.strs) > maxPooledScratch {
		return
	}
	clear(s.msgs)
	clear(s.parts)
	clear(s.calls)
	clear(s.fcalls)
	clear(s.tools)
	clear(s.fdefs)
	clear(s.images)
	clear(s.strs)
	*s = requestScratch{msgs: s.msgs[:0], parts: s.parts[:0], calls: s.calls[:0], fcalls: s.fcalls[:0],
		tools: s.tools[:0], fdefs: s.fdefs[:0], images: s.images[:0], strs: s.strs[:0]}
	scratchPool.Put(s)
}

// str returns storage holding v for a *string field.
func (s *requestScratch) str(v string) *string {
	s.strs = append(s.strs, v)
	return &s.strs[len(s.strs)-1]
}

// decodeChatRequestFast decodes body, which checkBody has accepted, as
// DecodeChatRequest does; ok is false when the encoding/json path must
// decide (also for every body that is not a valid request).
func decodeChatRequestFast(body []byte) (req *llm.Request, ok bool) {
	s := scratchPool.Get().(*requestScratch)
	defer s.release()
	d := reqDecoder{s: s, blk: new(requestBlock)}
	d.reset(body)
	if d.it.Object(d.member) != nil || !d.it.End() {
		return nil, false
	}
	req = &d.blk.req
	req.Format = FormatName
	req.Extra = d.extra
	if convertRequest(req, &s.w, body, &d.blk.room) != nil {
		return nil, false
	}
	return req, true
}

// reader reads a JSON text for a fast path: it walks the text once with
// it and takes what it keeps from t.
type reader struct {
	t  jsonw.Text
	it jsonw.Iter
}

func (d *reader) reset(body []byte) {
	d.t.Reset(body)
	d.it.Reset(body)
}

// value takes the value at the cursor. One that is not valid JSON (the
// Iter has then stopped, and the decoding fails) comes back as
// notJSON, which every kind check rejects.
func (d *reader) value() []byte {
	if v := d.it.Value(); v != nil {
		return v
	}
	return notJSON
}

var notJSON = []byte{0}

// reqDecoder is the state of one fast decoding of a request.
type reqDecoder struct {
	reader
	s     *requestScratch
	blk   *requestBlock
	seen  uint64 // top-level members met, by bit
	extra map[string]json.RawMessage
}

// once marks member bit as met in seen; errSlow if it was already.
func once(seen *uint64, bit uint) error {
	if *seen&(1<<bit) != 0 {
		return errSlow
	}
	*seen |= 1 << bit
	return nil
}

// otherKey decides on a key that none of a struct's fields (names) has:
// encoding/json ignores it, unless it matches a name but for case (it then
// decodes it into that field) or holds an escape or non-ASCII bytes, which
// the fast path leaves to encoding/json.
func otherKey(k []byte, names []string) error {
	upper := false
	for _, c := range k {
		if c == '\\' || c >= utf8.RuneSelf {
			return errSlow
		}
		upper = upper || 'A' <= c && c <= 'Z'
	}
	if !upper {
		return nil // the names are lower case: only an exact match could match
	}
	for _, n := range names {
		if len(n) == len(k) && strings.EqualFold(n, string(k)) {
			return errSlow
		}
	}
	return nil
}

func (d *reqDecoder) member(k []byte) error {
	w, b := &d.s.w, d.blk
	var bit uint
	switch string(k) {
	case "model":
		bit = 0
	case "messages":
		bit = 1
	case "tools":
		bit = 2
	case "tool_choice":
		bit = 3
	case "parallel_tool_calls":
		bit = 4
	case "response_format":
		bit = 5
	case "stream":
		bit = 6
	case "stream_options":
		bit = 7
	case "max_tokens":
		bit = 8
	case "max_completion_tokens":
		bit = 9
	case "temperature":
		bit = 10
	case "top_p":
		bit = 11
	case "top_k":
		bit = 12
	case "n":
		bit = 13
	case "stop":
		bit = 14
	case "seed":
		bit = 15
	case "presence_penalty":
		bit = 16
	case "frequency_penalty":
		bit = 17
	case "logit_bias":
		bit = 18
	case "logprobs":
		bit = 19
	case "top_logprobs":
		bit = 20
	case "user":
		bit = 21
	case "metadata":
		bit = 22
	case "reasoning_effort":
		bit = 23
	case "modalities":
		bit = 24
	case "audio":
		bit = 25
	case "service_tier":
		bit = 26
	case "store":
		bit = 27
	default:
		return d.extraMember(k)
	}
	if err := once(&d.seen, bit); err != nil {
		return err
	}
	switch bit {
	case 0:
		return d.name(&w.Model)
	case 1:
		return d.messages()
	case 2:
		return d.tools()
	case 3:
		return d.toolChoice()
	case 4:
		return boolPtr(d.value(), &w.ParallelToolCalls, &b.parallelToolCalls)
	case 5:
		return d.responseFormat()
	case 6:
		return boolPtr(d.value(), &w.Stream, &b.stream)
	case 7:
		return d.streamOptions()
	case 8:
		return intPtr(d.value(), &w.MaxTokens, &b.maxTokens)
	case 9:
		return intPtr(d.value(), &w.MaxCompletionTokens, &b.maxCompletionTokens)
	case 10:
		return floatPtr(d.value(), &w.Temperature, &b.temperature)
	case 11:
		return floatPtr(d.value(), &w.TopP, &b.topP)
	case 12:
		return intPtr(d.value(), &w.TopK, &b.topK)
	case 13:
		return intPtr(d.value(), &w.N, &b.n)
	case 14:
		return d.stringList((*[]string)(&w.Stop), true)
	case 15:
		v := d.value()
		if v[0] == 'n' {
			return nil
		}
		n, ok := number(v)
		if !ok {
			return errSlow
		}
		b.seed = n
		w.Seed = &b.seed
	case 16:
		return floatPtr(d.value(), &w.PresencePenalty, &b.presencePenalty)
	case 17:
		return floatPtr(d.value(), &w.FrequencyPenalty, &b.frequencyPenalty)
	case 18:
		return d.logitBias()
	case 19:
		return boolPtr(d.value(), &w.Logprobs, &b.logprobs)
	case 20:
		return intPtr(d.value(), &w.TopLogprobs, &b.topLogprobs)
	case 21:
		return d.str(&w.User)
	case 22:
		return d.metadata()
	case 23:
		v := d.value()
		if v[0] == 'n' {
			return nil
		}
		s, ok := d.t.Name(v)
		if !ok {
			return errSlow
		}
		b.reasoningEffort = s
		w.ReasoningEffort = &b.reasoningEffort
	case 24:
		return d.stringList(&w.Modalities, false)
	case 25:
		return d.raw(&w.Audio)
	case 26:
		return d.name(&w.ServiceTier)
	case 27:
		return boolPtr(d.value(), &w.Store, &b.store)
	}
	return nil
}

// extraMember keeps a top-level member the canonical model has no field
// for, as collectExtra does.
func (d *reqDecoder) extraMember(k []byte) error {
	if err := otherKey(k, requestKeys); err != nil {
		return err
	}
	if d.extra == nil {
		d.extra = make(map[string]json.RawMessage, 2)
	}
	v := d.value()
	if v[0] == 0 {
		return errSlow
	}
	d.extra[d.t.Literal(k)] = json.RawMessage(d.t.Raw(v))
	return nil
}

// str decodes a string into dst; null leaves dst as it is.
func (d *reader) str(dst *string) error {
	v := d.value()
	if v[0] == 'n' {
		return nil
	}
	s, ok := d.t.String(v)
	if !ok {
		return errSlow
	}
	*dst = s
	return nil
}

// name is str for names, which are interned (see jsonw.Text.Name).
func (d *reader) name(dst *string) error {
	v := d.value()
	if v[0] == 'n' {
		return nil
	}
	s, ok := d.t.Name(v)
	if !ok {
		return errSlow
	}
	*dst = s
	return nil
}

// strPtr decodes a string into a *string field (null: nil).
func (d *reqDecoder) strPtr(dst **string) error {
	v := d.value()
	if v[0] == 'n' {
		*dst = nil
		return nil
	}
	s, ok := d.t.String(v)
	if !ok {
		return errSlow
	}
	*dst = d.s.str(s)
	return nil
}

// raw decodes a rawJSON field: null is nil, anything else a copy.
func (d *reader) raw(dst *rawJSON) error {
	switch v := d.value(); v[0] {
	case 0:
		return errSlow
	case 'n':
		*dst = nil
	default:
		*dst = d.t.Raw(v)
	}
	return nil
}

// stringList decodes an array of strings (null: nil; [] an empty, non-nil
// slice, as encoding/json makes it), or with single (stopWire) a string.
func (d *reqDecoder) stringList(dst *[]string, single bool) error {
	switch d.it.Peek() {
	case 'n':
		d.it.Value()
		*dst = nil
		return nil
	case '"':
		s, ok := d.t.String(d.value())
		if !ok || !single {
			return errSlow
		}
		*dst = []string{s}
		return nil
	case '[':
	default:
		return errSlow
	}
	var buf [8]string
	list := buf[:0]
	err := d.it.Array(func(int) error {
		s, ok := d.t.String(d.value())
		if !ok {
			return errSlow
		}
		list = append(list, s)
		return nil
	})
	*dst = append(make([]string, 0, len(list)), list...)
	return err
}

// number parses an integer (null and other kinds are not).
func number(v []byte) (int64, bool) {
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false
	}
	return jsonw.ParseInt(v)
}

// intPtr decodes a *int field, its value stored in store (null: nil).
func intPtr(v []byte, dst **int, store *int) error {
	if v[0] == 'n' {
		*dst = nil
		return nil
	}
	n, ok := number(v)
	if !ok {
		return errSlow
	}
	*store = int(n)
	*dst = store
	return nil
}

// intVal decodes an int field (null leaves it).
func intVal(v []byte, dst *int) error {
	if v[0] == 'n' {
		return nil
	}
	n, ok := number(v)
	if !ok {
		return errSlow
	}
	*dst = int(n)
	return nil
}

// floatVal parses a number (null and other kinds are not).
func floatVal(v []byte) (float64, bool) {
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false
	}
	return jsonw.ParseFloat(v, 64)
}

// floatPtr decodes a *float64 field, its value stored in store.
func floatPtr(v []byte, dst **float64, store *float64) error {
	if v[0] == 'n' {
		*dst = nil
		return nil
	}
	f, ok := floatVal(v)
	if !ok {
		return errSlow
	}
	*store = f
	*dst = store
	return nil
}

// boolPtr decodes a *bool field, its value stored in store.
func boolPtr(v []byte, dst **bool, store *bool) error {
	switch v[0] {
	case 'n':
		*dst = nil
	case 't':
		*store = true
		*dst = store
	case 'f':
		*store = false
		*dst = store
	default:
		return errSlow
	}
	return nil
}

// boolVal decodes a bool field (null leaves it).
func boolVal(v []byte, dst *bool) error {
	switch v[0] {
	case 'n':
	case 't':
		*dst = true
	case 'f':
		*dst = false
	default:
		return errSlow
	}
	return nil
}

// object reports whether the value at it's cursor is an object; null is
// consumed (ok false, nothing to decode), any other kind is errSlow.
func object(it *jsonw.Iter) (ok bool, err error) {
	switch it.Peek() {
	case 'n':
		it.Value()
		return false, nil
	case '{':
		return true, nil
	}
	return false, errSlow
}

// array is object for arrays.
func array(it *jsonw.Iter) (ok bool, err error) {
	switch it.Peek() {
	case 'n':
		it.Value()
		return false, nil
	case '[':
		return true, nil
	}
	return false, errSlow
}

var messageKeys = []string{"role", "content", "name", "refusal", "tool_calls", "tool_call_id",
	"audio", "function_call", "cache_control"}

func (d *reqDecoder) messages() error {
	w := &d.s.w
	if ok, err := array(&d.it); !ok {
		w.Messages = nil
		return err
	}
	err := d.it.Array(func(int) error {
		if d.it.Peek() != '{' {
			return errSlow
		}
		d.s.msgs = append(d.s.msgs, messageWire{})
		return d.message(&d.s.msgs[len(d.s.msgs)-1])
	})
	w.Messages = d.s.msgs[:len(d.s.msgs):len(d.s.msgs)]
	if w.Messages == nil {
		w.Messages = []messageWire{}
	}
	return err
}

func (d *reqDecoder) message(m *messageWire) error {
	var seen uint64
	return d.it.Object(func(k []byte) error {
		var bit uint
		switch string(k) {
		case "role":
			bit = 0
		case "content":
			bit = 1
		case "name":
			bit = 2
		case "refusal":
			bit = 3
		case "tool_calls":
			bit = 4
		case "tool_call_id":
			bit = 5
		case "cache_control":
			bit = 6
		case "audio", "function_call":
			if d.it.Peek() == 'n' {
				return nil // null: nothing, as encoding/json leaves the field
			}
			return errSlow
		default:
			return otherKey(k, messageKeys)
		}
		if err := once(&seen, bit); err != nil {
			return err
		}
		switch bit {
		case 0:
			return d.name(&m.Role)
		case 1:
			return d.content(&m.Content)
		case 2:
			return d.str(&m.Name)
		case 3:
			return d.str(&m.Refusal)
		case 4:
			return d.toolCalls(m)
		case 5:
			return d.strPtr(&m.ToolCallID)
		case 6:
			return d.raw(&m.CacheControl)
		}
		return nil
	})
}

// content decodes a message's content as contentWire.UnmarshalJSON does.
func (d *reqDecoder) content(c *contentWire) error {
	switch d.it.Peek() {
	case 'n':
		return nil
	case '"':
		s, ok := d.t.String(d.value())
		if !ok {
			return errSlow
		}
		c.present, c.isText, c.text = true, true, s
		return nil
	case '[':
	default:
		return errSlow
	}
	c.present = true
	start := len(d.s.parts)
	err := d.it.Array(func(int) error {
		if d.it.Peek() != '{' {
			return errSlow
		}
		d.s.parts = append(d.s.parts, partWire{})
		return d.part(&d.s.parts[len(d.s.parts)-1])
	})
	c.parts = d.s.parts[start:len(d.s.parts):len(d.s.parts)]
	if c.parts == nil {
		c.parts = []partWire{}
	}
	return err
}

var partKeys = []string{"type", "text", "refusal", "image_url", "input_audio", "file", "cache_control"}

func (d *reqDecoder) part(p *partWire) error {
	var seen uint64
	return d.it.Object(func(k []byte) error {
		var bit uint
		switch string(k) {
		case "type":
			bit = 0
		case "text":
			bit = 1
		case "refusal":
			bit = 2
		case "image_url":
			bit = 3
		case "cache_control":
			bit = 4
		case "input_audio":
			bit = 5
		case "file":
			bit = 6
		default:
			return otherKey(k, partKeys)
		}
		if err := once(&seen, bit); err != nil {
			return err
		}
		switch bit {
		case 0:
			return d.name(&p.Type)
		case 1:
			return d.strPtr(&p.Text)
		case 2:
			return d.strPtr(&p.Refusal)
		case 3:
			return d.imageURL(&p.ImageURL)
		case 4:
			return d.raw(&p.CacheControl)
		case 5:
			return d.inputAudio(&p.InputAudio)
		case 6:
			return d.file(&p.File)
		}
		return nil
	})
}

var inputAudioKeys = []string{"data", "format"}

func (d *reqDecoder) inputAudio(dst **inputAudioWire) error {
	ok, err := object(&d.it)
	if !ok {
		*dst = nil
		return err
	}
	a := new(inputAudioWire)
	*dst = a
	var seen uint64
	return d.it.Object(func(k []byte) error {
		switch string(k) {
		case "data":
			if err := once(&seen, 0); err != nil {
				return err
			}
			return d.str(&a.Data)
		case "format":
			if err := once(&seen, 1); err != nil {
				return err
			}
			return d.name(&a.Format)
		}
		return otherKey(k, inputAudioKeys)
	})
}

var fileKeys = []string{"file_data", "file_id", "filename"}

func (d *reqDecoder) file(dst **fileWire) error {
	ok, err := object(&d.it)
	if !ok {
		*dst = nil
		return err
	}
	f := new(fileWire)
	*dst = f
	var seen uint64
	return d.it.Object(func(k []byte) error {
		switch string(k) {
		case "file_data":
			if err := once(&seen, 0); err != nil {
				return err
			}
			return d.str(&f.FileData)
		case "file_id":
			if err := once(&seen, 1); err != nil {
				return err
			}
			return d.str(&f.FileID)
		case "filename":
			if err := once(&seen, 2); err != nil {
				return err
			}
			return d.str(&f.Filename)
		}
		return otherKey(k, fileKeys)
	})
}

var imageURLKeys = []string{"url", "detail"}

// imageURL decodes image_url as imageURLWire.UnmarshalJSON does.
func (d *reqDecoder) imageURL(dst **imageURLWire) error {
	if d.it.Peek() == 'n' {
		d.it.Value()
		*dst = nil
		return nil
	}
	d.s.images = append(d.s.images, imageURLWire{})
	u := &d.s.images[len(d.s.images)-1]
	*dst = u
	switch d.it.Peek() {
	case '"':
		s, ok := d.t.String(d.value())
		if !ok {
			return errSlow
		}
		u.URL = s
		return nil
	case '{':
	default:
		return errSlow
	}
	var seen uint64
	return d.it.Object(func(k []byte) error {
		switch string(k) {
		case "url":
			if err := once(&seen, 0); err != nil {
				return err
			}
			return d.str(&u.URL)
		case "detail":
			if err := once(&seen, 1); err != nil {
				return err
			}
			return d.name(&u.Detail)
		}
		return otherKey(k, imageURLKeys)
	})
}

var toolCallKeys = []string{"id", "type", "function", "custom"}

func (d *reqDecoder) toolCalls(m *messageWire) error {
	if ok, err := array(&d.it); !ok {
		return err
	}
	start := len(d.s.calls)
	err := d.it.Array(func(int) error {
		if d.it.Peek() != '{' {
			return errSlow
		}
		d.s.calls = append(d.s.calls, toolCallWire{})
		c := &d.s.calls[len(d.s.calls)-1]
		var seen uint64
		return d.it.Object(func(k []byte) error {
			switch string(k) {
			case "id":
				if err := once(&seen, 0); err != nil {
					return err
				}
				return d.str(&c.ID)
			case "type":
				if err := once(&seen, 1); err != nil {
					return err
				}
				return d.name(&c.Type)
			case "function":
				if err := once(&seen, 2); err != nil {
					return err
				}
				return d.functionCall(&c.Function)
			case "custom":
				if err := once(&seen, 3); err != nil {
					return err
				}
				return d.customCall(&c.Custom)
			}
			return otherKey(k, toolCallKeys)
		})
	})
	m.ToolCalls = d.s.calls[start:len(d.s.calls):len(d.s.calls)]
	if m.ToolCalls == nil {
		m.ToolCalls = []toolCallWire{}
	}
	return err
}

var functionCallKeys = []string{"name", "arguments"}

func (d *reqDecoder) functionCall(dst **functionCall) error {
	ok, err := object(&d.it)
	if !ok {
		*dst = nil
		return err
	}
	d.s.fcalls = append(d.s.fcalls, functionCall{})
	f := &d.s.fcalls[len(d.s.fcalls)-1]
	*dst = f
	return d.callFunction(&f.Name, &f.Arguments)
}

// callFunction decodes a function call's {"name","arguments"} members
// into name and args. arguments is taken as arguments.UnmarshalJSON
// takes it: a string's value, or the text of any other value; null
// leaves it empty. Requests and answers both carry this object.
func (d *reader) callFunction(name *string, args *arguments) error {
	var seen uint64
	return d.it.Object(func(k []byte) error {
		switch string(k) {
		case "name":
			if err := once(&seen, 0); err != nil {
				return err
			}
			return d.name(name)
		case "arguments":
			if err := once(&seen, 1); err != nil {
				return err
			}
			switch v := d.value(); v[0] {
			case 0:
				return errSlow
			case 'n':
			case '"':
				s, ok := d.t.String(v)
				if !ok {
					return errSlow
				}
				*args = arguments(s)
			default:
				*args = arguments(d.t.Literal(v))
			}
			return nil
		}
		return otherKey(k, functionCallKeys)
	})
}

var customCallKeys = []string{"name", "input"}

func (d *reqDecoder) customCall(dst **customCall) error {
	ok, err := object(&d.it)
	if !ok {
		*dst = nil
		return err
	}
	c := new(customCall)
	*dst = c
	var seen uint64
	return d.it.Object(func(k []byte) error {
		switch string(k) {
		case "name":
			if err := once(&seen, 0); err != nil {
				return err
			}
			return d.name(&c.Name)
		case "input":
			if err := once(&seen, 1); err != nil {
				return err
			}
			return d.str(&c.Input)
		}
		return otherKey(k, customCallKeys)
	})
}

var toolKeys = []string{"type", "function", "cache_control"}

func (d *reqDecoder) tools() error {
	w := &d.s.w
	if ok, err := array(&d.it); !ok {
		w.Tools = nil
		return err
	}
	err := d.it.Array(func(int) error {
		if d.it.Peek() != '{' {
			return errSlow
		}
		d.s.tools = append(d.s.tools, toolWire{})
		t := &d.s.tools[len(d.s.tools)-1]
		var seen uint64
		return d.it.Object(func(k []byte) error {
			switch string(k) {
			case "type":
				if err := once(&seen, 0); err != nil {
					return err
				}
				return d.name(&t.Type)
			case "function":
				if err := once(&seen, 1); err != nil {
					return err
				}
				return d.functionDef(&t.Function)
			case "cache_control":
				if err := once(&seen, 2); err != nil {
					return err
				}
				return d.raw(&t.CacheControl)
			}
			return otherKey(k, toolKeys)
		})
	})
	w.Tools = d.s.tools[:len(d.s.tools):len(d.s.tools)]
	if w.Tools == nil {
		w.Tools = []toolWire{}
	}
	return err
}

var functionDefKeys = []string{"name", "description", "parameters", "strict"}

func (d *reqDecoder) functionDef(dst **functionDefWire) error {
	ok, err := object(&d.it)
	if !ok {
		*dst = nil
		return err
	}
	d.s.fdefs = append(d.s.fdefs, functionDefWire{})
	f := &d.s.fdefs[len(d.s.fdefs)-1]
	*dst = f
	var seen uint64
	return d.it.Object(func(k []byte) error {
		switch string(k) {
		case "name":
			if err := once(&seen, 0); err != nil {
				return err
			}
			return d.name(&f.Name)
		case "description":
			if err := once(&seen, 1); err != nil {
				return err
			}
			return d.str(&f.Description)
		case "parameters":
			if err := once(&seen, 2); err != nil {
				return err
			}
			return d.raw(&f.Parameters)
		case "strict":
			if err := once(&seen, 3); err != nil {
				return err
			}
			return boolPtr(d.value(), &f.Strict, d.blk.newStrict())
		}
		return otherKey(k, functionDefKeys)
	})
}

var toolChoiceKeys = []string{"type", "function"}

// toolChoice decodes tool_choice as toolChoiceWire.UnmarshalJSON does.
func (d *reqDecoder) toolChoice() error {
	c := &d.s.w.ToolChoice
	switch d.it.Peek() {
	case 'n':
		return nil
	case '"':
		s, ok := d.t.Name(d.value())
		if !ok {
			return errSlow
		}
		c.present, c.mode = true, s
		return nil
	case '{':
	default:
		return errSlow
	}
	start := d.it
	var typ, name string
	hasFunction := false
	var seen uint64
	err := d.it.Object(func(k []byte) error {
		switch string(k) {
		case "type":
			if err := once(&seen, 0); err != nil {
				return err
			}
			return d.name(&typ)
		case "function":
			if err := once(&seen, 1); err != nil {
				return err
			}
			ok, err := object(&d.it)
			if !ok {
				return err
			}
			hasFunction = true
			var fseen uint64
			return d.it.Object(func(k []byte) error {
				if string(k) == "name" {
					if err := once(&fseen, 0); err != nil {
						return err
					}
					return d.name(&name)
				}
				return otherKey(k, functionCallKeys[:1])
			})
		}
		return otherKey(k, toolChoiceKeys)
	})
	if err != nil {
		return err
	}
	c.present = true
	if typ == "function" && hasFunction {
		c.mode, c.name = "function", name
		return nil
	}
	c.mode = typ
	c.raw = d.t.Raw(start.Value()) // the whole object, read again
	return nil
}

var responseFormatKeys = []string{"type", "json_schema"}
var jsonSchemaKeys = []string{"name", "description", "schema", "strict"}

func (d *reqDecoder) responseFormat() error {
	w := &d.s.w
	ok, err := object(&d.it)
	if !ok {
		w.ResponseFormat = nil
		return err
	}
	rf := &d.s.rf
	w.ResponseFormat = rf
	var seen uint64
	return d.it.Object(func(k []byte) error {
		switch string(k) {
		case "type":
			if err := once(&seen, 0); err != nil {
				return err
			}
			return d.name(&rf.Type)
		case "json_schema":
			if err := once(&seen, 1); err != nil {
				return err
			}
			ok, err := object(&d.it)
			if !ok {
				rf.JSONSchema = nil
				return err
			}
			s := &d.s.schema
			rf.JSONSchema = s
			var sseen uint64
			return d.it.Object(func(k []byte) error {
				switch string(k) {
				case "name":
					if err := once(&sseen, 0); err != nil {
						return err
					}
					return d.str(&s.Name)
				case "description":
					if err := once(&sseen, 1); err != nil {
						return err
					}
					return d.str(&s.Description)
				case "schema":
					if err := once(&sseen, 2); err != nil {
						return err
					}
					return d.raw(&s.Schema)
				case "strict":
					if err := once(&sseen, 3); err != nil {
						return err
					}
					return boolPtr(d.value(), &s.Strict, d.blk.newStrict())
				}
				return otherKey(k, jsonSchemaKeys)
			})
		}
		return otherKey(k, responseFormatKeys)
	})
}

var streamOptionsKeys = []string{"include_usage"}

func (d *reqDecoder) streamOptions() error {
	w := &d.s.w
	ok, err := object(&d.it)
	if !ok {
		w.StreamOptions = nil
		return err
	}
	so := &d.s.so
	w.StreamOptions = so
	var seen uint64
	return d.it.Object(func(k []byte) error {
		if string(k) == "include_usage" {
			if err := once(&seen, 0); err != nil {
				return err
			}
			return boolVal(d.value(), &so.IncludeUsage)
		}
		return otherKey(k, streamOptionsKeys)
	})
}

// plainKey reports whether a map key has no escapes (its text is its value).
func plainKey(k []byte) bool {
	for _, c := range k {
		if c == '\\' {
			return false
		}
	}
	return true
}

// metadata decodes a map[string]string of plain strings.
func (d *reqDecoder) metadata() error {
	w := &d.s.w
	ok, err := object(&d.it)
	if !ok {
		w.Metadata = nil
		return err
	}
	md := make(map[string]string)
	w.Metadata = md
	return d.it.Object(func(k []byte) error {
		if !plainKey(k) {
			return errSlow
		}
		s, ok := d.t.String(d.value())
		if !ok {
			return errSlow
		}
		md[d.t.Literal(k)] = s
		return nil
	})
}

// logitBias decodes a map[string]float64 of numbers.
func (d *reqDecoder) logitBias() error {
	w := &d.s.w
	ok, err := object(&d.it)
	if !ok {
		w.LogitBias = nil
		return err
	}
	lb := make(map[string]float64)
	w.LogitBias = lb
	return d.it.Object(func(k []byte) error {
		if !plainKey(k) {
			return errSlow
		}
		f, ok := floatVal(d.value())
		if !ok {
			return errSlow
		}
		lb[d.t.Literal(k)] = f
		return nil
	})
}
