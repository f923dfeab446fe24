package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const hello = `{"model":"oai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`

func TestBadInputGetsOpenAIErrors(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		code   string // expected error.code; "" = any
		param  string // expected error.param; "" = any
	}{
		{"malformed JSON", "/v1/chat/completions", `{"model":`, 400, "", ""},
		{"not an object", "/v1/chat/completions", `[1,2]`, 400, "", ""},
		{"messages wrong type", "/v1/chat/completions", `{"model":"chat-default","messages":"hi"}`, 400, "", "messages"},
		{"missing model", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, 400, "", "model"},
		{"missing messages", "/v1/chat/completions", `{"model":"chat-default"}`, 400, "", "messages"},
		{"empty messages", "/v1/chat/completions", `{"model":"chat-default","messages":[]}`, 400, "", "messages"},
		{"unknown role", "/v1/chat/completions", `{"model":"chat-default","messages":[{"role":"wizard","content":"hi"}]}`, 400, "", ""},
		{"invalid UTF-8", "/v1/chat/completions", "{\"model\":\"chat-default\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}", 400, "", ""},
		{"unknown model", "/v1/chat/completions", `{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}`, 404, "model_not_found", "model"},
		{"unknown provider prefix", "/v1/chat/completions", `{"model":"nobody/x","messages":[{"role":"user","content":"hi"}]}`, 404, "model_not_found", "model"},
		{"oversized body", "/v1/chat/completions", `{"model":"chat-default","messages":[{"role":"user","content":"` + strings.Repeat("x", 70000) + `"}]}`, 413, "request_too_large", ""},
		{"top_k is not OpenAI's", "/v1/chat/completions", `{"model":"oai/gpt-4o-mini","top_k":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "", "top_k"},
		{"embeddings without input", "/v1/embeddings", `{"model":"oai/text-embedding-3-small"}`, 400, "", "input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := env.post(tc.path, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type = %q", ct)
			}
			e := decodeAPIError(t, body)
			if tc.code != "" && deref(e.Error.Code) != tc.code {
				t.Errorf("code = %q, want %q", deref(e.Error.Code), tc.code)
			}
			if tc.param != "" && deref(e.Error.Param) != tc.param {
				t.Errorf("param = %q, want %q", deref(e.Error.Param), tc.param)
			}
		})
	}
}

func TestAnthropicEndpointErrorsUseAnthropicShape(t *testing.T) {
	env := newEnv(t)
	resp, body := env.post("/v1/messages", `{"model":"claude/x","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 400 {
		t.Fatalf("missing max_tokens: status = %d: %s", resp.StatusCode, body)
	}
	var e struct {
		Type  string `json:"type"`
		Error struct{ Type, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Type != "error" || e.Error.Type != "invalid_request_error" || e.Error.Message == "" {
		t.Errorf("body = %s (%v), want Anthropic's error shape", body, err)
	}
}

func TestRoutesAndMethods(t *testing.T) {
	env := newEnv(t)
	resp, body := env.get("/v1/chat/completions")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET chat: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	decodeAPIError(t, body)
	resp, body = env.get("/nowhere")
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
	decodeAPIError(t, body)
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, _ := env.get(p); resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

func TestResponseHeadersSayWhatAnswered(t *testing.T) {
	env := newEnv(t)
	resp, body := env.post("/v1/chat/completions", hello)
	if resp.StatusCode != 200 {
		t.Fatalf("%d: %s", resp.StatusCode, body)
	}
	if p, m := resp.Header.Get("X-Sluice-Provider"), resp.Header.Get("X-Sluice-Model"); p != "oai" || m != "gpt-4o-mini" {
		t.Errorf("x-sluice-provider/model = %q/%q", p, m)
	}
	if id := resp.Header.Get("X-Request-Id"); len(id) != 26 {
		t.Errorf("generated request id = %q", id)
	}
}

// TestClientRequestIDsAreKeptButNeverKeyTheLog guards against a retry that
// reuses its X-Request-Id losing its (billable) record: the gateway's own
// id keys the record and the client's is kept beside it.
func TestClientRequestIDsAreKeptButNeverKeyTheLog(t *testing.T) {
	env := newEnv(t)
	var ids []string
	for range 2 {
		resp, body := env.post("/v1/chat/completions", hello, "X-Request-Id", "client-chosen-id-42")
		if resp.StatusCode != 200 {
			t.Fatalf("%d: %s", resp.StatusCode, body)
		}
		ids = append(ids, resp.Header.Get("X-Request-Id"))
	}
	if ids[0] == ids[1] || len(ids[0]) != 26 {
		t.Fatalf("x-request-id %q, %q: want two gateway ids", ids[0], ids[1])
	}
	for _, id := range ids {
		if rec := env.record(id); rec.ClientRequestID != "client-chosen-id-42" {
			t.Errorf("record %s client_request_id %q", id, rec.ClientRequestID)
		}
	}
	resp, _ := env.post("/v1/chat/completions", hello, "X-Request-Id", "bad id with spaces")
	id := resp.Header.Get("X-Request-Id")
	if rec := env.record(id); rec.ClientRequestID != "" {
		t.Errorf("unsafe client request id kept: %q", rec.ClientRequestID)
	}
}

// fault makes the mock fail its next requests.
func (e *testEnv) fault(spec string) {
	e.t.Helper()
	resp, err := http.Post(e.mockURL+"/_mock/faults", "application/json", strings.NewReader(spec))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		e.t.Fatalf("fault %s: %d", spec, resp.StatusCode)
	}
}

func TestFallbackOnProviderFailure(t *testing.T) {
	env := newEnv(t)
	env.fault(`{"count":1,"status":503}`)
	resp, body := env.post("/v1/chat/completions", `{"model":"resilient","messages":[{"role":"user","content":"still answered"}]}`)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "still answered") {
		t.Fatalf("%d: %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Sluice-Attempts"); got != "2" {
		t.Errorf("attempts = %q, want 2", got)
	}
	if got := resp.Header.Get("X-Sluice-Provider"); got != "oai" {
		t.Errorf("answered by %q, want the fallback oai", got)
	}
}

func TestUpstreamErrorsKeepTheirMeaning(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		name, fault string
		status      int
		retryAfter  string
	}{
		{"rate limit stays 429 with Retry-After", `{"count":1,"status":429,"retry_after":7}`, 429, "7"},
		{"server error becomes 502", `{"count":1,"status":500}`, 502, ""},
		{"unavailable stays 503", `{"count":1,"status":503}`, 503, ""},
		{"upstream auth failure is not the client's", `{"count":1,"status":401}`, 502, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env.fault(tc.fault)
			resp, body := env.post("/v1/chat/completions", hello)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			decodeAPIError(t, body)
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			if strings.Contains(string(body), "secret") {
				t.Errorf("error body leaks a credential: %s", body)
			}
		})
	}
}

func TestStreamCutMidwayEndsWithErrorEvent(t *testing.T) {
	env := newEnv(t)
	env.fault(`{"count":1,"drop_mid_stream":true}`)
	resp, body := env.post("/v1/chat/completions", `{"model":"oai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"one two three four five six"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	text := string(body)
	if strings.Contains(text, "[DONE]") {
		t.Errorf("a truncated stream must not end with [DONE]:\n%s", text)
	}
	if !strings.Contains(text, `"error"`) {
		t.Errorf("no error event at the end:\n%s", text)
	}
	if !strings.HasSuffix(text, "\n\n") {
		t.Errorf("last event not terminated by a blank line: %q", text[max(0, len(text)-40):])
	}
}

func TestEveryStreamEventEndsWithBlankLine(t *testing.T) {
	env := newEnv(t)
	for _, tc := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"claude/x","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a b c d e f"}]}`},
		{"/v1/messages", `{"model":"gem/x","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"a b c d e f"}]}`},
	} {
		resp, body := env.post(tc.path, tc.body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("%s: %d %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		events := strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
		if len(events) < 4 || !strings.HasSuffix(string(body), "\n\n") {
			t.Fatalf("%s: %d events, body %q", tc.path, len(events), body)
		}
		for _, ev := range events {
			if strings.TrimSpace(ev) == "" || !strings.Contains(ev, "data: ") {
				t.Errorf("%s: malformed event %q", tc.path, ev)
			}
		}
	}
}

func TestPassthroughInjectsProviderCredentialsOnly(t *testing.T) {
	env := newEnv(t)
	resp, body := env.post("/oai/chat/completions?trace=1", hello,
		"Authorization", "Bearer sk-client-key", "X-Sluice-Metadata", `{"a":"b"}`, "Cookie", "session=abc")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"hi"`) {
		t.Fatalf("%d: %s", resp.StatusCode, body)
	}
	last := env.lastUpstream()
	if last.Path != "/v1/chat/completions?trace=1" {
		t.Errorf("upstream path = %q", last.Path)
	}
	if got := last.header("Authorization"); got != "Bearer sk-provider-oai-secret" {
		t.Errorf("upstream Authorization = %q, want the provider's key", got)
	}
	for _, h := range []string{"Cookie", "X-Sluice-Metadata"} {
		if got := last.header(h); got != "" {
			t.Errorf("client header %s reached the upstream: %q", h, got)
		}
	}
	// Anthropic passthrough gets x-api-key, never the client's.
	resp, body = env.post("/claude/v1/messages", `{"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"yo"}]}`,
		"X-Api-Key", "sk-ant-client-key")
	if resp.StatusCode != 200 {
		t.Fatalf("anthropic passthrough: %d %s", resp.StatusCode, body)
	}
	if got := env.lastUpstream().header("X-Api-Key"); got != "sk-provider-claude-secret" {
		t.Errorf("upstream x-api-key = %q", got)
	}
	// Only configured providers: anything else is a 404, not a request.
	before := env.mock.Stats().Requests
	for _, p := range []string{"/evil.example.com/v1/chat/completions", "/v1/nothing"} {
		if resp, _ := env.post(p, hello); resp.StatusCode != 404 {
			t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
		}
	}
	if after := env.mock.Stats().Requests; after != before {
		t.Errorf("unconfigured passthrough reached the upstream (%d → %d requests)", before, after)
	}
}

func TestClientCredentialsNeverReachProviders(t *testing.T) {
	env := newEnv(t)
	for _, tc := range []struct{ path, body, header string }{
		{"/v1/chat/completions", hello, "Authorization"},
		{"/v1/chat/completions", `{"model":"claude/x","messages":[{"role":"user","content":"hi"}]}`, "X-Api-Key"},
		{"/v1/messages", `{"model":"gem/x","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`, "X-Goog-Api-Key"},
	} {
		resp, body := env.post(tc.path, tc.body, "Authorization", "Bearer sk-client-key", "X-Api-Key", "sk-client-key")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tc.path, resp.StatusCode, body)
		}
		last := env.lastUpstream()
		raw, _ := json.Marshal(last)
		if strings.Contains(string(raw), "sk-client-key") {
			t.Errorf("%s: the client's key reached the provider: %s", tc.path, raw)
		}
		if last.header(tc.header) == "" {
			t.Errorf("%s: provider credential header %s missing", tc.path, tc.header)
		}
	}
	if strings.Contains(env.logText(), "secret") {
		t.Errorf("a provider key appears in the log")
	}
}

