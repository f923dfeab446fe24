package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/mock"
)

// startEnv serves a gateway built from a whole config text (the caller's
// mocks already running and named in it) with the store and request log
// on, in a temporary data dir.
func startEnv(t *testing.T, text string) *testEnv {
	t.Helper()
	text += "\nserver: { data_dir: \"" + t.TempDir() + "\" }\nrequest_log: { flush_interval: 10ms }\nauth: { require_keys: false }\n"
	cfg, err := config.Parse([]byte(text), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return serveConfig(t, cfg, nil, "gateway")
}

// startMock serves a mock provider on a loopback port.
func startMock(t *testing.T, opts mock.Options) (*mock.Server, string) {
	t.Helper()
	m := mock.New(opts)
	s := httptest.NewServer(m)
	t.Cleanup(s.Close)
	return m, s.URL
}

// routesConfig routes by metadata and by prompt size; both targets are
// models of the same mock, which echoes the model it was sent.
const routesConfig = `
providers:
  - { name: oai, type: openai, base_url: "MOCK/v1", api_key: "sk-test" }
models:
  - name: chat-default
    targets: [ { provider: oai, model: gpt-4o-mini } ]
  - name: small
    targets: [ { provider: oai, model: gpt-4.1-nano } ]
routes:
  - name: free-plan
    when: metadata.plan == "free"
    model: small
  - name: long-context
    when: prompt_tokens > 2000
    model: oai/gpt-4.1
  - name: tools-and-tenant
    when: has_tools && stream
    model: oai/gpt-tools
`

func TestConditionalRoutes(t *testing.T) {
	_, url := startMock(t, mock.Options{})
	env := startEnv(t, strings.ReplaceAll(routesConfig, "MOCK", url))
	long := strings.Repeat("lorem ipsum ", 1000) // 12,000 bytes: ~3,000 tokens
	tool := `,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]`
	for _, tc := range []struct {
		name, body, metadata string
		wantModel, wantRoute string
	}{
		{"no route matches", `{"model":"chat-default","messages":[{"role":"user","content":"hi"}]}`, "", "gpt-4o-mini", ""},
		{"free plan by metadata", `{"model":"chat-default","messages":[{"role":"user","content":"hi"}]}`, `{"plan":"free"}`, "gpt-4.1-nano", "free-plan"},
		{"paid plan stays", `{"model":"chat-default","messages":[{"role":"user","content":"hi"}]}`, `{"plan":"pro"}`, "gpt-4o-mini", ""},
		{"long prompt", `{"model":"chat-default","messages":[{"role":"user","content":"` + long + `"}]}`, "", "gpt-4.1", "long-context"},
		{"first match wins", `{"model":"chat-default","messages":[{"role":"user","content":"` + long + `"}]}`, `{"plan":"free"}`, "gpt-4.1-nano", "free-plan"},
		{"tools and stream", `{"model":"chat-default","stream":true,"messages":[{"role":"user","content":"hi"}]` + tool + `}`, "", "gpt-tools", "tools-and-tenant"},
		{"a direct model is routed too", `{"model":"oai/gpt-4o","messages":[{"role":"user","content":"hi"}]}`, `{"plan":"free"}`, "gpt-4.1-nano", "free-plan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.metadata != "" {
				headers = []string{"X-Sluice-Metadata", tc.metadata}
			}
			resp, body := env.post("/v1/chat/completions", tc.body, headers...)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var sent struct {
				Model string `json:"model"`
			}
			if err := json.Unmarshal([]byte(env.lastUpstreamOf(url).Body), &sent); err != nil {
				t.Fatal(err)
			}
			if sent.Model != tc.wantModel {
				t.Errorf("upstream got model %q, want %q", sent.Model, tc.wantModel)
			}
			rec := env.record(resp.Header.Get("X-Request-Id"))
			var req struct {
				Model string `json:"model"`
			}
			json.Unmarshal([]byte(tc.body), &req) //nolint:errcheck // the test's own JSON
			if rec.ModelRequested != req.Model || rec.Model != tc.wantModel {
				t.Errorf("record: model_requested %q, model %q; want %q, %q", rec.ModelRequested, rec.Model, req.Model, tc.wantModel)
			}
			if got := resp.Header.Get("X-Sluice-Route"); tc.wantRoute != "" && got != tc.wantRoute {
				t.Errorf("x-sluice-route %q, want %q", got, tc.wantRoute)
			}
		})
	}
}

// lastUpstreamOf returns what the mock at base last received.
func (e *testEnv) lastUpstreamOf(base string) mockLast {
	e.t.Helper()
	resp, err := http.Get(base + "/_mock/last")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var l mockLast
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		e.t.Fatal(err)
	}
	return l
}

func TestConditionalRouteOnTenant(t *testing.T) {
	_, url := startMock(t, mock.Options{})
	text := strings.ReplaceAll(`
providers:
  - { name: oai, type: openai, base_url: "MOCK/v1", api_key: "sk-test" }
`, "MOCK", url)
	env := startEnv(t, text)
	ten := env.createOrg("/admin/v1/tenants", `{"name":"acme"}`)
	_, secretA := env.createKey(`{"name":"a","tenant_id":"` + ten + `"}`)
	_, secretB := env.createKey(`{"name":"b"}`)
	// The tenant's id is known only now: route on it through a reload.
	env.reload(text + "routes:\n  - { name: acme, when: 'tenant == \"" + ten + "\"', model: oai/for-acme }\n")
	for _, tc := range []struct{ name, secret, want string }{
		{"the tenant's key", secretA, "for-acme"},
		{"a key of no tenant", secretB, "gpt-4o-mini"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := env.post("/v1/chat/completions", `{"model":"oai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`,
				"Authorization", "Bearer "+tc.secret)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := env.record(resp.Header.Get("X-Request-Id")).Model; got != tc.want {
				t.Errorf("model %q, want %q", got, tc.want)
			}
		})
	}
}

// reload applies a config text (completed like startEnv's) to the running
// gateway.
func (e *testEnv) reload(text string) {
	e.t.Helper()
	text += "\nserver: { data_dir: \"" + e.t.TempDir() + "\" }\nrequest_log: { flush_interval: 10ms }\nauth: { require_keys: false }\n"
	cfg, err := config.Parse([]byte(text), "reload.yaml")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.gw.Reload(cfg); err != nil {
		e.t.Fatal(err)
	}
}
