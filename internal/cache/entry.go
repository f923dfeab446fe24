package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// Entry is one cached answer.
type Entry struct {
	Model    string    // the virtual model requested (purge by model)
	Provider string    // provider that answered (prices the cost saved)
	Upstream string    // provider's model name
	Created  time.Time // when it was stored (the Age header); kept to the millisecond
	// Exactly one of Response and Error is set in a stored entry: the
	// answer, or the provider's refusal of the request (a 4xx the policy
	// caches; only its status, type, code, param, message and provider
	// are kept).
	Response *llm.Response
	Error    *llm.Error
}

// The encoding starts with entryMagic and a version byte; DecodeEntry
// rejects any other version, so a format change (a new llm field) bumps
// entryVersion and old entries simply miss.
const (
	entryMagic   = "SLCE"
	entryVersion = 1
	// entryMaxDepth bounds the nesting of tool results inside parts.
	entryMaxDepth = 8
)

// AppendBinary appends the encoding of e to dst and returns the extended
// slice. Every field of the response is kept exactly (nil and empty slices
// apart), except Created, which is kept to the millisecond. It fails only
// when e or its Response is nil.
func (e *Entry) AppendBinary(dst []byte) ([]byte, error) {
	if e == nil || (e.Response == nil) == (e.Error == nil) {
		return dst, errors.New("cache: encode entry: want exactly one of a response and an error")
	}
	dst = append(dst, entryMagic...)
	dst = append(dst, entryVersion)
	dst = appendStr(dst, e.Model)
	dst = appendStr(dst, e.Provider)
	dst = appendStr(dst, e.Upstream)
	dst = binary.AppendVarint(dst, e.Created.UnixMilli())
	if x := e.Error; x != nil {
		dst = append(dst, entryKindError)
		dst = appendInt(dst, x.Status)
		for _, s := range [...]string{x.Type, x.Code, x.Param, x.Message, x.Provider} {
			dst = appendStr(dst, s)
		}
		return dst, nil
	}
	dst = append(dst, entryKindResponse)
	return appendResponse(dst, e.Response), nil
}

// What an entry holds, in the byte after Created.
const (
	entryKindResponse = 0
	entryKindError    = 1
)

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendRaw writes b keeping nil apart from empty: 0 is nil, n+1 a length.
func appendRaw(dst, b []byte) []byte {
	if b == nil {
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(len(b))+1)
	return append(dst, b...)
}

