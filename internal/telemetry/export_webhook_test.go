package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// hookRequest is what the test webhook saw of one request.
type hookRequest struct {
	Method      string
	ContentType string
	Auth        string
	Tenant      string
	IDs         []string
}

// hookServer is an httptest webhook on 127.0.0.1 that answers each
// request with reply(n) (n counts from 0) and records it.
type hookServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []hookRequest
	recs []map[string]any // decoded records, in arrival order
}

func newHookServer(t *testing.T, reply func(n int, w http.ResponseWriter)) *hookServer {
	t.Helper()
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber() // as decodeView, so records compare with recordViews
		var recs []map[string]any
		if err := d.Decode(&recs); err != nil {
			t.Errorf("webhook body is not a JSON array of records: %v", err)
		}
		req := hookRequest{Method: r.Method, ContentType: r.Header.Get("Content-Type"), Auth: r.Header.Get("Authorization"), Tenant: r.Header.Get("X-Tenant")}
		for _, rec := range recs {
			id, _ := rec["id"].(string)
			req.IDs = append(req.IDs, id)
		}
		h.mu.Lock()
		n := len(h.reqs)
		h.reqs = append(h.reqs, req)
		h.recs = append(h.recs, recs...)
		h.mu.Unlock()
		reply(n, w)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

func (h *hookServer) records() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.recs...)
}

// statuses replies with the given statuses in turn, then 200; a status
// of 429 carries Retry-After: retryAfter when it is set.
func statuses(retryAfter string, codes ...int) func(int, http.ResponseWriter) {
	return func(n int, w http.ResponseWriter) {
		code := http.StatusOK
		if n < len(codes) {
			code = codes[n]
		}
		if retryAfter != "" && code != http.StatusOK {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
	}
}

// newTestWebhook builds a webhook exporter whose waits are recorded
// instead of slept, with a fixed clock.
func newTestWebhook(t *testing.T, cfg WebhookConfig, now time.Time) (*WebhookExporter, *[]time.Duration) {
	t.Helper()
	e, err := NewWebhookExporter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	sleeps := new([]time.Duration)
	e.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		*sleeps = append(*sleeps, d)
		return ctx.Err()
	}
	e.now = func() time.Time { return now }
	return e, sleeps
}

func TestWebhookExporterBatchesWithHeaders(t *testing.T) {
	hook := newHookServer(t, statuses(""))
	e, _ := newTestWebhook(t, WebhookConfig{
		URL:       hook.URL + "/ingest?token=urlsecret",
		Headers:   map[string]string{"Authorization": "Bearer hdrsecret", "X-Tenant": "acme"},
		BatchSize: 100,
	}, time.Now())
	want := testRecords("hook", 250)
	if err := e.Export(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	reqs := hook.requests()
	var sizes []int
	for _, r := range reqs {
		sizes = append(sizes, len(r.IDs))
		if r.Method != http.MethodPost || r.ContentType != "application/json" || r.Auth != "Bearer hdrsecret" || r.Tenant != "acme" {
			t.Errorf("request = %+v, want a JSON POST with the configured headers", r)
		}
	}
	if diff := cmp.Diff(sizes, []int{100, 100, 50}); diff != "" {
		t.Errorf("batch sizes (-got +want):\n%s", diff)
	}
	got := hook.records()
	if diff := cmp.Diff(got, recordViews(t, want)); diff != "" {
		t.Errorf("records received (-got +want):\n%s", diff)
	}
	for i := range min(len(got), len(want)) {
		checkAdminShape(t, got[i], &want[i])
	}
}

func TestWebhookExporterRetries(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	const b = 100 * time.Millisecond
	tests := []struct {
		name       string
		maxRetries int
		retryAfter string
		codes      []int
		wantErr    bool
		wantCalls  int
		wantSleeps []time.Duration
	}{
		{"success", 3, "", nil, false, 1, nil},
		{"503 then success", 3, "", []int{503, 503}, false, 3, []time.Duration{b, 2 * b}},
		{"429 with Retry-After seconds", 3, "7", []int{429}, false, 2, []time.Duration{7 * time.Second}},
		{"Retry-After date", 3, now.Add(30 * time.Second).Format(http.TimeFormat), []int{503}, false, 2, []time.Duration{30 * time.Second}},
		{"Retry-After capped", 3, "3600", []int{429}, false, 2, []time.Duration{maxWebhookRetryAfter}},
		{"unreadable Retry-After uses backoff", 3, "soon", []int{502}, false, 2, []time.Duration{b}},
		{"gives up after MaxRetries", 2, "", []int{500, 500, 500, 500}, true, 3, []time.Duration{b, 2 * b}},
		{"backoff doubles", 3, "", []int{500, 500, 500, 500, 500}, true, 4, []time.Duration{b, 2 * b, 4 * b}},
		{"zero MaxRetries never retries", 0, "", []int{503}, true, 1, nil},
		{"400 is not retried", 3, "", []int{400}, true, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hook := newHookServer(t, statuses(tc.retryAfter, tc.codes...))
			e, sleeps := newTestWebhook(t, WebhookConfig{
				URL: hook.URL + "/?token=urlsecret", Headers: map[string]string{"Authorization": "Bearer hdrsecret"},
				MaxRetries: tc.maxRetries, Backoff: b,
			}, now)
			err := e.Export(context.Background(), testRecords("r", 2))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Export = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), hook.URL)) {
				t.Errorf("error leaks the URL or a header: %v", err)
			}
			if got := len(hook.requests()); got != tc.wantCalls {
				t.Errorf("%d requests, want %d", got, tc.wantCalls)
			}
			if diff := cmp.Diff(*sleeps, tc.wantSleeps); diff != "" {
				t.Errorf("waits (-got +want):\n%s", diff)
			}
		})
	}
}

