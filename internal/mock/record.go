package mock

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
)

// Recorded is a provider-API request as the mock received it; it is also
// the JSON answer of GET /_mock/last.
type Recorded struct {
	Method string `json:"method"`
	// Path is the request path with its query, as escaped on the wire
	// ("/v1beta/models/echo:streamGenerateContent?alt=sse").
	Path string `json:"path"`
	// Headers maps canonical header names ("Authorization", "X-Api-Key")
	// to all their values in the order received. Credentials are recorded
	// as sent: the mock is meant to see test keys only.
	Headers http.Header `json:"headers"`
	// Body is the raw request body.
	Body string `json:"body"`
}

// record is the cheap form of Recorded kept for every request: the body
// slice is owned by the record (nothing writes to it after reading).
type record struct {
	method string
	url    url.URL
	header http.Header
	body   []byte
}

func newRecord(r *http.Request, body []byte) *record {
	return &record{method: r.Method, url: *r.URL, header: r.Header.Clone(), body: body}
}

// Last returns the last provider-API request, and false if there was none
// since the Server was made or Reset.
func (s *Server) Last() (Recorded, bool) {
	rec := s.last.Load()
	if rec == nil {
		return Recorded{}, false
	}
	return Recorded{Method: rec.method, Path: rec.url.RequestURI(), Headers: rec.header.Clone(),
		Body: string(rec.body)}, true
}

// readBody reads the whole request body, up to maxBody bytes. tooLarge
// reports a body over the limit (the connection is then closed by
// net/http). A body cut short by the client is returned as far as it got;
// parsing it fails later with a 400.
func readBody(w http.ResponseWriter, r *http.Request) (body []byte, tooLarge bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, false
	}
	switch n := r.ContentLength; {
	case n > maxBody:
		return nil, true
	case n > 0:
		b := make([]byte, n)
		k, _ := io.ReadFull(r.Body, b)
		return b[:k], false
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if len(b) > maxBody {
		return nil, true
	}
	return b, false
}

// defaultModels are always listed, in this order.
var defaultModels = []string{
	"echo", "gpt-4o-mini", "text-embedding-3-small",
	"claude-haiku-4-5", "gemini-2.5-flash", "text-embedding-004",
}

// Bounds on the models remembered from requests, so that a client sending
// random names cannot grow the set without limit.
const (
	maxSeenModels   = 256
	maxModelNameLen = 256
)

// modelSet remembers the model names requested so far, for the model lists.
type modelSet struct {
	m sync.Map // string → struct{}
	n atomic.Int32
}

// add remembers name unless it is empty, too long, a default model, or the
// set is full.
func (ms *modelSet) add(name string) {
	if name == "" || len(name) > maxModelNameLen || slices.Contains(defaultModels, name) {
		return
	}
	if _, ok := ms.m.Load(name); ok || ms.n.Load() >= maxSeenModels {
		return
	}
	if _, loaded := ms.m.LoadOrStore(name, struct{}{}); !loaded {
		ms.n.Add(1)
	}
}

// list returns the default models followed by the others seen, sorted.
func (ms *modelSet) list() []string {
	var seen []string
	ms.m.Range(func(k, _ any) bool {
		seen = append(seen, k.(string))
		return true
	})
	slices.Sort(seen)
	return append(slices.Clip(defaultModels), seen...)
}

// has reports whether name would be listed.
func (ms *modelSet) has(name string) bool {
	if slices.Contains(defaultModels, name) {
		return true
	}
	_, ok := ms.m.Load(name)
	return ok
}

func (ms *modelSet) clear() {
	ms.m.Clear()
	ms.n.Store(0)
}
