package mock

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultStreamChunks is how many pieces a streamed answer is split into
// when Options.StreamChunks is zero.
const DefaultStreamChunks = 5

// DefaultAnswer is the answer to a conversation whose last user message has
// no text.
const DefaultAnswer = "Hello from the Sluice mock provider."

// maxBody bounds a provider-API request body; larger ones get a 413.
const maxBody = 32 << 20

// Options configure a Server. The zero value answers at once, in
// DefaultStreamChunks pieces, with the wall clock.
type Options struct {
	// Latency is waited before the first byte (headers included) of every
	// provider-API answer. Zero: no wait.
	Latency time.Duration
	// StreamChunks is how many content pieces a streamed answer is split
	// into, on rune boundaries (fewer when the text has fewer runes). Zero
	// or negative means DefaultStreamChunks.
	StreamChunks int
	// ChunkInterval is waited between two streamed events. Zero: no wait.
	ChunkInterval time.Duration
	// Now is the clock for "created" fields. Nil means time.Now.
	Now func() time.Time
}

// Stats are the Server's counters.
type Stats struct {
	// Requests counts provider-API requests, including rejected and
	// faulted ones; control calls under /_mock/ are not counted.
	Requests int64 `json:"requests"`
}

// Server is the mock provider, an http.Handler. It is safe for concurrent
// use; its state (counters, last request, pending faults, models seen,
// prompts answered) lives until Reset.
type Server struct {
	latency  time.Duration
	chunks   int
	interval time.Duration
	now      func() time.Time
	// sleep waits d unless ctx ends first and reports whether it waited
	// the whole time; tests replace it to observe delays without timing.
	sleep func(ctx context.Context, d time.Duration) bool

	requests atomic.Int64
	last     atomic.Pointer[record]
	faults   faultQueue
	models   modelSet
	prompts  promptMemory // for the simulated prompt caching
}

var _ http.Handler = (*Server)(nil)

// New returns a Server with opts, defaults applied.
func New(opts Options) *Server {
	s := &Server{latency: opts.Latency, chunks: opts.StreamChunks, interval: opts.ChunkInterval,
		now: opts.Now, sleep: sleepCtx}
	if s.chunks <= 0 {
		s.chunks = DefaultStreamChunks
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Stats returns the current counters.
func (s *Server) Stats() Stats { return Stats{Requests: s.requests.Load()} }

// Reset zeroes the counters and forgets the last request, pending faults,
// the models seen so far and the prompts answered (so nothing is cached).
func (s *Server) Reset() {
	s.requests.Store(0)
	s.last.Store(nil)
	s.faults.clear()
	s.models.clear()
	s.prompts.clear()
}

// ServeHTTP answers one request; see the package doc for the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_mock/") {
		s.serveControl(w, r)
		return
	}
	x := exchange{s: s, w: w, r: r, seq: s.requests.Add(1)}
	rt := classify(r)
	x.api = rt.api
	body, tooLarge := readBody(w, r)
	x.body = body
	s.last.Store(newRecord(r, body))

	f, faulted := s.faults.take()
	delay := s.latency
	if faulted {
		delay += time.Duration(f.DelayMS) * time.Millisecond
		x.drop = f.DropMidStream
		x.filter = f.Finish == FinishContentFilter
	}
	if delay > 0 && !s.sleep(r.Context(), delay) {
		return // the client went away while we waited
	}
	switch {
	case faulted && f.Status >= 400:
		x.fault(f)
	case tooLarge:
		x.fail(http.StatusRequestEntityTooLarge, "", "", "request body is larger than the mock accepts")
	default:
		x.serve(rt)
	}
}

// exchange is one provider-API request being answered.
type exchange struct {
	s    *Server
	w    http.ResponseWriter
	r    *http.Request
	seq  int64 // the request's number, used to make up IDs
	api  api
	body []byte
	drop bool // abort the connection part-way through the answer
	// filter answers as if the content filter had stopped the answer.
	filter bool
}

// decide returns the answer to c, filtered when the fault says so.
func (x *exchange) decide(c *convo) answer {
	a := c.answer()
	if x.filter {
		a.text, a.toolName, a.toolArgs = "", "", ""
		a.finish, a.completionTokens = finishFilter, 0
	}
	return a
}

// serve dispatches a classified request to its handler.
func (x *exchange) serve(rt route) {
	if x.r.Method != rt.method && rt.kind != routeUnknown {
		x.w.Header().Set("Allow", rt.method)
		x.fail(http.StatusMethodNotAllowed, "", "", "method "+x.r.Method+" is not allowed on "+x.r.URL.Path)
		return
	}
	switch rt.kind {
	case routeOpenAIChat:
		x.openAIChat(rt.model)
	case routeOpenAIEmbeddings:
		x.openAIEmbeddings(rt.model)
	case routeModels:
		x.listModels()
	case routeModel:
		x.getModel(rt.model)
	case routeAnthropicMessages:
		x.anthropicMessages()
	case routeGeminiGenerate:
		x.geminiGenerate(rt.model, false)
	case routeGeminiStream:
		x.geminiGenerate(rt.model, true)
	case routeGeminiCount:
		x.geminiCountTokens(rt.model)
	case routeGeminiEmbed:
		x.geminiEmbed(rt.model, false)
	case routeGeminiBatchEmbed:
		x.geminiEmbed(rt.model, true)
	default:
		x.fail(http.StatusNotFound, "unknown_url", "", "Invalid URL ("+x.r.Method+" "+x.r.URL.Path+")")
	}
}

// sleepCtx waits d or until ctx is done, and reports whether it waited d.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