// appendCount writes a slice length keeping nil apart from empty, as appendRaw.
func appendCount(dst []byte, n int, isNil bool) []byte {
	if isNil {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(n)+1)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func appendInt(dst []byte, v int) []byte { return binary.AppendVarint(dst, int64(v)) }

func appendResponse(dst []byte, r *llm.Response) []byte {
	dst = appendStr(dst, r.ID)
	dst = appendStr(dst, r.Model)
	dst = binary.AppendVarint(dst, r.Created)
	dst = appendCount(dst, len(r.Choices), r.Choices == nil)
	for i := range r.Choices {
		c := &r.Choices[i]
		dst = appendInt(dst, c.Index)
		dst = appendMessage(dst, &c.Message)
		dst = appendStr(dst, string(c.FinishReason))
		dst = appendStr(dst, c.StopSequence)
		dst = appendRaw(dst, c.Logprobs)
	}
	u := &r.Usage
	for _, n := range [...]int{u.InputTokens, u.OutputTokens, u.CachedInputTokens, u.CacheWriteTokens,
		u.ReasoningTokens, u.AudioInputTokens, u.AudioOutputTokens} {
		dst = appendInt(dst, n)
	}
	dst = appendStr(dst, r.SystemFingerprint)
	return appendStr(dst, r.ServiceTier)
}

func appendMessage(dst []byte, m *llm.Message) []byte {
	dst = appendStr(dst, string(m.Role))
	dst = appendStr(dst, m.Name)
	return appendParts(dst, m.Parts)
}

func appendParts(dst []byte, ps []llm.Part) []byte {
	dst = appendCount(dst, len(ps), ps == nil)
	for i := range ps {
		dst = appendPart(dst, &ps[i])
	}
	return dst
}

func appendPart(dst []byte, p *llm.Part) []byte {
	dst = appendStr(dst, string(p.Kind))
	dst = appendStr(dst, p.Text)
	dst = appendBool(dst, p.Media != nil)
	if m := p.Media; m != nil {
		for _, s := range [...]string{m.MIMEType, m.URL, m.Data, m.Detail, m.Filename, m.FileID, m.Format} {
			dst = appendStr(dst, s)
		}
	}
	dst = appendStr(dst, p.Signature)
	dst = appendBool(dst, p.ToolCall != nil)
	if tc := p.ToolCall; tc != nil {
		for _, s := range [...]string{tc.ID, tc.Type, tc.Name, tc.Arguments} {
			dst = appendStr(dst, s)
		}
	}
	dst = appendBool(dst, p.ToolResult != nil)
	if tr := p.ToolResult; tr != nil {
		dst = appendStr(dst, tr.CallID)
		dst = appendStr(dst, tr.Name)
		dst = appendParts(dst, tr.Parts)
		dst = appendBool(dst, tr.IsError)
	}
	dst = appendRaw(dst, p.CacheControl)
	dst = appendRaw(dst, p.Citations)
	dst = appendStr(dst, p.CitationsFormat)
	dst = appendRaw(dst, p.Raw)
	return appendStr(dst, p.RawFormat)
}

// DecodeEntry decodes what AppendBinary wrote. Input of another version,
// truncated or with trailing bytes, or otherwise malformed is an error;
// no input makes it panic, and a forged length or count cannot make
// it allocate more than a small multiple of len(b).
// The entry does not share memory with b.
func DecodeEntry(b []byte) (*Entry, error) {
	head := len(entryMagic) + 1
	if len(b) < head || string(b[:len(entryMagic)]) != entryMagic {
		return nil, errors.New("cache: decode entry: not an encoded cache entry")
	}
	if v := b[len(entryMagic)]; v != entryVersion {
		return nil, fmt.Errorf("cache: decode entry: version %d, want %d", v, entryVersion)
	}
	d := entryDecoder{s: string(b[head:])}
	e := &Entry{Model: d.str(), Provider: d.str(), Upstream: d.str()}
	e.Created = time.UnixMilli(d.varint()).UTC()
	switch kind := d.take(1); {
	case d.err != nil:
	case kind[0] == entryKindResponse:
		e.Response = d.response()
	case kind[0] == entryKindError:
		e.Error = d.errorAnswer()
	default:
		d.fail("unknown entry kind %d", kind[0])
	}
	if d.err == nil && d.off != len(d.s) {
		d.fail("%d trailing bytes", len(d.s)-d.off)
	}
	if d.err != nil {
		return nil, fmt.Errorf("cache: decode entry: %w", d.err)
	}
	return e, nil
}

// entryDecoder reads the encoding. The input is copied once into s; the
// decoded strings are substrings of it. After the first error every read
// returns a zero value.
type entryDecoder struct {
	s     string
	off   int
	depth int // nesting of tool-result parts
	err   error
}

func (d *entryDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: %s", d.off+len(entryMagic)+1, fmt.Sprintf(format, args...))
	}
}

func (d *entryDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	for shift, i := 0, d.off; i < len(d.s); shift, i = shift+7, i+1 {
		c := d.s[i]
		if shift == 63 && c > 1 || i-d.off == binary.MaxVarintLen64 {
			d.fail("varint overflows 64 bits")
			return 0
		}
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			d.off = i + 1
			return x
		}
	}
	d.fail("truncated varint")
	return 0
}

func (d *entryDecoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *entryDecoder) int() int {
	v := d.varint()
	if int64(int(v)) != v {
		d.fail("integer %d overflows int", v)
		return 0
	}
	return int(v)
}

func (d *entryDecoder) bool() bool {
	if d.err != nil {
		return false
	}
	if d.off >= len(d.s) {
		d.fail("truncated")
		return false
	}
	c := d.s[d.off]
	if c > 1 {
		d.fail("boolean byte %d", c)
		return false
	}
	d.off++
	return c == 1
}

