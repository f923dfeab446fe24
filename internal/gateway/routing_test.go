package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/gateway"
	"github.com/sluicehq/sluice/internal/mock"
)

// upstreams starts one mock provider per name on a loopback port and
// returns them by name, with "NAME_URL" replacements for a config text.
func upstreams(t *testing.T, names ...string) (map[string]*mock.Server, *strings.Replacer) {
	t.Helper()
	ms := make(map[string]*mock.Server, len(names))
	var pairs []string
	for _, n := range names {
		m := mock.New(mock.Options{StreamChunks: 3})
		s := httptest.NewServer(m)
		t.Cleanup(s.Close)
		ms[n] = m
		pairs = append(pairs, strings.ToUpper(n)+"_URL", s.URL)
	}
	return ms, strings.NewReplacer(pairs...)
}

// routeEnv is a gateway built from a whole config text (providers and
// models included), with the store, request log and admin API on.
func routeEnv(t *testing.T, yaml string) *testEnv {
	t.Helper()
	yaml += "\nserver: { data_dir: \"" + t.TempDir() + "\" }\nrequest_log: { flush_interval: 10ms }\nauth: { require_keys: false }\n"
	cfg, err := config.Parse([]byte(yaml), t.Name()+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedWriter{w: &bytes.Buffer{}}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := gateway.OpenServices(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	g, err := gateway.New(cfg, svc.Options(log, envAdminKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	gs := httptest.NewServer(g.Handler())
	t.Cleanup(gs.Close)
	env := &testEnv{t: t, gw: g, url: gs.URL, logs: logs, store: svc.Store, svc: svc}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", env.logText())
		}
	})
	return env
}

func routedBody(model string, stream bool) string {
	return fmt.Sprintf(`{"model":%q,"stream":%v,"messages":[{"role":"user","content":"hello there"}]}`, model, stream)
}

// adminGet sends an authenticated admin GET.
func (e *testEnv) adminGet(path string) []byte {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+envAdminKey)
	resp, body := e.do(req)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// targetState returns a target's breaker state from GET /admin/v1/providers.
func (e *testEnv) targetState(provider, model string) string {
	e.t.Helper()
	var out struct {
		Data []struct {
			Name    string `json:"name"`
			Targets []struct {
				Model string `json:"model"`
				State string `json:"state"`
			} `json:"targets"`
		} `json:"data"`
	}
	if err := json.Unmarshal(e.adminGet("/admin/v1/providers"), &out); err != nil {
		e.t.Fatal(err)
	}
	for _, p := range out.Data {
		for _, tg := range p.Targets {
			if p.Name == provider && tg.Model == model {
				return tg.State
			}
		}
	}
	return "untracked"
}

// TestFallbackOnUpstreamFailures is the first check: a primary
// answering 500, 503 or not at all (timeouts) never fails a client
// request; the fallback answers, and the record and headers show both
// attempts.
func TestFallbackOnUpstreamFailures(t *testing.T) {
	ms, urls := upstreams(t, "primary", "backup")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: primary, type: openai, base_url: "PRIMARY_URL/v1", api_key: k }
  - { name: backup, type: openai, base_url: "BACKUP_URL/v1", api_key: k }
models:
  - name: resilient
    strategy: fallback
    timeouts: { attempt: 300ms }
    targets:
      - { provider: primary, model: gpt-4o-mini }
      - { provider: backup, model: gpt-4o-mini }
routing: { breaker: { enabled: false } }
`))
	for _, tc := range []struct {
		name  string
		fault mock.Fault
	}{
		{"500", mock.Fault{Count: 100, Status: 500}},
		{"503", mock.Fault{Count: 100, Status: 503}},
		{"timeout", mock.Fault{Count: 100, DelayMS: 3000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms["primary"].InjectFault(tc.fault)
			for i := range 4 {
				stream := i%2 == 1
				resp, body := env.post("/v1/chat/completions", routedBody("resilient", stream))
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
				}
				if stream && !strings.Contains(string(body), "data: [DONE]") {
					t.Fatalf("stream %d did not complete: %s", i, body)
				}
				h := resp.Header
				if got := h.Get("X-Sluice-Provider") + " " + h.Get("X-Sluice-Attempts") + " " + h.Get("X-Sluice-Route"); got != "backup 2 resilient" {
					t.Errorf("request %d: provider, attempts, route = %q; want \"backup 2 resilient\"", i, got)
				}
				rec := env.record(h.Get("X-Request-Id"))
				if rec.Attempts != 2 || rec.Provider != "backup" || rec.Status != 200 {
					t.Errorf("record: attempts %d, provider %q, status %d; want 2, backup, 200", rec.Attempts, rec.Provider, rec.Status)
				}
			}
		})
	}
	if !strings.Contains(env.logText(), "upstream attempt failed") {
		t.Error("the failed attempts were not logged")
	}
	if _, m := env.get("/metrics"); !strings.Contains(string(m), `sluice_fallbacks_total{provider="backup"} 12`) {
		t.Errorf("fallbacks not counted:\n%s", metricLines(string(m), "sluice_fallbacks_total"))
	}
}

// TestRetryAfterIsWaitedOut: a 429 with Retry-After: 1 is retried once,
// after the second, rather than hammered.
func TestRetryAfterIsWaitedOut(t *testing.T) {
	ms, urls := upstreams(t, "solo")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: solo, type: openai, base_url: "SOLO_URL/v1", api_key: k }
models:
  - name: chat
    retry: { max_attempts: 3, delay: 10ms, max_retry_after: 5s }
    targets: [ { provider: solo, model: gpt-4o-mini } ]
`))
	ms["solo"].InjectFault(mock.Fault{Status: 429, RetryAfter: 1})
	start := time.Now()
	resp, body := env.post("/v1/chat/completions", routedBody("chat", false))
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if took < time.Second {
		t.Errorf("answered after %v: the Retry-After of 1s was not waited out", took)
	}
	if n := ms["solo"].Stats().Requests; n != 2 {
		t.Errorf("upstream saw %d requests, want 2 (one 429, one retry)", n)
	}
	if got := resp.Header.Get("X-Sluice-Attempts"); got != "2" {
		t.Errorf("X-Sluice-Attempts = %q, want 2", got)
	}

	// A Retry-After beyond max_retry_after is not waited for: the 429
	// goes back to the client with its Retry-After.
	ms["solo"].InjectFault(mock.Fault{Status: 429, RetryAfter: 60})
	start = time.Now()
	resp, body = env.post("/v1/chat/completions", routedBody("chat", false))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" || time.Since(start) > 900*time.Millisecond {
		t.Errorf("long Retry-After: %d, Retry-After %q, after %v; want an immediate 429 with 60 (%s)",
			resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(start), body)
	}
}