func TestWebhookExporterNetworkErrorRetriesThenFails(t *testing.T) {
	hook := newHookServer(t, statuses(""))
	url := hook.URL + "/path?token=urlsecret"
	hook.Close() // nothing listens any more
	e, sleeps := newTestWebhook(t, WebhookConfig{URL: url, MaxRetries: 2, Backoff: time.Second}, time.Now())
	err := e.Export(context.Background(), testRecords("n", 1))
	if err == nil {
		t.Fatal("Export to a closed server succeeded")
	}
	if strings.Contains(err.Error(), "urlsecret") || strings.Contains(err.Error(), "/path") {
		t.Errorf("error leaks the URL: %v", err)
	}
	if diff := cmp.Diff(*sleeps, []time.Duration{time.Second, 2 * time.Second}); diff != "" {
		t.Errorf("waits (-got +want):\n%s", diff)
	}
}

func TestWebhookExporterStopsWhenContextEnds(t *testing.T) {
	hook := newHookServer(t, statuses("", 503, 503, 503))
	e, sleeps := newTestWebhook(t, WebhookConfig{URL: hook.URL, MaxRetries: 3}, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	e.sleep = func(context.Context, time.Duration) error {
		*sleeps = append(*sleeps, 0)
		cancel()
		return ctx.Err()
	}
	if err := e.Export(ctx, testRecords("c", 1)); err == nil {
		t.Fatal("Export succeeded")
	}
	if len(hook.requests()) != 1 || len(*sleeps) != 1 {
		t.Errorf("%d requests and %d waits, want 1 and 1", len(hook.requests()), len(*sleeps))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", -1},
		{"0", 0},
		{"12", 12 * time.Second},
		{"-3", -1},
		{"99999999999999999999", -1},
		{"1e3", -1},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"tomorrow", -1},
	}
	for _, tc := range tests {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestNewWebhookExporterValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  WebhookConfig
		want string
	}{
		{"no URL", WebhookConfig{}, "url: must be an absolute http or https URL"},
		{"relative URL", WebhookConfig{URL: "/hook"}, "url: must be"},
		{"other scheme", WebhookConfig{URL: "ftp://example.com/x"}, "url: must be"},
		{"empty header name", WebhookConfig{URL: "http://127.0.0.1/", Headers: map[string]string{"": "x"}}, "headers: empty name"},
		{"negative timeout", WebhookConfig{URL: "http://127.0.0.1/", Timeout: -1}, "timeout: must not be negative"},
		{"negative retries", WebhookConfig{URL: "http://127.0.0.1/", MaxRetries: -1}, "max_retries: must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewWebhookExporter(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewWebhookExporter = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	e, err := NewWebhookExporter(WebhookConfig{URL: "https://user:pw@example.com/hook?token=x"})
	if err != nil {
		t.Fatal(err)
	}
	size, wait := e.ExportBatching()
	if e.Name() != "webhook" || size != 100 || wait != time.Second || e.cfg.MaxRetries != 0 || e.cfg.Timeout != 10*time.Second {
		t.Errorf("defaults: name %q size %d wait %v retries %d timeout %v", e.Name(), size, wait, e.cfg.MaxRetries, e.cfg.Timeout)
	}
}
