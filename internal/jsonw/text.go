package jsonw

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"
)

// This file helps a hand-written decoder keep what it decodes without an
// allocation per value: the strings it keeps share one copy of the text,
// its raw values a second one, and the short names it meets again and
// again (roles, types, model names) are shared across requests.

// Text is a JSON text being decoded by hand: it hands out the strings and
// raw values a decoder keeps, as parts of one copy of the text (strings)
// and one more (raw values), each made on first need. The zero value is
// ready for Reset.
//
// Everything it returns keeps its whole copy alive, so a decoder should use
// Name for short strings that may be kept apart from the rest of the
// decoded value (map keys, labels). A Text is used by one goroutine.
type Text struct {
	src []byte // the text, the caller's; valid until the next Reset
	str string // a copy of src for strings, made on first need
	// raw is a copy of src[rawFrom:] for raw values, made on first need:
	// from the first one on, since a decoder reads forward.
	raw     []byte
	rawFrom int
}

// Reset makes t decode src, which must be valid UTF-8; the values given to
// its methods must be valid JSON (checked by Valid or read by Iter), parts
// of src. t uses src until the next Reset and keeps no reference to it
// after.
func (t *Text) Reset(src []byte) { *t = Text{src: src} }

// offset returns where v starts in t's text, or -1 when v is not a part
// of it (a part shares the text's memory and so its end of capacity).
func (t *Text) offset(v []byte) int {
	if len(v) == 0 {
		return -1
	}
	o := cap(t.src) - cap(v)
	if o < 0 || o+len(v) > len(t.src) || &t.src[o] != &v[0] {
		return -1
	}
	return o
}

// part returns the text of v, a part of t's text, as a substring of t's
// string copy (or a copy of its own when v is not a part of the text).
func (t *Text) part(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	o := t.offset(v)
	if o < 0 {
		return string(v)
	}
	if t.str == "" {
		t.str = string(t.src)
	}
	return t.str[o : o+len(v)]
}

// String returns the value of the string literal v, quotes included, as
// json.Unmarshal decodes it; ok is false when v is not a string literal
// (null is not). A literal without escapes costs no allocation: its value
// is a part of t's string copy.
func (t *Text) String(v []byte) (s string, ok bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	body := v[1 : len(v)-1]
	if bytes.IndexByte(body, '\\') >= 0 {
		s, err := UnquoteTrusted(v)
		return s, err == nil
	}
	return t.part(body), true
}

// Literal returns the text of v as it is written (a number, or a whole
// object), as a part of t's string copy.
func (t *Text) Literal(v []byte) string { return t.part(v) }

// Name is String for a short string that may be kept on its own, away from
// the rest of the decoded value (a model, a role, a type): it never shares
// t's copy. Names up to maxNameLen bytes without escapes are shared with
// every earlier decoding of the same name, from a table that holds up to
// maxNames of them; other strings are allocated.
func (t *Text) Name(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	body := v[1 : len(v)-1]
	if bytes.IndexByte(body, '\\') >= 0 {
		s, err := UnquoteTrusted(v)
		return s, err == nil
	}
	return Intern(body), true
}

// Raw returns a copy of the raw value v, a part of t's text, as a part of
// t's raw copy (which starts at the first raw value asked for: a value
// before it gets a copy of its own), capped so that appending to it never
// writes over another.
func (t *Text) Raw(v []byte) []byte {
	o := t.offset(v)
	if o < 0 || t.raw != nil && o < t.rawFrom {
		return bytes.Clone(v)
	}
	if t.raw == nil {
		t.raw, t.rawFrom = bytes.Clone(t.src[o:]), o
	}
	o -= t.rawFrom
	return t.raw[o : o+len(v) : o+len(v)]
}

// Limits of the Intern table.
const (
	maxNames   = 1024
	maxNameLen = 64
)

// names is the Intern table: a map replaced whole (copy on write) when a
// name is added, so lookups are one atomic load and no lock.
var names struct {
	mu sync.Mutex // serialises additions
	m  atomic.Pointer[map[string]string]
}

// Intern returns b as a string, shared with every earlier call for the
// same bytes while the table has room (up to maxNames strings of at most
// maxNameLen bytes; beyond that each call allocates). Meant for the small
// set of names a gateway sees on every request.
func Intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	m := names.m.Load()
	if m != nil {
		if s, ok := (*m)[string(b)]; ok {
			return s
		}
	}
	s := string(b)
	if len(b) > maxNameLen || m != nil && len(*m) >= maxNames {
		return s
	}
	names.mu.Lock()
	defer names.mu.Unlock()
	old := names.m.Load()
	n := 0
	if old != nil {
		if s2, ok := (*old)[s]; ok {
			return s2
		}
		n = len(*old)
	}
	if n >= maxNames {
		return s
	}
	next := make(map[string]string, n+1)
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	next[s] = s
	names.m.Store(&next)
	return s
}

// ParseInt parses the number literal b as json.Unmarshal does into an
// int64: ok is false for a fraction, an exponent or a value out of range.
// It allocates only when it fails.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(b), len(b)), 10, 64)
	return n, err == nil
}

// ParseFloat parses the number literal b as json.Unmarshal does into a
// float of bits (32 or 64): ok is false when it is out of range. It
// allocates only when it fails.
func ParseFloat(b []byte, bits int) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), bits)
	return f, err == nil
}
