package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"slices"
	"sync"

	"github.com/sluicehq/sluice/internal/llm"
)

// Key identifies a cached answer: a SHA-256 digest.
type Key [32]byte

// String returns k as 64 lower-case hex digits, the form ParseKey reads.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// ParseKey reads the form String writes: exactly 64 lower-case hex digits.
// Anything else (upper case, other lengths, other characters) is an error.
func ParseKey(s string) (Key, error) {
	var k Key
	if len(s) != 2*len(k) {
		return Key{}, fmt.Errorf("cache: parse key: want %d lower-case hex digits, got %d bytes", 2*len(k), len(s))
	}
	for i := range k {
		hi, ok1 := lowerHexDigit(s[2*i])
		lo, ok2 := lowerHexDigit(s[2*i+1])
		if !ok1 || !ok2 {
			return Key{}, fmt.Errorf("cache: parse key: %q is not lower-case hex", s[2*i:2*i+2])
		}
		k[i] = hi<<4 | lo
	}
	return k, nil
}

func lowerHexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// Domain tags start every hashed stream: they keep exact and custom keys
// apart, and a change of the encoding below must change its tag so that
// old and new keys cannot collide.
const (
	exactKeyTag  = "sluice/cache/exact/v1"
	customKeyTag = "sluice/cache/custom/v1"
)

// KeyFor is the exact-match key of a chat request in a namespace (the
// tenant id, or "" when shared). req must not be nil.
//
// The digest covers everything that can change the answer: namespace,
// Model, Format, every field of every message and part (tool calls, tool
// results and their ids, media, signatures, citations, raw parts), Tools,
// ToolChoice, ParallelToolCalls, ResponseFormat, the sampling parameters,
// Stop, Seed, LogitBias, Logprobs, TopLogprobs, Reasoning, Modalities,
// Audio, Extra and Headers. It leaves out what cannot: Stream,
// IncludeUsage, User, Metadata, ServiceTier, Store, Patch (target
// configuration, applied after the cache), and the CacheControl hints of
// parts and tools, which steer the provider's prompt cache, not the answer.
//
// Fields are written length-prefixed in a fixed order, so no two requests
// share a byte stream: "ab"+"c" differs from "a"+"bc", a nil pointer from
// a pointer to zero. A nil slice or map hashes like an empty one; map
// entries are hashed in key order; raw JSON is hashed byte for byte, so
// reformatted JSON is another key.
func KeyFor(namespace string, req *llm.Request) Key {
	w := getKeyWriter()
	w.str(exactKeyTag)
	w.str(namespace)
	w.request(req)
	return w.finish()
}

// CustomKey is the key of a client-chosen cache key (x-sluice-cache-key)
// for a model in a namespace. It never equals a KeyFor key.
func CustomKey(namespace, model, custom string) Key {
	w := getKeyWriter()
	w.str(customKeyTag)
	w.str(namespace)
	w.str(model)
	w.str(custom)
	return w.finish()
}

// keyBufSize is how many bytes a keyWriter gathers before hashing them.
const keyBufSize = 4096

// keyWriter serialises a request into a SHA-256 hash through a buffer;
// pooled so that computing a key allocates nothing in the steady state.
type keyWriter struct {
	h    hash.Hash
	buf  []byte   // pending bytes, cap keyBufSize
	keys []string // scratch for sorting map keys
	sum  [sha256.Size]byte
}

var keyWriters = sync.Pool{New: func() any {
	return &keyWriter{h: sha256.New(), buf: make([]byte, 0, keyBufSize)}
}}

func getKeyWriter() *keyWriter {
	w := keyWriters.Get().(*keyWriter)
	w.h.Reset()
	w.buf = w.buf[:0]
	return w
}

// finish returns the digest and puts w back in the pool.
func (w *keyWriter) finish() Key {
	w.flush()
	w.h.Sum(w.sum[:0])
	k := Key(w.sum)
	clear(w.keys[:cap(w.keys)]) // drop references to the request's strings
	w.keys = w.keys[:0]
	keyWriters.Put(w)
	return k
}

func (w *keyWriter) flush() {
	w.h.Write(w.buf) // a hash.Hash never returns an error
	w.buf = w.buf[:0]
}

// room makes sure n more bytes fit in the buffer (n <= keyBufSize).
func (w *keyWriter) room(n int) {
	if cap(w.buf)-len(w.buf) < n {
		w.flush()
	}
}

func (w *keyWriter) uint(x uint64) {
	w.room(binary.MaxVarintLen64)
	w.buf = binary.AppendUvarint(w.buf, x)
}

func (w *keyWriter) int(x int64) {
	w.room(binary.MaxVarintLen64)
	w.buf = binary.AppendVarint(w.buf, x)
}

