package gateway

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// maxRequestIDLen bounds a client-sent x-request-id; longer or non-printable
// ids are replaced.
const maxRequestIDLen = 128

// requestID makes the request's id, returns it in x-request-id and puts it
// in the request context. The id is always the gateway's own, since it is
// the key of the request's log record: a client's X-Request-Id (kept when
// sane, and logged with the record as client_request_id) may repeat, as
// retries often reuse it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := &requestInfo{id: newRequestID()}
		if id := headerValue(r.Header, "X-Request-Id"); validRequestID(id) {
			ri.clientID = id
		}
		ri.setHeader(w.Header(), "X-Request-Id", hdrRequestID, ri.id)
		ri.ctx = infoContext{Context: r.Context(), ri: ri}
		next.ServeHTTP(w, r.WithContext(&ri.ctx))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// newRequestID returns a 26-character id that sorts by creation time:
// 48 bits of milliseconds then 80 random bits (the ULID layout).
func newRequestID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	rand.Read(b[6:])
	return idEncoding.EncodeToString(b[:])
}

// statusWriter records the status and size of a response. Unwrap lets
// http.ResponseController reach the underlying writer's Flush.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logAccess writes one line per request once it is done: what was asked,
// what answered, the tokens, and the error's cause (which the client never
// sees). Caller errors log at info, provider errors at warn, gateway errors
// at error.
func (g *Gateway) logAccess(r *http.Request, ri *requestInfo, status int, d time.Duration, bytes int64) {
	level := slog.LevelInfo
	if e := ri.err; e != nil {
		switch e.Fault {
		case llm.FaultGateway:
			level = slog.LevelError
		case llm.FaultProvider:
			level = slog.LevelWarn
		}
	}
	if !g.log.Enabled(r.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("id", ri.id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.Duration("duration", d), slog.Int64("bytes", bytes),
		slog.String("node", g.node),
	}
	if ri.model != "" {
		attrs = append(attrs, slog.String("model", ri.model), slog.String("provider", ri.provider),
			slog.String("upstream_model", ri.upstream), slog.Int("attempts", ri.attempts),
			slog.Bool("stream", ri.stream), slog.Int("tokens_in", ri.usage.InputTokens),
			slog.Int("tokens_out", ri.usage.OutputTokens))
	}
	if e := ri.err; e != nil {
		attrs = append(attrs, slog.String("error", e.Error()), slog.String("fault", e.Fault.String()))
	}
	g.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// recoverer turns a panic into a 500 JSON error (when no byte was sent yet)
// and a log line with the stack. http.ErrAbortHandler passes through: it is
// how a handler aborts a response already under way.
func (g *Gateway) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// observe's writer already says whether anything was written.
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			g.log.Error("panic serving request", "id", infoFrom(r.Context()).id, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.status != 0 {
				panic(http.ErrAbortHandler) // headers are out: cut the connection
			}
			writeError(sw, r, formatFor(r), &llm.Error{Status: http.StatusInternalServerError,
				Type: llm.TypeAPI, Message: "internal gateway error", Fault: llm.FaultGateway,
				Err: fmt.Errorf("panic: %v", v)})
		}()
		next.ServeHTTP(sw, r)
	})
}

// limitBody caps request bodies at max bytes. A body of a stated length
// cannot be longer (the server's body reader ends at Content-Length), so
// only bodies of unknown length are wrapped.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeError(w, r, formatFor(r), tooLarge(max))
			return
		}
		if r.ContentLength <= 0 {
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}

func tooLarge(max int64) *llm.Error {
	return &llm.Error{Status: http.StatusRequestEntityTooLarge, Type: llm.TypeInvalidRequest,
		Code: "request_too_large", Fault: llm.FaultCaller,
		Message: fmt.Sprintf("request body exceeds the limit of %d bytes", max)}
}

// bodyError maps a failure to read the request body.
func bodyError(err error) *llm.Error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	return &llm.Error{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest,
		Code: "body_read_failed", Message: "could not read the request body", Fault: llm.FaultCaller, Err: err}
}