// TestRoutingHeadersOverrideThePolicy checks the per-request controls and
// their validation.
func TestRoutingHeadersOverrideThePolicy(t *testing.T) {
	ms, urls := upstreams(t, "solo")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: solo, type: openai, base_url: "SOLO_URL/v1", api_key: k }
models:
  - name: chat
    targets: [ { provider: solo, model: gpt-4o-mini } ]
routing: { breaker: { enabled: false } }
`))
	ms["solo"].InjectFault(mock.Fault{Count: 2, Status: 503})
	resp, body := env.post("/v1/chat/completions", routedBody("chat", false),
		"X-Sluice-Max-Attempts", "3", "X-Sluice-Retry-Delay", "5", "X-Sluice-Backoff", "constant")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Sluice-Attempts") != "3" {
		t.Fatalf("max-attempts 3 over two 503s: %d, attempts %q: %s", resp.StatusCode, resp.Header.Get("X-Sluice-Attempts"), body)
	}
	ms["solo"].InjectFault(mock.Fault{DelayMS: 2000})
	start := time.Now()
	resp, body = env.post("/v1/chat/completions", routedBody("chat", true), "X-Sluice-Request-Timeout", "200")
	if e := decodeAPIError(t, body); resp.StatusCode != http.StatusGatewayTimeout || deref(e.Error.Code) != "request_timeout" || time.Since(start) > 1500*time.Millisecond {
		t.Errorf("request timeout 200ms on a 2s upstream: %d after %v: %s", resp.StatusCode, time.Since(start), body)
	}
	for _, h := range [][2]string{
		{"X-Sluice-Max-Attempts", "0"}, {"X-Sluice-Max-Attempts", "11"}, {"X-Sluice-Max-Attempts", "two"},
		{"X-Sluice-Retry-Delay", "-1"}, {"X-Sluice-Retry-Delay", "60001"}, {"X-Sluice-Backoff", "random"},
		{"X-Sluice-Request-Timeout", "0"}, {"X-Sluice-Request-Timeout", "1e3"},
	} {
		resp, body := env.post("/v1/chat/completions", routedBody("chat", false), h[0], h[1])
		e := decodeAPIError(t, body)
		if resp.StatusCode != http.StatusBadRequest || deref(e.Error.Code) != "invalid_header" || deref(e.Error.Param) != strings.ToLower(h[0]) {
			t.Errorf("%s: %s → %d %s; want 400 invalid_header", h[0], h[1], resp.StatusCode, body)
		}
	}
}

// TestBreakerOpensSkipsAndCloses: after the configured failures the
// breaker opens and the target gets no traffic; after the cool-down a
// probe closes it again.
func TestBreakerOpensSkipsAndCloses(t *testing.T) {
	ms, urls := upstreams(t, "flaky", "steady")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: flaky, type: openai, base_url: "FLAKY_URL/v1", api_key: k }
  - { name: steady, type: openai, base_url: "STEADY_URL/v1", api_key: k }
models:
  - name: chat
    strategy: fallback
    targets:
      - { provider: flaky, model: gpt-4o-mini }
      - { provider: steady, model: gpt-4o-mini }
routing: { breaker: { consecutive_failures: 3, error_rate: 0, cooldown: 400ms } }
`))
	flaky := ms["flaky"]
	flaky.InjectFault(mock.Fault{Count: 1000, Status: 502})
	for i := range 3 {
		resp, body := env.post("/v1/chat/completions", routedBody("chat", false))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Sluice-Attempts") != "2" {
			t.Fatalf("request %d: %d attempts %q %s", i, resp.StatusCode, resp.Header.Get("X-Sluice-Attempts"), body)
		}
	}
	if s := env.targetState("flaky", "gpt-4o-mini"); s != "open" {
		t.Fatalf("breaker %s after 3 failures, want open", s)
	}
	seen := flaky.Stats().Requests
	for i := range 5 {
		resp, _ := env.post("/v1/chat/completions", routedBody("chat", true))
		if resp.Header.Get("X-Sluice-Provider") != "steady" || resp.Header.Get("X-Sluice-Attempts") != "1" {
			t.Errorf("request %d with the breaker open: provider %q, attempts %q", i, resp.Header.Get("X-Sluice-Provider"), resp.Header.Get("X-Sluice-Attempts"))
		}
	}
	if n := flaky.Stats().Requests; n != seen {
		t.Errorf("the open target got %d requests", n-seen)
	}
	_, metrics := env.get("/metrics")
	if !strings.Contains(string(metrics), `sluice_breaker_state{model="gpt-4o-mini",provider="flaky"} 2`) {
		t.Errorf("metrics lack the open breaker:\n%s", metricLines(string(metrics), "sluice_breaker_state"))
	}
	// Recovery: after the cool-down one probe goes through and closes it.
	flaky.Reset()
	time.Sleep(450 * time.Millisecond)
	resp, _ := env.post("/v1/chat/completions", routedBody("chat", false))
	if resp.Header.Get("X-Sluice-Provider") != "flaky" {
		t.Errorf("after the cool-down the probe went to %q, want flaky", resp.Header.Get("X-Sluice-Provider"))
	}
	if s := env.targetState("flaky", "gpt-4o-mini"); s != "closed" {
		t.Errorf("breaker %s after a successful probe, want closed", s)
	}
	resp, _ = env.post("/v1/chat/completions", routedBody("chat", false))
	if resp.Header.Get("X-Sluice-Provider") != "flaky" {
		t.Errorf("closed breaker: traffic went to %q, want flaky again", resp.Header.Get("X-Sluice-Provider"))
	}
}

func metricLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestLeastLatencyMovesAwayAndBack: traffic leaves a target slowed to
// 500 ms within a few dozen requests, and returns once it recovers.
func TestLeastLatencyMovesAwayAndBack(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: waits out a 500ms upstream")
	}
	ms, urls := upstreams(t, "a", "b")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: a, type: openai, base_url: "A_URL/v1", api_key: k }
  - { name: b, type: openai, base_url: "B_URL/v1", api_key: k }
models:
  - name: fast
    strategy: least-latency
    targets:
      - { provider: a, model: gpt-4o-mini }
      - { provider: b, model: gpt-4o-mini }
routing: { least_latency: { decay: 0.5, explore: 0.1 } }
`))
	// b is always a little slow (20ms); a is fast, then 500ms, then fast.
	ms["b"].InjectFault(mock.Fault{Count: 100000, DelayMS: 20})
	served := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			resp, body := env.post("/v1/chat/completions", routedBody("fast", false))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			out[i] = resp.Header.Get("X-Sluice-Provider")
		}
		return out
	}
	share := func(got []string, p string) float64 {
		n := 0
		for _, g := range got {
			if g == p {
				n++
			}
		}
		return float64(n) / float64(len(got))
	}
	if s := share(served(30)[10:], "a"); s < 0.7 {
		t.Fatalf("warm-up: the fast target served %.0f%%, want most", s*100)
	}
	ms["a"].InjectFault(mock.Fault{Count: 100000, DelayMS: 500})
	slow := served(40)
	if s := share(slow[10:], "a"); s > 0.3 {
		t.Errorf("a slowed to 500ms still served %.0f%% of requests 10-40 (%v)", s*100, slow)
	}
	ms["a"].InjectFault(mock.Fault{Count: 1}) // replaces the delay: a is fast again
	back := served(150)
	if s := share(back[100:], "a"); s < 0.6 {
		t.Errorf("after a recovered it served %.0f%% of requests 100-150, want most (%v)", s*100, back)
	}
}

// TestStalledStreamIsCutAtIdleTimeout: an upstream that stops sending in
// the middle of a stream is cut at the idle timeout with an error event,
// never a hang and never [DONE].
func TestStalledStreamIsCutAtIdleTimeout(t *testing.T) {
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for _, txt := range []string{"Hel", "lo"} {
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", txt)
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done() // stall until the gateway gives up
	}))
	t.Cleanup(stall.Close)
	env := routeEnv(t, `
