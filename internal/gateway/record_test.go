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

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/usage"
)

// clientUsage is the usage object of an OpenAI chat answer.
type clientUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	Details          struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

func chatUsage(t *testing.T, body []byte) clientUsage {
	t.Helper()
	var a struct {
		Usage *clientUsage `json:"usage"`
	}
	if err := json.Unmarshal(body, &a); err != nil || a.Usage == nil {
		t.Fatalf("no usage in answer (%v): %s", err, body)
	}
	return *a.Usage
}

// priceOf is the catalog price the gateway should have used.
func priceOf(t *testing.T, provider, typ, model string) usage.Price {
	t.Helper()
	p, ok := usage.Default().Lookup(provider, typ, model)
	if !ok {
		t.Fatalf("no catalog price for %s/%s", typ, model)
	}
	return p
}

// ignoreVolatile skips what a test cannot know in advance.
var ignoreVolatile = cmpopts.IgnoreFields(store.Record{}, "Time", "LatencyMicros", "TTFTMicros", "ClientIP", "UserAgent")

const chatBody = `{"model":"chat-default","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is the capital of France?"}]}`

func TestRecordOfAChatRequest(t *testing.T) {
	env := newEnv(t)
	resp, body := env.post("/v1/chat/completions", chatBody,
		"X-Sluice-Metadata", `{"team":"search","n":3,"beta":true}`, "X-Sluice-Log-Payload", "true")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Request-Id")
	got := env.record(id)
	u := chatUsage(t, body)
	want := store.Record{
		ID: id, Route: "/v1/chat/completions", ModelRequested: "chat-default", Provider: "oai",
		Model: "gpt-4o-mini", Attempts: 1, Status: 200,
		PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
		CostMicros: usage.Cost(priceOf(t, "oai", "openai", "gpt-4o-mini"),
			llm.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens}),
		PriceKnown:  true,
		Metadata:    map[string]string{"team": `"search"`, "n": "3", "beta": "true"},
		RequestBody: []byte(chatBody), ResponseBody: body,
		Node: (&config.Cluster{}).NodeName(), // no cluster.node_id: the host name
	}
	if diff := cmp.Diff(got, want, ignoreVolatile); diff != "" {
		t.Errorf("record (-got +want):\n%s", diff)
	}
	if got.CostMicros <= 0 {
		t.Errorf("cost %d: the mock's usage should cost something", got.CostMicros)
	}
	if got.ClientIP != "127.0.0.1" || !strings.HasPrefix(got.UserAgent, "Go-http-client") {
		t.Errorf("client ip %q, user agent %q", got.ClientIP, got.UserAgent)
	}
	if got.LatencyMicros <= 0 || got.TTFTMicros != 0 {
		t.Errorf("latency %dµs, ttft %dµs: want latency > 0 and no TTFT for a whole answer", got.LatencyMicros, got.TTFTMicros)
	}
	if d := time.Since(got.Time); d < 0 || d > time.Minute {
		t.Errorf("record time %v is not now", got.Time)
	}
}

func TestPayloadsAreNotLoggedByDefault(t *testing.T) {
	env := newEnv(t)
	resp, body := env.post("/v1/chat/completions", chatBody)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := env.record(resp.Header.Get("X-Request-Id"))
	if got.RequestBody != nil || got.ResponseBody != nil {
		t.Errorf("bodies logged without being asked: %q / %q", got.RequestBody, got.ResponseBody)
	}
}

func TestStreamRecordsUsageWhetherOrNotTheClientAskedForIt(t *testing.T) {
	env := newEnv(t)
	// The same prompt unstreamed tells the mock's token counts.
	resp, body := env.post("/v1/chat/completions", chatBody)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	want := chatUsage(t, body)
	for _, tc := range []struct {
		name         string
		includeUsage bool
	}{{"client asked for usage", true}, {"client did not ask", false}} {
		t.Run(tc.name, func(t *testing.T) {
			req := strings.Replace(chatBody, `"model"`, `"stream":true,"model"`, 1)
			if tc.includeUsage {
				req = strings.Replace(req, `"model"`, `"stream_options":{"include_usage":true},"model"`, 1)
			}
			resp, body := env.post("/v1/chat/completions", req)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if sent := strings.Contains(string(body), `"usage":{`); sent != tc.includeUsage {
				t.Errorf("usage chunk sent to the client: %v, want %v:\n%s", sent, tc.includeUsage, body)
			}
			got := env.record(resp.Header.Get("X-Request-Id"))
			if got.PromptTokens != want.PromptTokens || got.CompletionTokens != want.CompletionTokens || got.Estimated {
				t.Errorf("tokens %d/%d estimated=%v, want %d/%d from the provider",
					got.PromptTokens, got.CompletionTokens, got.Estimated, want.PromptTokens, want.CompletionTokens)
			}
			if !got.Stream || got.TTFTMicros <= 0 || got.TTFTMicros > got.LatencyMicros {
				t.Errorf("stream %v ttft %dµs latency %dµs", got.Stream, got.TTFTMicros, got.LatencyMicros)
			}
		})
	}
}

