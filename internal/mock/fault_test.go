package mock_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/mock"
)

// endpoints are one chat request per API, whole and streamed.
var endpoints = []struct {
	name, path, body, stream string // stream is the path?query of the streamed variant
	streamBody               string
	shape                    string
}{
	{"openai", "/v1/chat/completions", `{"model":"echo","messages":[{"role":"user","content":"abcdefghij"}]}`,
		"/v1/chat/completions", `{"model":"echo","stream":true,"messages":[{"role":"user","content":"abcdefghij"}]}`, "openai"},
	{"anthropic", "/v1/messages", `{"model":"c","max_tokens":50,"messages":[{"role":"user","content":"abcdefghij"}]}`,
		"/v1/messages", `{"model":"c","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"abcdefghij"}]}`, "anthropic"},
	{"gemini", "/v1beta/models/g:generateContent", `{"contents":[{"parts":[{"text":"abcdefghij"}]}]}`,
		"/v1beta/models/g:streamGenerateContent?alt=sse", `{"contents":[{"parts":[{"text":"abcdefghij"}]}]}`, "google"},
}

func TestStatusFaultsThenRecovery(t *testing.T) {
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			_, srv := newServer(t, mock.Options{})
			if resp, b := call(t, srv, "POST", "/_mock/faults", `{"count":2,"status":503}`); resp.StatusCode != 200 {
				t.Fatalf("inject: %d %s", resp.StatusCode, b)
			}
			for i := range 2 {
				resp, b := call(t, srv, "POST", ep.path, ep.body)
				if resp.StatusCode != 503 {
					t.Fatalf("request %d: %d, want 503", i, resp.StatusCode)
				}
				if e := parseAPIError(t, 503, b); e.Shape != ep.shape {
					t.Errorf("request %d: error shape %q, want %q: %s", i, e.Shape, ep.shape, b)
				}
			}
			if resp, b := call(t, srv, "POST", ep.path, ep.body); resp.StatusCode != 200 {
				t.Errorf("third request: %d %s, want 200", resp.StatusCode, b)
			}
		})
	}
}

func TestRateLimitFaultSetsRetryAfter(t *testing.T) {
	_, srv := newServer(t, mock.Options{})
	call(t, srv, "POST", "/_mock/faults", `{"count":1,"status":429,"retry_after":7}`)
	resp, b := call(t, srv, "POST", endpoints[0].path, endpoints[0].body)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Fatalf("got %d Retry-After %q, want 429 and 7", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if e := parseAPIError(t, 429, b); e.Type != "requests" {
		t.Errorf("OpenAI 429 type %q, want requests", e.Type)
	}
}

func TestFaultBodyAndReplacement(t *testing.T) {
	m, srv := newServer(t, mock.Options{})
	m.InjectFault(mock.Fault{Count: 5, Status: 500})
	m.InjectFault(mock.Fault{Status: 418, Body: `{"custom":true}`}) // replaces; count 0 means one
	resp, b := call(t, srv, "POST", endpoints[0].path, endpoints[0].body)
	if resp.StatusCode != 418 || string(b) != `{"custom":true}` {
		t.Errorf("got %d %s, want 418 with the custom body", resp.StatusCode, b)
	}
	if resp, b := call(t, srv, "POST", endpoints[0].path, endpoints[0].body); resp.StatusCode != 200 {
		t.Errorf("after the replaced fault: %d %s, want 200", resp.StatusCode, b)
	}
}

// readPartial reads what a dropped connection delivered.
func readPartial(t *testing.T, srv *httptest.Server, path, body string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestDropMidStreamTruncatesStreams(t *testing.T) {
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			_, srv := newServer(t, mock.Options{})
			call(t, srv, "POST", "/_mock/faults", `{"count":1,"drop_mid_stream":true}`)
			resp, b, err := readPartial(t, srv, ep.stream, ep.streamBody)
			if resp.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("status %d, read error %v; want 200 and an unexpected EOF", resp.StatusCode, err)
			}
			events := parseSSE(t, b)
			if len(events) < 2 {
				t.Errorf("only %d events before the drop; want some", len(events))
			}
			for _, ev := range events {
				if ev.Data == "[DONE]" || ev.Name == "message_stop" || strings.Contains(ev.Data, "finishReason") {
					t.Errorf("the stream's end event %q arrived despite the drop", ev.Data)
				}
			}

			full, b2 := call(t, srv, "POST", ep.stream, ep.streamBody)
			if full.StatusCode != 200 || len(parseSSE(t, b2)) <= len(events) {
				t.Errorf("the next stream was not whole: %d %s", full.StatusCode, b2)
			}
		})
	}
}

func TestDropMidStreamCutsWholeAnswers(t *testing.T) {
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			_, srv := newServer(t, mock.Options{})
			call(t, srv, "POST", "/_mock/faults", `{"drop_mid_stream":true}`)
			resp, b, err := readPartial(t, srv, ep.path, ep.body)
			if !errors.Is(err, io.ErrUnexpectedEOF) || int64(len(b)) >= resp.ContentLength {
				t.Errorf("read %d of %d bytes, error %v; want a short body and an unexpected EOF",
					len(b), resp.ContentLength, err)
			}
		})
	}
}
