package telemetry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// traceCollector is a real OTLP/HTTP endpoint on 127.0.0.1 that decodes
// what it receives.
type traceCollector struct {
	mu      sync.Mutex
	posts   int
	auth    []string
	spans   []string // span names
	service []string // service.name of each resource
}

func (c *traceCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.posts++
	c.auth = append(c.auth, r.Header.Get("Authorization"))
	for _, rs := range req.GetResourceSpans() {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				c.service = append(c.service, kv.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, s.GetName())
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func TestTraceOTLPExport(t *testing.T) {
	tests := []struct {
		name     string
		endpoint func(srv string) string
	}{
		{"base URL gets /v1/traces", func(srv string) string { return srv }},
		{"full URL kept", func(srv string) string { return srv + "/v1/traces" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			col := &traceCollector{}
			srv := httptest.NewServer(col) // 127.0.0.1, random port
			defer srv.Close()
			if u, _ := url.Parse(srv.URL); u.Hostname() != "127.0.0.1" {
				t.Fatalf("collector listens on %s, want 127.0.0.1", u.Host)
			}
			tr, err := NewTracer(t.Context(), TraceConfig{
				Enabled:     true,
				Endpoint:    tt.endpoint(srv.URL),
				Headers:     map[string]string{"Authorization": "Bearer collector-token"},
				ServiceName: "sluice-test",
			})
			if err != nil {
				t.Fatalf("NewTracer: %v", err)
			}
			req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
			ctx, span := tr.StartRequest(req.Context(), req, "/v1/chat/completions")
			_, attempt := tr.StartAttempt(ctx, "chat", "openai", "gpt-4o")
			EndAttempt(attempt, nil, llm.Usage{InputTokens: 3, OutputTokens: 4}, "gpt-4o")
			EndRequest(span, &store.Record{Status: 200})
			if err := tr.Shutdown(t.Context()); err != nil { // flushes
				t.Fatalf("Shutdown: %v", err)
			}

			col.mu.Lock()
			defer col.mu.Unlock()
			if col.posts < 1 {
				t.Fatalf("collector got %d POSTs to /v1/traces, want at least 1", col.posts)
			}
			for _, a := range col.auth {
				if a != "Bearer collector-token" {
					t.Errorf("Authorization = %q, want the configured header", a)
				}
			}
			if got := strings.Join(col.spans, ","); got != "chat gpt-4o,POST /v1/chat/completions" {
				t.Errorf("spans = %q, want the attempt then the request", got)
			}
			if len(col.service) == 0 || col.service[0] != "sluice-test" {
				t.Errorf("service.name = %v, want sluice-test", col.service)
			}
		})
	}
}