func TestStreamCutShortIsCountedAndMarkedEstimated(t *testing.T) {
	env := newEnv(t)
	env.fault(`{"count":1,"drop_mid_stream":true}`)
	resp, body := env.post("/v1/chat/completions", `{"model":"oai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"one two three four five six"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := env.record(resp.Header.Get("X-Request-Id"))
	wantPrompt := usage.CountRequest(&llm.Request{Model: "gpt-4o-mini",
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("one two three four five six")}}}})
	if !got.Estimated || got.PromptTokens != wantPrompt || got.CompletionTokens <= 0 {
		t.Errorf("estimated=%v prompt=%d (want %d) completion=%d: a cut stream must be counted by the gateway",
			got.Estimated, got.PromptTokens, wantPrompt, got.CompletionTokens)
	}
	if got.Status < 500 || got.ErrorCode == "" {
		t.Errorf("status %d code %q: the record must say the stream failed", got.Status, got.ErrorCode)
	}
}

func TestClientLeavingMidStreamIsRecorded(t *testing.T) {
	upstreamDone := make(chan struct{})
	upstream := newSlowStreamUpstream(t, upstreamDone)
	url, db := serveRecorded(t, `providers: [ { name: slow, type: openai, base_url: "`+upstream+`/v1", api_key: k } ]`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions",
		strings.NewReader(`{"model":"slow/m","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Header.Get("X-Request-Id")
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	<-upstreamDone
	got := waitRecord(t, db, id)
	if got.Status != 499 || got.ErrorCode != "client_closed" || !got.Estimated || got.CompletionTokens != 1 {
		t.Errorf("status %d code %q estimated %v completion %d; want 499 client_closed, estimated, 1 token (\"first\")",
			got.Status, got.ErrorCode, got.Estimated, got.CompletionTokens)
	}
}

func TestBadControlHeadersAreRefusedAndRecorded(t *testing.T) {
	env := newEnv(t)
	for _, tc := range []struct{ name, header, value string }{
		{"metadata not JSON", "X-Sluice-Metadata", `team=search`},
		{"metadata nested", "X-Sluice-Metadata", `{"a":{"b":1}}`},
		{"metadata array", "X-Sluice-Metadata", `{"a":[1]}`},
		{"metadata null", "X-Sluice-Metadata", `{"a":null}`},
		{"metadata nine keys", "X-Sluice-Metadata", `{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1}`},
		{"metadata trailing", "X-Sluice-Metadata", `{"a":1} {}`},
		{"log payload", "X-Sluice-Log-Payload", `maybe`},
		{"custom cost not JSON", "X-Sluice-Custom-Cost", `cheap`},
		{"custom cost negative", "X-Sluice-Custom-Cost", `{"per_token_in":-1,"per_token_out":0}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := env.post("/v1/chat/completions", chatBody, tc.header, tc.value)
			if resp.StatusCode != 400 {
				t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
			}
			e := decodeAPIError(t, body)
			if deref(e.Error.Code) != "invalid_header" || deref(e.Error.Param) != strings.ToLower(tc.header) {
				t.Errorf("code %q param %q", deref(e.Error.Code), deref(e.Error.Param))
			}
			got := env.record(resp.Header.Get("X-Request-Id"))
			if got.Status != 400 || got.ErrorCode != "invalid_header" {
				t.Errorf("record status %d code %q", got.Status, got.ErrorCode)
			}
		})
	}
}

func TestCustomCostHeaderPricesTheRequest(t *testing.T) {
	env := newEnv(t)
	resp, body := env.post("/v1/chat/completions", chatBody,
		"X-Sluice-Custom-Cost", `{"per_token_in":0.000002,"per_token_out":0.00001}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	u := chatUsage(t, body)
	got := env.record(resp.Header.Get("X-Request-Id"))
	// $2 and $10 per million tokens, in micro-dollars: 2 and 10 per token.
	if want := int64(u.PromptTokens*2 + u.CompletionTokens*10); got.CostMicros != want || !got.PriceKnown {
		t.Errorf("cost %dµ$ (known %v), want %dµ$", got.CostMicros, got.PriceKnown, want)
	}
}

func TestAdminAPIFindsTheRecord(t *testing.T) {
	env := newEnv(t)
	resp, body := env.post("/v1/chat/completions", chatBody, "X-Sluice-Metadata", `{"run":"admin-test"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Request-Id")
	env.record(id)
	req, _ := http.NewRequest(http.MethodGet, env.url+"/admin/v1/logs?metadata.run=admin-test", nil)
	req.Header.Set("Authorization", "Bearer "+envAdminKey)
	resp, body = env.do(req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var page struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &page); err != nil || len(page.Data) != 1 || page.Data[0].ID != id {
		t.Errorf("admin logs (%v): %s, want only %s", err, body, id)
	}
	resp, _ = env.get("/admin/v1/logs")
	if resp.StatusCode != 401 {
		t.Errorf("admin API without a token: status %d, want 401", resp.StatusCode)
	}
}

func TestMetricsCountRequests(t *testing.T) {
	env := newEnv(t)
	for range 3 {
		if resp, body := env.post("/v1/chat/completions", chatBody); resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	}
	env.post("/v1/chat/completions", `{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}`)
	if resp, _ := env.get("/wp-admin/setup.php"); resp.StatusCode != 404 { // a scanner, not an LLM call
		t.Fatalf("status %d", resp.StatusCode)
	}
	resp, body := env.get("/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	text := string(body)
	for _, want := range []string{
		`sluice_requests_total{cache="none",model="chat-default",provider="oai",route="/v1/chat/completions",status_class="2xx"} 3`,
		`sluice_requests_total{cache="none",model="other",provider="",route="/v1/chat/completions",status_class="4xx"} 1`,
		`sluice_log_records_dropped_total 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, `route="/{provider}/{rest...}"`) {
		t.Errorf("a path naming no provider was counted as passthrough")
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", grepLines(text, "sluice_"))
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestPromptCacheTokensArePricedAtTheirOwnRates(t *testing.T) {
	env := newEnv(t)
	long := strings.Repeat("lorem ipsum dolor sit amet ", 200) // > 1024 tokens for the mock
	for _, tc := range []struct{ name, provider, typ, model string }{
		{"openai cached input", "oai", "openai", "gpt-4o-mini"},
		{"gemini cached content", "gem", "gemini", "gemini-2.5-flash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"model":"` + tc.provider + "/" + tc.model + `","messages":[{"role":"user","content":"` + long + `"}]}`
			env.post("/v1/chat/completions", body) // primes the mock's prompt cache
			resp, answer := env.post("/v1/chat/completions", body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, answer)
			}
			u := chatUsage(t, answer)
			if u.Details.CachedTokens == 0 {
				t.Fatalf("the mock reported no cached tokens: %s", answer)
			}
			got := env.record(resp.Header.Get("X-Request-Id"))
			want := llm.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, CachedInputTokens: u.Details.CachedTokens}
			if got.PromptTokens != u.PromptTokens || got.CachedTokens != u.Details.CachedTokens {
				t.Errorf("record tokens %d (cached %d), client saw %d (cached %d)", got.PromptTokens, got.CachedTokens, u.PromptTokens, u.Details.CachedTokens)
			}
			price := priceOf(t, tc.provider, tc.typ, tc.model)
			full := usage.Cost(price, llm.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens})
			if c := usage.Cost(price, want); got.CostMicros != c || c >= full {
				t.Errorf("cost %dµ$, want %dµ$ and less than %dµ$ without the cache", got.CostMicros, c, full)
			}
		})
	}
	t.Run("anthropic cache write then read", func(t *testing.T) {
		body := `{"model":"claude/claude-haiku-4-5","max_tokens":50,"system":[{"type":"text","text":"` + long +
			`","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]}`
		var recs [2]store.Record
		for i := range recs {
			resp, answer := env.post("/v1/messages", body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, answer)
			}
			recs[i] = env.record(resp.Header.Get("X-Request-Id"))
		}
		write, read := recs[0], recs[1]
		if write.CacheWriteTokens == 0 || write.CacheWriteTokens != write.PromptTokens || write.CachedTokens != 0 {
			t.Errorf("first request: prompt %d, cache write %d, cached %d; want all prompt tokens written",
				write.PromptTokens, write.CacheWriteTokens, write.CachedTokens)
		}
		if read.CachedTokens != write.CacheWriteTokens || read.PromptTokens != write.PromptTokens || read.CacheWriteTokens != 0 {
			t.Errorf("second request: prompt %d, cached %d, cache write %d; want the first's %d tokens read",
				read.PromptTokens, read.CachedTokens, read.CacheWriteTokens, write.CacheWriteTokens)
		}
		price := priceOf(t, "claude", "anthropic", "claude-haiku-4-5")
		for _, r := range recs {
			u := llm.Usage{InputTokens: r.PromptTokens, OutputTokens: r.CompletionTokens,
				CachedInputTokens: r.CachedTokens, CacheWriteTokens: r.CacheWriteTokens}
			if c := usage.Cost(price, u); r.CostMicros != c {
				t.Errorf("cost %dµ$, want %dµ$", r.CostMicros, c)
			}
		}
		if write.CostMicros <= read.CostMicros {
			t.Errorf("a cache write (%dµ$) should cost more than a cache read (%dµ$)", write.CostMicros, read.CostMicros)
		}
	})
}

// TestPassthroughCutByTheUpstreamIsRecorded guards the deferred record in
// observe: the reverse proxy aborts with a panic when an upstream body
// breaks, and that request must still be logged and counted.
func TestPassthroughCutByTheUpstreamIsRecorded(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		io.WriteString(w, `{"par`)
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(upstream.Close)
	url, db := serveRecorded(t, `providers: [ { name: cut, type: openai, base_url: "`+upstream.URL+`/v1", api_key: k } ]`)
	req, _ := http.NewRequest(http.MethodPost, url+"/cut/chat/completions", strings.NewReader(`{}`))
	req.Header.Set("X-Request-Id", "cut-request-1") // the answer may never reach us
	if resp, err := http.DefaultClient.Do(req); err == nil {
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // cut on purpose
		resp.Body.Close()
	}
	var got store.Record
	deadline := time.Now().Add(10 * time.Second)
	for {
		page, err := db.QueryLogs(context.Background(), store.LogFilter{ClientRequestID: "cut-request-1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) == 1 {
			got = page.Records[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no record of the cut passthrough request")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got.Route != "/{provider}/{rest...}" || got.Provider != "cut" || got.Status != 502 || got.ErrorCode != "upstream_aborted" {
		t.Errorf("record route %q provider %q status %d code %q", got.Route, got.Provider, got.Status, got.ErrorCode)
	}
}

func TestRequestTooLargeIsRecorded(t *testing.T) {
	env := newEnv(t)
	resp, body := env.post("/v1/chat/completions", strings.Repeat("x", 70_000)) // max_body_bytes is 65536
	if resp.StatusCode != 413 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := env.record(resp.Header.Get("X-Request-Id"))
	if got.Route != "/v1/chat/completions" || got.Status != 413 || got.ErrorCode != "request_too_large" {
		t.Errorf("record route %q status %d code %q", got.Route, got.Status, got.ErrorCode)
	}
}

// TestStreamCutAfterItsUsageKeepsTheReport: the provider's final count
// arrived, so the gateway must not replace it with its own estimate.
func TestStreamCutAfterItsUsageKeepsTheReport(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{
			`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hello"},"finish_reason":null}]}`,
			`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`,
		} {
			io.WriteString(w, "data: "+ev+"\n\n")
		}
		w.(http.Flusher).Flush()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close() // no [DONE]
		}
	}))
	t.Cleanup(upstream.Close)
	url, db := serveRecorded(t, `providers: [ { name: up, type: openai, base_url: "`+upstream.URL+`/v1", api_key: k } ]`)
	resp, err := http.Post(url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"up/m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck
	resp.Body.Close()
	got := waitRecord(t, db, resp.Header.Get("X-Request-Id"))
	if got.Estimated || got.PromptTokens != 11 || got.CompletionTokens != 7 {
		t.Errorf("estimated %v, tokens %d/%d; want the provider's 11/7", got.Estimated, got.PromptTokens, got.CompletionTokens)
	}
}