providers:
  - { name: stall, type: openai, base_url: "`+stall.URL+`/v1", api_key: k, timeout: 30s }
models:
  - name: chat
    timeouts: { idle: 300ms }
    targets: [ { provider: stall, model: m } ]
`)
	start := time.Now()
	resp, body := env.post("/v1/chat/completions", routedBody("chat", true))
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK || took > 5*time.Second {
		t.Fatalf("%d after %v: %s", resp.StatusCode, took, body)
	}
	s := string(body)
	if !strings.Contains(s, "Hel") || !strings.Contains(s, "stream_idle_timeout") || strings.Contains(s, "[DONE]") {
		t.Errorf("want the chunks, then an idle-timeout error event and no [DONE]; got:\n%s", s)
	}
	if rec := env.record(resp.Header.Get("X-Request-Id")); rec.Status != http.StatusGatewayTimeout || rec.ErrorCode != "stream_idle_timeout" {
		t.Errorf("record status %d code %q, want 504 stream_idle_timeout", rec.Status, rec.ErrorCode)
	}
}

// TestPinnedKeyNeverLeavesItsRegions: a key pinned to eu never reaches
// the us-tagged upstream, even when every eu target fails; a model with
// no eu target is a 403 region_not_allowed.
func TestPinnedKeyNeverLeavesItsRegions(t *testing.T) {
	ms, urls := upstreams(t, "eu", "us")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: eu, type: openai, base_url: "EU_URL/v1", api_key: k, region: eu }
  - { name: us, type: openai, base_url: "US_URL/v1", api_key: k, region: us }
models:
  - name: chat
    strategy: fallback
    targets:
      - { provider: eu, model: gpt-4o-mini }
      - { provider: us, model: gpt-4o-mini }
  - name: us-only
    targets: [ { provider: us, model: gpt-4o-mini } ]
`))
	_, pinned := env.createKey(`{"name":"eu-app","regions":["eu"]}`)
	auth := func(key string) []string { return []string{"Authorization", "Bearer " + key} }

	resp, body := env.post("/v1/chat/completions", routedBody("chat", false), auth(pinned)...)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Sluice-Provider") != "eu" {
		t.Fatalf("pinned key, eu healthy: %d via %q %s", resp.StatusCode, resp.Header.Get("X-Sluice-Provider"), body)
	}
	ms["eu"].InjectFault(mock.Fault{Count: 100, Status: 503})
	before := ms["us"].Stats().Requests
	for _, stream := range []bool{false, true} {
		resp, body = env.post("/v1/chat/completions", routedBody("chat", stream), auth(pinned)...)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("pinned key, eu failing (stream %v): %d %s; want the eu 503, not a us answer", stream, resp.StatusCode, body)
		}
	}
	for _, model := range []string{"us-only", "us/gpt-4o-mini"} {
		resp, body = env.post("/v1/chat/completions", routedBody(model, false), auth(pinned)...)
		if e := decodeAPIError(t, body); resp.StatusCode != http.StatusForbidden || deref(e.Error.Code) != "region_not_allowed" {
			t.Errorf("%s for an eu key: %d %s; want 403 region_not_allowed", model, resp.StatusCode, body)
		}
	}
	if n := ms["us"].Stats().Requests - before; n != 0 {
		t.Errorf("the us upstream got %d requests from an eu-pinned key", n)
	}
	// An unpinned caller falls back to us as usual.
	resp, _ = env.post("/v1/chat/completions", routedBody("chat", false))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Sluice-Provider") != "us" {
		t.Errorf("unpinned caller: %d via %q, want us", resp.StatusCode, resp.Header.Get("X-Sluice-Provider"))
	}
}

