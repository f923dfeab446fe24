package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	oaicodec "github.com/sluicehq/sluice/internal/codec/openai"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// writeJSON sends body, one JSON document, with status. Admin answers are
// never cached: they hold live, possibly sensitive data.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client may be gone; nothing to do
}

// writeError is the one place admin errors become responses: OpenAI's
// error shape with the error's status. Only Message, Type, Code and Param
// reach the client; a 5xx's cause is logged here, with the path.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := llm.AsError(err)
	if e.Status >= 500 {
		s.log.ErrorContext(r.Context(), "admin: request failed",
			"method", r.Method, "path", r.URL.Path, "status", e.Status, "err", e.Err)
	}
	writeJSON(w, e.Status, oaicodec.EncodeError(e))
}

// storeError maps a store failure about a kind of object ("key", "log
// record"): a query or cursor the store refuses is the caller's 400, a
// record it refuses too (the handlers check first, so this is a
// backstop), a missing object a 404, a uniqueness or reference conflict a
// 409 saying conflict (or a generic message when conflict is ""), and
// anything else a 500 whose message says nothing of the cause (the cause
// is logged by writeError).
func storeError(err error, kind, conflict string) *llm.Error {
	switch {
	case errors.Is(err, store.ErrBadCursor):
		return &llm.Error{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest,
			Code: "invalid_cursor", Param: "cursor", Fault: llm.FaultCaller, Err: err,
			Message: "the cursor is not valid: pass next_cursor from a previous page unchanged"}
	case errors.Is(err, store.ErrBadQuery), errors.Is(err, store.ErrBadRecord):
		// The store's reason describes the query or the object, which the
		// caller wrote; it holds nothing of the store itself.
		msg, sentinel := "invalid query", store.ErrBadQuery
		if errors.Is(err, store.ErrBadRecord) {
			msg, sentinel = "invalid "+kind, store.ErrBadRecord
		}
		if _, reason, ok := strings.Cut(err.Error(), sentinel.Error()+": "); ok {
			msg += ": " + reason
		}
		return &llm.Error{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest,
			Fault: llm.FaultCaller, Err: err, Message: msg}
	case errors.Is(err, store.ErrNotFound):
		return &llm.Error{Status: http.StatusNotFound, Type: llm.TypeNotFound, Code: "not_found",
			Fault: llm.FaultCaller, Err: err, Message: "no such " + kind}
	case errors.Is(err, store.ErrConflict):
		if conflict == "" {
			conflict = "the " + kind + " conflicts with an existing one"
		}
		return &llm.Error{Status: http.StatusConflict, Type: llm.TypeInvalidRequest, Code: "conflict",
			Fault: llm.FaultCaller, Err: err, Message: conflict}
	}
	msg := "internal error in the admin store"
	if kind == kindLog {
		msg = "internal error reading the request logs"
	}
	return &llm.Error{Status: http.StatusInternalServerError, Type: llm.TypeAPI,
		Message: msg, Fault: llm.FaultGateway, Err: err}
}

// kindLog is storeError's kind for request-log reads.
const kindLog = "log record"
