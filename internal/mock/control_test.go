package mock_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/mock"
)

// caller sends one request to a test server.
type caller func(method, path, body string, headers ...string) (*http.Response, []byte)

func getStats(t *testing.T, do caller) int64 {
	t.Helper()
	_, b := do("GET", "/_mock/stats", "")
	var s mock.Stats
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("stats %s: %v", b, err)
	}
	return s.Requests
}

func TestStatsCountOnlyProviderRequests(t *testing.T) {
	m, srv := newServer(t, mock.Options{})
	do := caller(func(method, path, body string, headers ...string) (*http.Response, []byte) {
		return call(t, srv, method, path, body, headers...)
	})
	if n := getStats(t, do); n != 0 {
		t.Fatalf("fresh server: %d requests", n)
	}
	do("POST", "/v1/chat/completions", `{"model":"echo","messages":[{"role":"user","content":"x"}]}`)
	do("GET", "/v1/models", "")
	do("POST", "/v1/chat/completions", `not json`) // rejected requests count too
	do("GET", "/nowhere", "")
	do("GET", "/_mock/last", "")
	do("POST", "/_mock/faults", `{"count":0,"delay_ms":0}`)
	do("GET", "/_mock/nope", "")
	if n := getStats(t, do); n != 4 {
		t.Errorf("stats over HTTP = %d, want 4", n)
	}
	if s := m.Stats(); s.Requests != 4 {
		t.Errorf("Stats() = %+v, want 4", s)
	}
	if last, _ := m.Last(); last.Path != "/nowhere" {
		t.Errorf("last = %q: control calls must not be recorded", last.Path)
	}
}

func TestLastRecordsTheRequest(t *testing.T) {
	m, srv := newServer(t, mock.Options{})
	resp, b := call(t, srv, "GET", "/_mock/last", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("before any request: %d %s, want 404", resp.StatusCode, b)
	}
	body := `{"contents":[{"parts":[{"text":"hi"}]}]}`
	call(t, srv, "POST", "/v1beta/models/g:streamGenerateContent?alt=sse&key=k1", body,
		"x-goog-api-key", "secret-test-key", "X-Custom", "a", "X-Custom", "b")

	resp, b = call(t, srv, "GET", "/_mock/last", "")
	var got mock.Recorded
	if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("last: %d %s (%v)", resp.StatusCode, b, err)
	}
	want := mock.Recorded{Method: "POST", Path: "/v1beta/models/g:streamGenerateContent?alt=sse&key=k1", Body: body,
		Headers: http.Header{"X-Goog-Api-Key": {"secret-test-key"}, "X-Custom": {"a", "b"},
			"Content-Type": {"application/json"}}}
	// Keep only the headers the test set; the client adds its own.
	for name := range got.Headers {
		if _, ok := want.Headers[name]; !ok {
			delete(got.Headers, name)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/_mock/last (-want +got):\n%s", diff)
	}
	direct, ok := m.Last()
	if !ok || direct.Body != body || direct.Path != want.Path {
		t.Errorf("Last() = %+v, %v", direct, ok)
	}
}

func TestResetClearsEverything(t *testing.T) {
	m, srv := newServer(t, mock.Options{})
	chat := `{"model":"echo","messages":[{"role":"user","content":"x"}]}`
	call(t, srv, "POST", "/v1/chat/completions", chat)
	call(t, srv, "POST", "/_mock/faults", `{"count":5,"status":500}`)
	if resp, _ := call(t, srv, "POST", "/_mock/reset", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if s := m.Stats(); s.Requests != 0 {
		t.Errorf("requests after reset = %d", s.Requests)
	}
	if _, ok := m.Last(); ok {
		t.Errorf("last request survived reset")
	}
	if resp, b := call(t, srv, "POST", "/v1/chat/completions", chat); resp.StatusCode != 200 {
		t.Errorf("pending fault survived reset: %d %s", resp.StatusCode, b)
	}
}

func TestControlAPIErrors(t *testing.T) {
	_, srv := newServer(t, mock.Options{})
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"stats by POST", "POST", "/_mock/stats", "", 405},
		{"reset by GET", "GET", "/_mock/reset", "", 405},
		{"faults by GET", "GET", "/_mock/faults", "", 405},
		{"unknown", "GET", "/_mock/everything", "", 404},
		{"fault not JSON", "POST", "/_mock/faults", "{", 400},
		{"fault negative count", "POST", "/_mock/faults", `{"count":-1}`, 400},
		{"fault bad status", "POST", "/_mock/faults", `{"status":1000}`, 400},
		{"fault negative delay", "POST", "/_mock/faults", `{"delay_ms":-5}`, 400},
		{"fault negative retry", "POST", "/_mock/faults", `{"status":429,"retry_after":-1}`, 400},
		{"fault ok", "POST", "/_mock/faults", `{"status":503}`, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := call(t, srv, tc.method, tc.path, tc.body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, b)
			}
			if tc.want >= 400 {
				parseAPIError(t, resp.StatusCode, b)
			}
		})
	}
}