// TestStrategiesEndToEnd runs cost and least-busy and a nested model
// through the gateway.
func TestStrategiesEndToEnd(t *testing.T) {
	ms, urls := upstreams(t, "a", "b")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: a, type: openai, base_url: "A_URL/v1", api_key: k }
  - { name: b, type: openai, base_url: "B_URL/v1", api_key: k }
pricing:
  - { model: pricey, input: "10.00", output: "30.00" }
  - { model: cheap, input: "0.10", output: "0.40" }
models:
  - name: thrifty
    strategy: cost
    targets:
      - { provider: a, model: pricey }
      - { provider: b, model: cheap, max_tokens: 1 }
  - name: outer
    strategy: fallback
    targets:
      - { model: thrifty }
      - { provider: a, model: last-resort }
`))
	resp, body := env.post("/v1/chat/completions", routedBody("outer", false))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Sluice-Provider") != "b" || resp.Header.Get("X-Sluice-Model") != "cheap" {
		t.Fatalf("cost through nesting: %d via %s/%s %s", resp.StatusCode, resp.Header.Get("X-Sluice-Provider"), resp.Header.Get("X-Sluice-Model"), body)
	}
	if resp.Header.Get("X-Sluice-Route") != "outer" {
		t.Errorf("route %q, want outer", resp.Header.Get("X-Sluice-Route"))
	}
	var got struct {
		MaxTokens int `json:"max_completion_tokens"`
	}
	last, _ := ms["b"].Last()
	if json.Unmarshal([]byte(last.Body), &got); got.MaxTokens != 1 {
		t.Errorf("the target's max_tokens cap was not applied: %s", last.Body)
	}
	resp, _ = env.post("/v1/chat/completions", routedBody("a/direct-model", false))
	if resp.Header.Get("X-Sluice-Route") != "direct" || resp.Header.Get("X-Sluice-Attempts") != "1" {
		t.Errorf("direct call: route %q attempts %q", resp.Header.Get("X-Sluice-Route"), resp.Header.Get("X-Sluice-Attempts"))
	}
}

// TestAdminProvidersShowsHealth checks the endpoint's shape.
func TestAdminProvidersShowsHealth(t *testing.T) {
	_, urls := upstreams(t, "a")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: a, type: openai, base_url: "A_URL/v1", api_key: secret-provider-key, region: eu }
models:
  - name: chat
    targets: [ { provider: a, model: gpt-4o-mini } ]
`))
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); env.post("/v1/chat/completions", routedBody("chat", false)) }()
	}
	wg.Wait()
	body := env.adminGet("/admin/v1/providers")
	var out struct {
		Data []struct {
			Name, Type, Region string
			Targets            []struct {
				Model     string  `json:"model"`
				State     string  `json:"state"`
				Successes int     `json:"successes"`
				Latency   float64 `json:"latency_ms"`
				InFlight  int     `json:"in_flight"`
			} `json:"targets"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Data) != 1 || out.Data[0].Name != "a" || out.Data[0].Region != "eu" || len(out.Data[0].Targets) != 1 {
		t.Fatalf("providers: %s", body)
	}
	tg := out.Data[0].Targets[0]
	if tg.Model != "gpt-4o-mini" || tg.State != "closed" || tg.Successes != 3 || tg.Latency <= 0 || tg.InFlight != 0 {
		t.Errorf("target: %+v", tg)
	}
	if strings.Contains(string(body), "secret-provider-key") {
		t.Error("the provider key leaked")
	}
	req, _ := http.NewRequest(http.MethodGet, env.url+"/admin/v1/providers", nil)
	if resp, _ := env.do(req); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unauthenticated: %d", resp.StatusCode)
	}
}

// TestHealthCheckSkipsADownProvider: an active health check that fails
// twice takes the provider out of routing until a probe succeeds.
func TestHealthCheckSkipsADownProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: waits for health-check ticks")
	}
	ms, urls := upstreams(t, "a", "b")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: a, type: openai, base_url: "A_URL/v1", api_key: k, health_check: { interval: 100ms, timeout: 1s } }
  - { name: b, type: openai, base_url: "B_URL/v1", api_key: k }
models:
  - name: chat
    strategy: fallback
    targets:
      - { provider: a, model: gpt-4o-mini }
      - { provider: b, model: gpt-4o-mini }
`))
	down := func() bool {
		var out struct {
			Data []struct {
				Name string `json:"name"`
				Down bool   `json:"down"`
			} `json:"data"`
		}
		json.Unmarshal(env.adminGet("/admin/v1/providers"), &out) //nolint:errcheck
		return len(out.Data) > 0 && out.Data[0].Name == "a" && out.Data[0].Down
	}
	waitFor := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for down() != want {
			if time.Now().After(deadline) {
				t.Fatalf("provider a down = %v after 10s, want %v", !want, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	ms["a"].InjectFault(mock.Fault{Count: 100000, Status: 503})
	waitFor(true)
	resp, _ := env.post("/v1/chat/completions", routedBody("chat", false))
	if resp.Header.Get("X-Sluice-Provider") != "b" || resp.Header.Get("X-Sluice-Attempts") != "1" {
		t.Errorf("a is down: provider %q attempts %q, want b at the first attempt", resp.Header.Get("X-Sluice-Provider"), resp.Header.Get("X-Sluice-Attempts"))
	}
	ms["a"].Reset()
	waitFor(false)
	resp, _ = env.post("/v1/chat/completions", routedBody("chat", false))
	if resp.Header.Get("X-Sluice-Provider") != "a" {
		t.Errorf("a is back: provider %q", resp.Header.Get("X-Sluice-Provider"))
	}
}