// A client that disconnects mid-stream must cancel the upstream request.
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	upstreamDone := make(chan struct{})
	upstream := newSlowStreamUpstream(t, upstreamDone)
	env := newEnvWithProvider(t, upstream)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.url+"/v1/chat/completions",
		strings.NewReader(`{"model":"slow/m","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first line %q, %v", line, err)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-upstreamDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request was not cancelled after the client left")
	}
}

// newSlowStreamUpstream is an OpenAI-style upstream that sends one chunk
// and then holds the stream open until its request is cancelled, when it
// closes done.
func newSlowStreamUpstream(t *testing.T, done chan struct{}) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"first"},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(done)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// newEnvWithProvider is a gateway with one OpenAI-type provider "slow" at
// upstream.
func newEnvWithProvider(t *testing.T, upstream string) *testEnv {
	t.Helper()
	g, url := serveYAML(t, `providers: [ { name: slow, type: openai, base_url: "`+upstream+`/v1", api_key: k } ]`)
	return &testEnv{t: t, gw: g, url: url}
}

func TestAnthropicBetaHeaderReachesAnthropicUpstreamsOnly(t *testing.T) {
	env := newEnv(t)
	body := `{"model":"claude/claude-x","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}`
	if resp, b := env.post("/v1/messages", body, "Anthropic-Beta", "context-1m-2025-08-07"); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if got := env.lastUpstream().header("Anthropic-Beta"); got != "context-1m-2025-08-07" {
		t.Errorf("anthropic-beta upstream = %q", got)
	}
	// An OpenAI client's request to an Anthropic upstream has no betas.
	if resp, b := env.post("/v1/chat/completions", `{"model":"claude/claude-x","messages":[{"role":"user","content":"hi"}]}`,
		"Anthropic-Beta", "context-1m-2025-08-07"); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if got := env.lastUpstream().header("Anthropic-Beta"); got != "" {
		t.Errorf("anthropic-beta forwarded for an OpenAI client: %q", got)
	}
}
