package gateway

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
