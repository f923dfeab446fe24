package mock

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// Fault makes the next Count provider-API requests misbehave. It is also
// the JSON body of POST /_mock/faults. The effects combine: DelayMS is
// waited first (after Options.Latency), then a Status of 400 or more is
// answered as an error, otherwise the answer is Finish's (filtered) or
// the normal one, cut short by DropMidStream.
type Fault struct {
	// Count is how many requests the fault applies to; zero means one.
	Count int `json:"count"`
	// Status, when 400 or more, is answered instead of the normal answer,
	// with an error body in the shape of the API that was called (or Body).
	Status int `json:"status"`
	// RetryAfter, when positive, is sent as a Retry-After header (seconds)
	// with a Status error.
	RetryAfter int `json:"retry_after"`
	// DelayMS is waited before answering, in milliseconds.
	DelayMS int `json:"delay_ms"`
	// DropMidStream aborts the connection part-way: a stream after some of
	// its events and before its end event, a whole answer in the middle of
	// its body (whose Content-Length promised more).
	DropMidStream bool `json:"drop_mid_stream"`
	// Body, when set, replaces the error body of a Status fault verbatim
	// (sent as application/json).
	Body string `json:"body"`
	// Finish, when FinishContentFilter, answers (with 200) as if the
	// provider's content filter had stopped the answer before any output:
	// no text or tool call, OpenAI finish_reason "content_filter",
	// Anthropic stop_reason "refusal", Gemini finishReason "SAFETY"; a
	// stream's first chunk already carries that finish where the API
	// allows (OpenAI, Gemini; Anthropic's starts with message_start).
	Finish string `json:"finish,omitempty"`
}

// FinishContentFilter is the Fault.Finish of a filtered answer.
const FinishContentFilter = "content_filter"

// validate reports what is wrong with f, for POST /_mock/faults.
func (f *Fault) validate() string {
	switch {
	case f.Count < 0:
		return "count must not be negative"
	case f.Status != 0 && (f.Status < 100 || f.Status > 599):
		return "status must be an HTTP status code (100-599)"
	case f.RetryAfter < 0:
		return "retry_after must not be negative"
	case f.DelayMS < 0:
		return "delay_ms must not be negative"
	case f.Finish != "" && f.Finish != FinishContentFilter:
		return `finish must be "content_filter" (or absent)`
	}
	return ""
}

// InjectFault makes the next f.Count provider-API requests fail as f says,
// replacing any faults still pending. Negative values are treated as zero.
func (s *Server) InjectFault(f Fault) {
	f.Count = max(f.Count, 1)
	f.RetryAfter = max(f.RetryAfter, 0)
	f.DelayMS = max(f.DelayMS, 0)
	s.faults.set(f)
}

// faultQueue holds the pending fault. The armed flag keeps the common
// no-fault path free of locking.
type faultQueue struct {
	armed atomic.Bool
	mu    sync.Mutex
	f     Fault
	left  int
}

func (q *faultQueue) set(f Fault) {
	q.mu.Lock()
	q.f, q.left = f, f.Count
	q.armed.Store(q.left > 0)
	q.mu.Unlock()
}

func (q *faultQueue) clear() { q.set(Fault{}) }

// take consumes one pending fault, if any.
func (q *faultQueue) take() (Fault, bool) {
	if !q.armed.Load() {
		return Fault{}, false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.left <= 0 {
		return Fault{}, false
	}
	q.left--
	q.armed.Store(q.left > 0)
	return q.f, true
}

// fault answers with f's error status.
func (x *exchange) fault(f Fault) {
	if f.RetryAfter > 0 {
		x.w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	if f.Body != "" {
		x.w.Header().Set("Content-Type", "application/json")
		x.w.Header().Set("Content-Length", strconv.Itoa(len(f.Body)))
		x.w.WriteHeader(f.Status)
		_, _ = x.w.Write([]byte(f.Body))
		return
	}
	x.fail(f.Status, "", "", "mock fault: injected HTTP "+strconv.Itoa(f.Status)+" "+http.StatusText(f.Status))
}
