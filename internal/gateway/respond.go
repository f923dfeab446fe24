package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	anthcodec "github.com/sluicehq/sluice/internal/codec/anthropic"
	oaicodec "github.com/sluicehq/sluice/internal/codec/openai"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// format is the wire format a client speaks, which decides the shape of its
// errors and streams.
type format uint8

const (
	formatOpenAI format = iota
	formatAnthropic
)

// formatFor picks the error format for a request that has not reached a
// handler: Anthropic's for /v1/messages, OpenAI's for everything else.
func formatFor(r *http.Request) format {
	if strings.HasPrefix(r.URL.Path, "/v1/messages") {
		return formatAnthropic
	}
	return formatOpenAI
}

// writeError is the one place errors become responses. It records the
// error for the access log; only Message, Type, Code and Param reach the
// client.
func writeError(w http.ResponseWriter, r *http.Request, f format, err error) {
	e := llm.AsError(err)
	infoFrom(r.Context()).err = e
	if e.Status == provider.StatusClientClosed {
		return // nobody is listening
	}
	if e.RetryAfter > 0 {
		secs := int64((e.RetryAfter + 999_999_999) / 1_000_000_000)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	var body []byte
	switch f {
	case formatAnthropic:
		body = anthcodec.EncodeError(e)
	default:
		body = oaicodec.EncodeError(e)
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Date"] = httpDate(time.Now())
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client may be gone; nothing to do
}

// jsonContentType is the value of Content-Type for JSON answers, shared by
// all of them (capped: an Add copies it; nothing writes into it).
var jsonContentType = []string{"application/json"}[:1:1]

// httpDate returns the value of a Date header for now, formatted once a
// second and shared (as jsonContentType is) by the answers of that second:
// the server would otherwise format it for every answer.
func httpDate(now time.Time) []string {
	sec := now.Unix()
	if d := lastDate.Load(); d != nil && d.sec == sec {
		return d.value
	}
	d := &dateValue{sec: sec, value: []string{now.UTC().Format(http.TimeFormat)}[:1:1]}
	lastDate.Store(d)
	return d.value
}

type dateValue struct {
	sec   int64
	value []string
}

var lastDate atomic.Pointer[dateValue]

func notFound(r *http.Request) *llm.Error {
	return &llm.Error{Status: http.StatusNotFound, Type: llm.TypeNotFound, Code: "not_found",
		Fault: llm.FaultCaller, Message: fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)}
}

func methodNotAllowed(r *http.Request) *llm.Error {
	return &llm.Error{Status: http.StatusMethodNotAllowed, Type: llm.TypeInvalidRequest,
		Code: "method_not_allowed", Fault: llm.FaultCaller,
		Message: fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)}
}

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads the request body into a pooled buffer. The caller returns
// it with putBody once decoding is done (decoders copy what they keep).
func readBody(r *http.Request) (*bytes.Buffer, error) {
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	if n := r.ContentLength; n > 0 && n < 64<<20 {
		buf.Grow(int(n) + 1)
	}
	if _, err := buf.ReadFrom(r.Body); err != nil {
		putBody(buf)
		return nil, bodyError(err)
	}
	return buf, nil
}

func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= 1<<20 { // keep huge buffers from pinning memory
		bodyPool.Put(buf)
	}
}

// clientGone is the error recorded when writing to the client fails: it
// left, and nothing more can be sent.
func clientGone(err error) *llm.Error {
	return &llm.Error{Status: provider.StatusClientClosed, Type: llm.TypeAPI, Code: "client_closed",
		Message: "the client closed the connection", Fault: llm.FaultCaller, Err: err}
}

// streamEncoder writes canonical chunks in a client's stream format.
type streamEncoder interface {
	AppendChunk(dst []byte, c *llm.Chunk) ([]byte, error)
	// AppendEnd appends what ends a successful stream.
	AppendEnd(dst []byte) []byte
	// AppendError appends a mid-stream error event.
	AppendError(dst []byte, e *llm.Error) []byte
}

// setAnswerHeaders says how the request was routed: the target that
// answered (or failed last), how many upstream attempts it took (retries
// and fallbacks included) and the route (a conditional route's name, the
// virtual model's, or "direct"). ri holds the header values (see
// requestInfo.setHeader).
func setAnswerHeaders(h http.Header, ri *requestInfo, ex *Exchange) {
	if ex.Target.Provider != nil {
		ri.setHeader(h, "X-Sluice-Provider", hdrProvider, ex.Target.Provider.Name())
		ri.setHeader(h, "X-Sluice-Model", hdrModel, ex.Target.Model)
	}
	if ex.Attempts > 0 {
		h.Set("X-Sluice-Attempts", strconv.Itoa(ex.Attempts))
	}
	if ex.Route != "" {
		h.Set("X-Sluice-Route", ex.Route)
	}
	setCacheHeaders(h, ri)
	if len(ri.guardrails) > 0 {
		h.Set("X-Sluice-Guardrails", strings.Join(ri.guardrails, ", "))
	}
}

// pump is pumpStream counted as an in-flight stream.
func (g *Gateway) pump(w http.ResponseWriter, r *http.Request, ex *Exchange, enc streamEncoder) {
	if g.metrics != nil {
		defer g.metrics.StreamStarted()()
	}
	pumpStream(w, r, ex, enc)
}

// pumpStream sends a stream to the client: headers at once (the first byte
// is never held back), then each chunk translated and flushed as it
// arrives. After the headers, a failure cannot change the status: it is
// sent as an error event in the client's format, and the stream ends
// without its success terminator so no client mistakes it for a complete
// answer. A client that goes away cancels the upstream through the request
// context, and the stream is closed.
func pumpStream(w http.ResponseWriter, r *http.Request, ex *Exchange, enc streamEncoder) {
	defer ex.Stream.Close()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	ri := infoFrom(r.Context())
	setAnswerHeaders(h, ri, ex)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush() //nolint:errcheck // a failed flush shows up as a failed write below

	buf := make([]byte, 0, 4096)
	for {
		c, err := ex.Stream.Recv()
		if err == io.EOF {
			buf = enc.AppendEnd(buf[:0])
			w.Write(buf) //nolint:errcheck
			rc.Flush()   //nolint:errcheck
			return
		}
		if err != nil {
			e := llm.AsError(err)
			ri.err = e
			if r.Context().Err() != nil {
				return // the client left; the upstream is cancelled
			}
			buf = enc.AppendError(buf[:0], e)
			w.Write(buf) //nolint:errcheck
			rc.Flush()   //nolint:errcheck
			return
		}
		if buf, err = enc.AppendChunk(buf[:0], c); err != nil {
			e := llm.AsError(err)
			ri.err = e
			buf = enc.AppendError(buf[:0], e)
			w.Write(buf) //nolint:errcheck
			rc.Flush()   //nolint:errcheck
			return
		}
		if len(buf) == 0 {
			continue
		}
		if _, err := w.Write(buf); err != nil {
			ri.err = clientGone(err)
			return
		}
		ri.captureResponse(buf)
		if err := rc.Flush(); err != nil {
			ri.err = clientGone(err)
			return
		}
	}
}
