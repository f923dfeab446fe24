package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRecovererAnswers500AndLogsThePanic(t *testing.T) {
	var logs bytes.Buffer
	g := &Gateway{log: slog.New(slog.NewTextHandler(&logs, nil))}
	h := requestID(g.recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom in a handler")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d", rec.Code)
	}
	var body struct {
		Error struct{ Message, Type string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Type != "api_error" {
		t.Fatalf("body = %s (%v)", rec.Body, err)
	}
	if strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("the panic value leaked to the client: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), "boom in a handler") {
		t.Errorf("the panic was not logged: %s", logs.String())
	}
}

func TestRecovererAbortsAStartedResponse(t *testing.T) {
	g := &Gateway{log: slog.New(slog.DiscardHandler)}
	h := g.recoverer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("data: partial\n\n"))
		panic("late failure")
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler so the connection is cut", v)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
}

func TestRequestIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newRequestID()
		if len(id) != 26 || seen[id] || !validRequestID(id) {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
	a := newRequestID()
	for _, bad := range []string{"", "has space", strings.Repeat("x", 129), "tab\there", "ünïcode"} {
		if validRequestID(bad) {
			t.Errorf("validRequestID(%q) = true", bad)
		}
	}
	if b := newRequestID(); b[:9] < a[:9] {
		t.Errorf("ids do not sort by time: %s then %s", a, b)
	}
}

// TestControlHeadersCanonical guards headerValue's callers: a key that is
// not in canonical form would never match.
func TestControlHeadersCanonical(t *testing.T) {
	for _, k := range []string{headerMetadata, headerCustomCost, headerLogPayload, "X-Request-Id"} {
		if c := http.CanonicalHeaderKey(k); c != k {
			t.Errorf("%q is not canonical (%q)", k, c)
		}
	}
}

// TestRecovererBehindObserve: behind observe's status writer (which the
// recoverer reuses) a panic after the first byte still cuts the response,
// and one before it still answers 500.
func TestRecovererBehindObserve(t *testing.T) {
	g := &Gateway{log: slog.New(slog.DiscardHandler)}
	late := g.recoverer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("partial"))
		panic("late failure")
	}))
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler", v)
			}
		}()
		late.ServeHTTP(&statusWriter{ResponseWriter: httptest.NewRecorder()}, httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	early := g.recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("early failure") }))
	rec := httptest.NewRecorder()
	sw := &statusWriter{ResponseWriter: rec}
	early.ServeHTTP(sw, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusInternalServerError || sw.status != http.StatusInternalServerError {
		t.Errorf("status %d (recorded %d), want 500", rec.Code, sw.status)
	}
}

// TestSharedHeaderValues: the header values the gateway shares between
// responses (and keeps in requestInfo) are never written through: adding
// a value copies them.
func TestSharedHeaderValues(t *testing.T) {
	ri := &requestInfo{}
	h := http.Header{}
	h["Content-Type"] = jsonContentType
	ri.setHeader(h, "X-Request-Id", hdrRequestID, "id-1")
	h.Add("Content-Type", "text/plain")
	h.Add("X-Request-Id", "id-2")
	if len(jsonContentType) != 1 || jsonContentType[0] != "application/json" || ri.hdr[hdrRequestID+1] != "" {
		t.Fatalf("shared values changed: %q, %q", jsonContentType, ri.hdr)
	}
	if got := h.Values("X-Request-Id"); len(got) != 2 || got[0] != "id-1" || got[1] != "id-2" {
		t.Errorf("X-Request-Id = %q", got)
	}
}

// TestInfoContext: the request's info is found through contexts derived
// from the one requestID makes, which passes other values through.
func TestInfoContext(t *testing.T) {
	type key struct{}
	var got *requestInfo
	var other any
	h := requestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		got, other = infoFrom(ctx), ctx.Value(key{})
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(context.WithValue(req.Context(), key{}, "v"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got == nil || got.id == "" || got.id != rec.Header().Get("X-Request-Id") || other != "v" {
		t.Errorf("info %+v, other value %v, header %q", got, other, rec.Header().Get("X-Request-Id"))
	}
}

// TestHTTPDate: the shared Date value is the server's own format of the
// second asked for, and changes with the second.
func TestHTTPDate(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 21, 40, 7, 100, time.UTC)
	if got, want := httpDate(t0)[0], t0.Format(http.TimeFormat); got != want {
		t.Errorf("httpDate = %q, want %q", got, want)
	}
	if got := httpDate(t0.Add(500 * time.Millisecond))[0]; got != t0.Format(http.TimeFormat) {
		t.Errorf("same second: %q", got)
	}
	if got, want := httpDate(t0.Add(time.Second))[0], t0.Add(time.Second).Format(http.TimeFormat); got != want {
		t.Errorf("next second: %q, want %q", got, want)
	}
}
