package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

const testKey = "sk-test-0123456789-secret"

// seen is what the fake upstream received.
type seen struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// upstream is a fake OpenAI-wire server on 127.0.0.1, port 0. handler may
// be nil (answer 200 {}); what arrived is recorded in order.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newUpstream(t *testing.T, handler http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		u.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if handler == nil {
			w.Write([]byte(`{}`))
			return
		}
		handler(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

// last returns the last request the upstream received.
func (u *upstream) last(t *testing.T) seen {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.reqs) == 0 {
		t.Fatal("the upstream received no request")
	}
	return u.reqs[len(u.reqs)-1]
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs)
}

// newProvider returns an adapter aimed at u ("/v1" appended for every type
// but Azure), with the test key and a static header; mod may change cfg.
func newProvider(t *testing.T, u *upstream, mod func(*provider.Config)) *Provider {
	t.Helper()
	cfg := provider.Config{Name: "up", Type: "openai", BaseURL: u.URL + "/v1", APIKey: testKey,
		Headers: map[string]string{"OpenAI-Organization": "org-test"}, Client: u.Client()}
	if mod != nil {
		mod(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Provider)
}

// serveFile answers with a recorded stream, written in small flushed pieces
// so the client reads it at awkward boundaries.
func serveFile(t *testing.T, name string, piece int) http.HandlerFunc {
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for len(data) > 0 {
			n := min(piece, len(data))
			w.Write(data[:n])
			w.(http.Flusher).Flush()
			data = data[n:]
		}
	}
}

func chatRequest() *llm.Request {
	return &llm.Request{Model: "gpt-4o", Format: "openai", Messages: []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("Be brief.")}},
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Weather in Edinburgh and AAPL price?")}},
	}}
}

// wantError checks err is an *llm.Error from provider "up" with the given
// status and code.
func wantError(t *testing.T, err error, status int, code string) *llm.Error {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want an *llm.Error", err, err)
	}
	if e.Status != status || e.Code != code || e.Provider != "up" {
		t.Errorf("got %d %q provider %q (%v); want %d %q provider up", e.Status, e.Code, e.Provider, e, status, code)
	}
	return e
}

func jsonEqual(t *testing.T, want string, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

// waitFor fails the test if ch is not closed in a generous time: a guard
// against hangs, not a timing assertion.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// blockUntilDone holds a handler until the request is abandoned, closing
// arrived first.
func blockUntilDone(arrived chan struct{}) http.HandlerFunc {
	var once sync.Once
	return func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		<-r.Context().Done()
	}
}
