package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
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
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/vault"
)

// testEnv is a gateway in front of a mock provider, both on loopback ports,
// with one configured provider per wire format.
type testEnv struct {
	t       *testing.T
	gw      *gateway.Gateway
	url     string // the gateway's base URL
	mock    *mock.Server
	mockURL string
	logs    *lockedWriter
	store   *store.DB
	svc     *gateway.Services
}

// logText returns what the gateway has logged so far.
func (e *testEnv) logText() string {
	e.logs.mu.Lock()
	defer e.logs.mu.Unlock()
	return e.logs.w.String()
}

// envAdminKey is the admin token of every test gateway.
const envAdminKey = "test-admin-key-0123456789"

// record waits for the log record of request id to reach the store.
func (e *testEnv) record(id string) store.Record {
	e.t.Helper()
	return waitRecord(e.t, e.store, id)
}

// envConfig is the gateway config of every end-to-end test; MOCK is the
// mock's base URL.
const envConfig = `
server: { max_body_bytes: 65536, data_dir: "DATADIR" }
log: { level: debug }
request_log: { flush_interval: 10ms }
auth: { require_keys: false }
providers:
  - { name: oai, type: openai, base_url: "MOCK/v1", api_key: "sk-provider-oai-secret" }
  - { name: claude, type: anthropic, base_url: "MOCK", api_key: "sk-provider-claude-secret" }
  - { name: gem, type: gemini, base_url: "MOCK", api_key: "provider-gem-secret" }
  - { name: az, type: azure, base_url: "MOCK", api_key: "provider-az-secret", api_version: "2024-10-21" }
models:
  - name: chat-default
    targets: [ { provider: oai, model: gpt-4o-mini } ]
  - name: resilient
    strategy: fallback
    targets:
      - { provider: claude, model: claude-haiku-4-5 }
      - { provider: oai, model: gpt-4o-mini }
`

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	return newEnvWith(t, "")
}

// newEnvWith is newEnv with more config appended (keys given there must
// not appear in envConfig).
func newEnvWith(t *testing.T, extra string) *testEnv {
	t.Helper()
	return newEnvMock(t, mock.Options{StreamChunks: 4}, extra)
}

// newEnvMock is newEnvWith with the mock built from opts (e.g. a
// ChunkInterval for slow streams).
func newEnvMock(t *testing.T, opts mock.Options, extra string) *testEnv {
	t.Helper()
	m := mock.New(opts)
	ms := httptest.NewServer(m)
	t.Cleanup(ms.Close)
	text := strings.NewReplacer("MOCK", ms.URL, "DATADIR", t.TempDir()).Replace(envConfig)
	if extra != "" {
		for _, line := range []string{"request_log: { flush_interval: 10ms }\n", "auth: { require_keys: false }\n"} {
			if key, _, _ := strings.Cut(line, ":"); strings.Contains(extra, key+":") {
				text = strings.Replace(text, line, "", 1)
			}
		}
		text += extra
	}
	cfg, err := config.Parse([]byte(text), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := serveConfig(t, cfg, nil, "gateway")
	env.mock, env.mockURL = m, ms.URL
	return env
}

// serveConfig starts a gateway for cfg (with v as its vault; nil: none)
// on a loopback port, with its services and a debug log that a failed
// test prints under name.
func serveConfig(t *testing.T, cfg *config.Config, v *vault.Vault, name string) *testEnv {
	t.Helper()
	logs := &lockedWriter{w: &bytes.Buffer{}}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := gateway.OpenServices(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := svc.Close(context.Background()); err != nil {
			t.Errorf("close services: %v", err)
		}
	})
	opts := svc.Options(log, envAdminKey)
	opts.Vault = v
	g, err := gateway.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	gs := httptest.NewServer(g.Handler())
	t.Cleanup(gs.Close)
	env := &testEnv{t: t, gw: g, url: gs.URL, logs: logs, store: svc.Store, svc: svc}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", name, env.logText())
		}
	})
	return env
}

// post sends a JSON body to the gateway and returns the response with its
// body read.
func (e *testEnv) post(path, body string, headers ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.do(req)
}

func (e *testEnv) get(path string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

func (e *testEnv) do(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// lastUpstream returns what the mock last received.
func (e *testEnv) lastUpstream() mockLast {
	e.t.Helper()
	resp, err := http.Get(e.mockURL + "/_mock/last")
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

type mockLast struct {
	Method  string          `json:"method"`
	Path    string          `json:"path"`
	Headers json.RawMessage `json:"headers"`
	Body    string          `json:"body"`
}

// header returns one recorded header value, whatever shape the mock uses
// for multi-valued headers.
func (l mockLast) header(name string) string {
	var multi map[string][]string
	if json.Unmarshal(l.Headers, &multi) == nil {
		for k, v := range multi {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	var single map[string]string
	json.Unmarshal(l.Headers, &single) //nolint:errcheck
	for k, v := range single {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// apiError is the OpenAI error body.
type apiError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Code    *string `json:"code"`
		Param   *string `json:"param"`
	} `json:"error"`
}

func decodeAPIError(t *testing.T, b []byte) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("not an OpenAI error body (%v): %s", err, b)
	}
	return e
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// lockedWriter is a log sink tests can read while the server writes.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// serveYAML builds a gateway from a config text and serves it on a loopback
// port; it returns the gateway's base URL.
func serveYAML(t *testing.T, yaml string) (*gateway.Gateway, string) {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml+"\nauth: { require_keys: false }\n"), t.Name()+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	gs := httptest.NewServer(g.Handler())
	t.Cleanup(gs.Close)
	return g, gs.URL
}

// serveRecorded is serveYAML with the store and request log switched on
// (in a temporary data dir, flushing every 10ms).
func serveRecorded(t *testing.T, yaml string) (string, *store.DB) {
	t.Helper()
	yaml += "\nserver: { data_dir: \"" + t.TempDir() + "\" }\nrequest_log: { flush_interval: 10ms }\nauth: { require_keys: false }\n"
	cfg, err := config.Parse([]byte(yaml), t.Name()+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := gateway.OpenServices(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	g, err := gateway.New(cfg, svc.Options(nil, ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	gs := httptest.NewServer(g.Handler())
	t.Cleanup(gs.Close)
	return gs.URL, svc.Store
}

// waitRecord waits for the log record of request id to reach db.
func waitRecord(t *testing.T, db *store.DB, id string) store.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, err := db.GetLog(context.Background(), id)
		if err == nil {
			return rec
		}
		if !errors.Is(err, store.ErrNotFound) || time.Now().After(deadline) {
			t.Fatalf("record %s: %v", id, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
