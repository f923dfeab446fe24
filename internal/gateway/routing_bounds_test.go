package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/router"
)

// TestRoutingModelNameLimit: chat, messages and embeddings refuse a model
// name over 256 bytes with a 400 on param model, before anything is
// routed; 256 bytes still go through.
func TestRoutingModelNameLimit(t *testing.T) {
	env := newEnv(t)
	bodies := map[string]string{
		"/v1/chat/completions": `{"model":%q,"messages":[{"role":"user","content":"hi"}]}`,
		"/v1/messages":         `{"model":%q,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`,
		"/v1/embeddings":       `{"model":%q,"input":"hi"}`,
	}
	long := "oai/" + strings.Repeat("x", router.MaxModelName-3)
	for path, body := range bodies {
		seen := env.mock.Stats().Requests
		resp, out := env.post(path, fmt.Sprintf(body, long))
		var e struct {
			Error struct {
				Type  string  `json:"type"`
				Param *string `json:"param"`
			} `json:"error"`
		}
		if err := json.Unmarshal(out, &e); err != nil || resp.StatusCode != http.StatusBadRequest || e.Error.Type != "invalid_request_error" {
			t.Errorf("%s with a %d-byte model: %d %s; want 400 invalid_request_error", path, len(long), resp.StatusCode, out)
		}
		if path != "/v1/messages" && deref(e.Error.Param) != "model" { // Anthropic's error shape has no param
			t.Errorf("%s: param %q, want model", path, deref(e.Error.Param))
		}
		if n := env.mock.Stats().Requests; n != seen {
			t.Errorf("%s: the refused request reached the upstream", path)
		}
		if strings.Contains(env.logText(), long) {
			t.Errorf("%s: the access log holds the whole refused name", path)
		}
		if resp, out := env.post(path, fmt.Sprintf(body, long[:router.MaxModelName])); resp.StatusCode != http.StatusOK {
			t.Errorf("%s with a %d-byte model: %d %s; want 200", path, router.MaxModelName, resp.StatusCode, out)
		}
	}
}

// TestRoutingJunkDirectModelsStayUntracked: "provider/<made-up>" names
// that fail take no health entry (so they cannot exhaust the registry
// or the breaker gauges); one that answers is tracked, and its model is
// exported only as "other".
func TestRoutingJunkDirectModelsStayUntracked(t *testing.T) {
	ms, urls := upstreams(t, "a")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: a, type: openai, base_url: "A_URL/v1", api_key: k, models: [gpt-4o-mini] }
`))
	ms["a"].InjectFault(mock.Fault{Count: 30, Status: http.StatusNotFound})
	for i := range 30 {
		if resp, body := env.post("/v1/chat/completions", routedBody(fmt.Sprintf("a/junk-%d", i), false)); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("junk %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if body := env.adminGet("/admin/v1/providers"); strings.Contains(string(body), "junk-") {
		t.Fatalf("failed junk names are tracked: %s", body)
	}
	if resp, body := env.post("/v1/chat/completions", routedBody("a/served-but-unlisted", false)); resp.StatusCode != http.StatusOK {
		t.Fatalf("served-but-unlisted: %d %s", resp.StatusCode, body)
	}
	if s := env.targetState("a", "served-but-unlisted"); s != "closed" {
		t.Errorf("a direct target that answered is %s, want tracked (closed)", s)
	}
	if resp, _ := env.post("/v1/chat/completions", routedBody("gpt-4o-mini", false)); resp.StatusCode != http.StatusOK {
		t.Fatalf("advertised model: %d", resp.StatusCode)
	}
	_, metrics := env.get("/metrics")
	gauges := metricLines(string(metrics), "sluice_breaker_state")
	for _, want := range []string{`sluice_breaker_state{model="other",provider="a"} 0`, `sluice_breaker_state{model="gpt-4o-mini",provider="a"} 0`} {
		if !strings.Contains(gauges, want) {
			t.Errorf("metrics lack %s:\n%s", want, gauges)
		}
	}
	if strings.Contains(string(metrics), "served-but-unlisted") || strings.Contains(string(metrics), "junk-") {
		t.Errorf("a model in no config became a metric label:\n%s", gauges)
	}
}

// TestHealthCheckRemovedByReloadClearsDown: a provider marked down by its
// health check is routed again once a reload removes the health check.
func TestHealthCheckRemovedByReloadClearsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: waits for health-check ticks")
	}
	ms, urls := upstreams(t, "a", "b")
	text := urls.Replace(`
providers:
  - { name: a, type: openai, base_url: "A_URL/v1", api_key: k HEALTH }
  - { name: b, type: openai, base_url: "B_URL/v1", api_key: k }
models:
  - name: chat
    strategy: fallback
    targets:
      - { provider: a, model: gpt-4o-mini }
      - { provider: b, model: gpt-4o-mini }
`)
	env := routeEnv(t, strings.Replace(text, " HEALTH", ", health_check: { interval: 100ms, timeout: 1s }", 1))
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
	ms["a"].InjectFault(mock.Fault{Count: 100000, Status: http.StatusServiceUnavailable})
	waitFor(true)
	ms["a"].Reset() // a answers again, but nothing probes it any more
	env.reload(strings.Replace(text, " HEALTH", "", 1))
	waitFor(false)
	resp, _ := env.post("/v1/chat/completions", routedBody("chat", false))
	if resp.Header.Get("X-Sluice-Provider") != "a" {
		t.Errorf("after the reload: provider %q, want a", resp.Header.Get("X-Sluice-Provider"))
	}
}
