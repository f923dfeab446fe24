package mock

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Answer buffers are pooled; buffers that grew past maxPooledBuf are left to
// the garbage collector so one huge answer does not pin memory.
const (
	initialBuf   = 2 << 10
	maxPooledBuf = 1 << 20
)

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, initialBuf)
	return &b
}}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// Header values shared by every answer; net/http only reads them.
var (
	jsonContentType = []string{"application/json"}
	sseContentType  = []string{"text/event-stream"}
	noCache         = []string{"no-cache"}
	closeBracket    = []byte{']'}
)

// writeJSON writes a whole JSON answer with its Content-Length. With drop
// it writes only the first half of body and aborts the connection, so the
// client sees a body shorter than promised.
func writeJSON(w http.ResponseWriter, status int, body []byte, drop bool) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	if drop {
		_, _ = w.Write(body[:len(body)/2])
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
	_, _ = w.Write(body)
}

// streamWriter writes a streamed answer one event at a time, flushing each.
// Build an event with begin, append its JSON, and hand it to send. After a
// write fails or the client goes away, send does nothing and err is set, so
// producers can run to the end of their (bounded) loops cheaply.
type streamWriter struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	ctx      context.Context
	sleep    func(context.Context, time.Duration) bool
	interval time.Duration
	pooled   *[]byte
	buf      []byte
	// array selects Gemini's streamed JSON array ("[{…},\r\n{…}]") instead
	// of SSE.
	array  bool
	events int // events written so far
	// dropAt is the number of events after which the connection is
	// aborted (Fault.DropMidStream); negative means never.
	dropAt int
	err    error
}

// stream starts a streamed answer. dropAt is where a DropMidStream fault
// cuts it; it must be less than the number of events the producer sends.
func (x *exchange) stream(array bool, dropAt int) *streamWriter {
	h := x.w.Header()
	if array {
		h["Content-Type"] = jsonContentType
	} else {
		h["Content-Type"] = sseContentType
	}
	h["Cache-Control"] = noCache
	if !x.drop {
		dropAt = -1
	}
	b := getBuf()
	return &streamWriter{w: x.w, rc: http.NewResponseController(x.w), ctx: x.r.Context(),
		sleep: x.s.sleep, interval: x.s.interval, pooled: b, buf: *b, array: array, dropAt: dropAt}
}

// begin returns the buffer, emptied and holding the start of an event named
// name ("" for none), ready for the event's JSON to be appended.
func (sw *streamWriter) begin(name string) []byte {
	b := sw.buf[:0]
	if sw.array {
		if sw.events == 0 {
			return append(b, '[')
		}
		return append(b, ',', '\r', '\n')
	}
	if name != "" {
		b = append(b, "event: "...)
		b = append(b, name...)
		b = append(b, '\n')
	}
	return append(b, "data: "...)
}

// send ends the event in b and writes and flushes it.
func (sw *streamWriter) send(b []byte) {
	sw.buf = b
	if sw.err != nil {
		return
	}
	if sw.events == sw.dropAt {
		sw.err = http.ErrAbortHandler // so that close adds nothing
		panic(http.ErrAbortHandler)   // everything before was flushed
	}
	if sw.events > 0 && sw.interval > 0 && !sw.sleep(sw.ctx, sw.interval) {
		sw.err = sw.ctx.Err()
		return
	}
	if err := sw.ctx.Err(); err != nil {
		sw.err = err
		return
	}
	if !sw.array {
		b = append(b, '\n', '\n')
		sw.buf = b
	}
	if _, err := sw.w.Write(b); err != nil {
		sw.err = err
		return
	}
	if err := sw.rc.Flush(); err != nil {
		sw.err = err
		return
	}
	sw.events++
}

// sendRaw sends data as an SSE event without a name ("[DONE]").
func (sw *streamWriter) sendRaw(data string) {
	sw.send(append(sw.begin(""), data...))
}

// close ends the stream (Gemini's JSON array gets its "]") and returns the
// buffer to the pool. The streamWriter must not be used afterwards.
func (sw *streamWriter) close() {
	if sw.array && sw.err == nil && sw.events > 0 {
		if _, err := sw.w.Write(closeBracket); err == nil {
			_ = sw.rc.Flush()
		}
	}
	*sw.pooled = sw.buf
	putBuf(sw.pooled)
}

// appendID appends prefix followed by the decimal n, as a JSON string.
func appendID(dst []byte, prefix string, n int64) []byte {
	dst = append(dst, '"')
	dst = append(dst, prefix...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '"')
}