func (w *keyWriter) bool(b bool) {
	w.room(1)
	if b {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

func (w *keyWriter) float(f float64) {
	w.room(8)
	w.buf = binary.LittleEndian.AppendUint64(w.buf, math.Float64bits(f))
}

// str writes a length-prefixed string.
func (w *keyWriter) str(s string) { writeChunked(w, s) }

// bytes writes length-prefixed bytes (raw JSON).
func (w *keyWriter) bytes(b []byte) { writeChunked(w, b) }

// writeChunked writes the length of s, then s through the buffer, flushing
// it to the hash as it fills.
func writeChunked[S ~string | ~[]byte](w *keyWriter, s S) {
	w.uint(uint64(len(s)))
	for len(s) > 0 {
		if len(w.buf) == cap(w.buf) {
			w.flush()
		}
		n := min(len(s), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, s[:n]...)
		s = s[n:]
	}
}

func (w *keyWriter) strs(ss []string) {
	w.uint(uint64(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
}

// present writes whether an optional value is set and reports it.
func (w *keyWriter) present(set bool) bool {
	w.bool(set)
	return set
}

func (w *keyWriter) optInt(p *int) {
	if w.present(p != nil) {
		w.int(int64(*p))
	}
}

func (w *keyWriter) optInt64(p *int64) {
	if w.present(p != nil) {
		w.int(*p)
	}
}

func (w *keyWriter) optFloat(p *float64) {
	if w.present(p != nil) {
		w.float(*p)
	}
}

func (w *keyWriter) optBool(p *bool) {
	if w.present(p != nil) {
		w.bool(*p)
	}
}

// sortedKeys returns m's keys in order, in w's scratch slice (valid until
// the next call).
func sortedKeys[V any](w *keyWriter, m map[string]V) []string {
	w.keys = w.keys[:0]
	for k := range m {
		w.keys = append(w.keys, k)
	}
	slices.Sort(w.keys)
	return w.keys
}

// request writes the answer-changing fields of req; see KeyFor.
func (w *keyWriter) request(req *llm.Request) {
	w.str(req.Model)
	w.str(req.Format)
	w.uint(uint64(len(req.Messages)))
	for i := range req.Messages {
		w.message(&req.Messages[i])
	}
	w.uint(uint64(len(req.Tools)))
	for i := range req.Tools {
		w.tool(&req.Tools[i])
	}
	w.toolChoice(req.ToolChoice)
	w.optBool(req.ParallelToolCalls)
	w.responseFormat(req.ResponseFormat)
	w.sampling(req)
	w.reasoning(req.Reasoning)
	w.strs(req.Modalities)
	w.bytes(req.Audio)
	w.uint(uint64(len(req.Extra)))
	for _, k := range sortedKeys(w, req.Extra) {
		w.str(k)
		w.bytes(req.Extra[k])
	}
	w.uint(uint64(len(req.Headers)))
	for _, k := range sortedKeys(w, req.Headers) {
		w.str(k)
		w.str(req.Headers[k])
	}
}

// sampling writes the numeric generation parameters, Stop and LogitBias.
func (w *keyWriter) sampling(req *llm.Request) {
	w.optInt(req.MaxTokens)
	w.optFloat(req.Temperature)
	w.optFloat(req.TopP)
	w.optInt(req.TopK)
	w.optInt(req.N)
	w.strs(req.Stop)
	w.optInt64(req.Seed)
	w.optFloat(req.PresencePenalty)
	w.optFloat(req.FrequencyPenalty)
	w.uint(uint64(len(req.LogitBias)))
	for _, k := range sortedKeys(w, req.LogitBias) {
		w.str(k)
		w.float(req.LogitBias[k])
	}
	w.optBool(req.Logprobs)
	w.optInt(req.TopLogprobs)
}

func (w *keyWriter) message(m *llm.Message) {
	w.str(string(m.Role))
	w.str(m.Name)
	w.parts(m.Parts)
}

func (w *keyWriter) parts(ps []llm.Part) {
	w.uint(uint64(len(ps)))
	for i := range ps {
		w.part(&ps[i])
	}
}

// part writes every field of p except CacheControl.
func (w *keyWriter) part(p *llm.Part) {
	w.str(string(p.Kind))
	w.str(p.Text)
	w.media(p.Media)
	w.str(p.Signature)
	if w.present(p.ToolCall != nil) {
		tc := p.ToolCall
		w.str(tc.ID)
		w.str(tc.Type)
		w.str(tc.Name)
		w.str(tc.Arguments)
	}
	if w.present(p.ToolResult != nil) {
		tr := p.ToolResult
		w.str(tr.CallID)
		w.str(tr.Name)
		w.parts(tr.Parts)
		w.bool(tr.IsError)
	}
	w.bytes(p.Citations)
	w.str(p.CitationsFormat)
	w.bytes(p.Raw)
	w.str(p.RawFormat)
}

func (w *keyWriter) media(m *llm.Media) {
	if !w.present(m != nil) {
		return
	}
	w.str(m.MIMEType)
	w.str(m.URL)
	w.str(m.Data)
	w.str(m.Detail)
	w.str(m.Filename)
	w.str(m.FileID)
	w.str(m.Format)
}

// tool writes every field of t except CacheControl.
func (w *keyWriter) tool(t *llm.Tool) {
	w.str(t.Type)
	w.str(t.Name)
	w.str(t.Description)
	w.bytes(t.Parameters)
	w.optBool(t.Strict)
	w.bytes(t.Raw)
}

func (w *keyWriter) toolChoice(tc *llm.ToolChoice) {
	if !w.present(tc != nil) {
		return
	}
	w.str(string(tc.Mode))
	w.str(tc.Name)
	w.bool(tc.DisableParallel)
}

func (w *keyWriter) responseFormat(rf *llm.ResponseFormat) {
	if !w.present(rf != nil) {
		return
	}
	w.str(string(rf.Type))
	w.str(rf.Name)
	w.str(rf.Description)
	w.bytes(rf.Schema)
	w.optBool(rf.Strict)
}

func (w *keyWriter) reasoning(r *llm.Reasoning) {
	if !w.present(r != nil) {
		return
	}
	w.str(r.Effort)
	w.int(int64(r.BudgetTokens))
	w.bool(r.Disabled)
}