// take returns the next n bytes; n is checked against what is left first,
// so a forged length cannot make the decoder allocate.
func (d *entryDecoder) take(n uint64) string {
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.off) {
		d.fail("length %d exceeds the %d bytes left", n, len(d.s)-d.off)
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *entryDecoder) str() string { return d.take(d.uvarint()) }

func (d *entryDecoder) raw() []byte {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return nil
	}
	return []byte(d.take(n - 1))
}

// Every encoded choice and part takes at least this many bytes (one per
// field), which bounds what a forged count can make the decoder allocate.
const (
	minChoiceBytes = 7
	minPartBytes   = 11
)

// count reads a slice length written by appendCount; isNil reports a nil
// slice. A count of elements of at least minBytes each that cannot fit in
// the bytes left is an error.
func (d *entryDecoder) count(minBytes uint64) (n int, isNil bool) {
	c := d.uvarint()
	if c == 0 || d.err != nil {
		return 0, true
	}
	if left := uint64(len(d.s) - d.off); c-1 > left/minBytes {
		d.fail("count %d does not fit in the %d bytes left", c-1, left)
		return 0, true
	}
	return int(c - 1), false
}

func (d *entryDecoder) response() *llm.Response {
	r := &llm.Response{ID: d.str(), Model: d.str(), Created: d.varint()}
	if n, isNil := d.count(minChoiceBytes); !isNil {
		r.Choices = make([]llm.Choice, n)
		for i := range r.Choices {
			c := &r.Choices[i]
			c.Index = d.int()
			d.message(&c.Message)
			c.FinishReason = llm.FinishReason(d.str())
			c.StopSequence = d.str()
			c.Logprobs = d.raw()
		}
	}
	u := &r.Usage
	for _, p := range [...]*int{&u.InputTokens, &u.OutputTokens, &u.CachedInputTokens, &u.CacheWriteTokens,
		&u.ReasoningTokens, &u.AudioInputTokens, &u.AudioOutputTokens} {
		*p = d.int()
	}
	r.SystemFingerprint = d.str()
	r.ServiceTier = d.str()
	return r
}

func (d *entryDecoder) message(m *llm.Message) {
	m.Role = llm.Role(d.str())
	m.Name = d.str()
	m.Parts = d.parts()
}

func (d *entryDecoder) parts() []llm.Part {
	n, isNil := d.count(minPartBytes)
	if isNil {
		return nil
	}
	ps := make([]llm.Part, n)
	for i := range ps {
		d.part(&ps[i])
	}
	return ps
}

func (d *entryDecoder) part(p *llm.Part) {
	p.Kind = llm.PartKind(d.str())
	p.Text = d.str()
	if d.bool() {
		p.Media = &llm.Media{MIMEType: d.str(), URL: d.str(), Data: d.str(), Detail: d.str(),
			Filename: d.str(), FileID: d.str(), Format: d.str()}
	}
	p.Signature = d.str()
	if d.bool() {
		p.ToolCall = &llm.ToolCall{ID: d.str(), Type: d.str(), Name: d.str(), Arguments: d.str()}
	}
	if d.bool() {
		p.ToolResult = d.toolResult()
	}
	p.CacheControl = d.raw()
	p.Citations = d.raw()
	p.CitationsFormat = d.str()
	p.Raw = d.raw()
	p.RawFormat = d.str()
}

func (d *entryDecoder) toolResult() *llm.ToolResult {
	if d.depth++; d.depth > entryMaxDepth {
		d.fail("tool results nested deeper than %d", entryMaxDepth)
		return nil
	}
	tr := &llm.ToolResult{CallID: d.str(), Name: d.str()}
	tr.Parts = d.parts()
	tr.IsError = d.bool()
	d.depth--
	return tr
}

// errorAnswer reads a cached error.
func (d *entryDecoder) errorAnswer() *llm.Error {
	x := &llm.Error{Status: d.int()}
	x.Type, x.Code, x.Param, x.Message, x.Provider = d.str(), d.str(), d.str(), d.str(), d.str()
	if d.err == nil && (x.Status < 400 || x.Status > 599) {
		d.fail("error status %d", x.Status)
	}
	x.Fault = llm.FaultCaller
	return x
}
