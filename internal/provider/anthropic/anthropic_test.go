package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

const testKey = "sk-ant-test-0123456789"

// upstream is an httptest Anthropic: it records requests and answers with
// handler.
type upstream struct {
	*httptest.Server
	reqs chan recorded
}

type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                map[string]any
}

func newUpstream(t *testing.T, handler http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{reqs: make(chan recorded, 16)}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			if err := json.Unmarshal(b, &rec.Body); err != nil {
				t.Errorf("upstream got a body that is not JSON: %v\n%s", err, b)
			}
		}
		u.reqs <- rec
		handler(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func newProvider(t *testing.T, cfg provider.Config) *Provider {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "claude"
	}
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Provider)
}

func chatRequest() *llm.Request {
	return &llm.Request{Model: "claude-sonnet-4-5", Format: "openai", Messages: []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("be brief")}},
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}},
	}}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func llmError(t *testing.T, err error) *llm.Error {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	return e
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     provider.Config
		wantURL string // messages URL
		wantErr string
	}{
		{"defaults", provider.Config{}, "https://api.anthropic.com/v1/messages", ""},
		{"custom base with path", provider.Config{BaseURL: "http://127.0.0.1:9/proxy/"}, "http://127.0.0.1:9/proxy/v1/messages", ""},
		{"trailing v1 tolerated", provider.Config{BaseURL: "https://gw.example.com/anthropic/v1/"}, "https://gw.example.com/anthropic/v1/messages", ""},
		{"relative", provider.Config{BaseURL: "api.anthropic.com"}, "", "must be an absolute http(s) URL"},
		{"bad scheme", provider.Config{BaseURL: "ftp://x"}, "", "must be an absolute http(s) URL"},
		{"bad header", provider.Config{Headers: map[string]string{"bad header": "x"}}, "", "not a valid header name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.(*Provider).msgURL; got != tc.wantURL {
				t.Errorf("messages URL = %q, want %q", got, tc.wantURL)
			}
			if p.Name() != "anthropic" {
				t.Errorf("Name() = %q, want the default anthropic", p.Name())
			}
		})
	}
}

func TestChatRequestShape(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
			"content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn","stop_sequence":null,
			"usage":{"input_tokens":5,"cache_read_input_tokens":10,"output_tokens":2}}`)
	})
	tests := []struct {
		name        string
		cfg         provider.Config
		wantVersion string
	}{
		{"default version", provider.Config{}, DefaultVersion},
		{"configured version and headers", provider.Config{APIVersion: "2099-01-01", Headers: map[string]string{"anthropic-beta": "tools-1"}}, "2099-01-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.BaseURL = up.URL
			p := newProvider(t, tc.cfg)
			req := chatRequest()
			req.Stream = true // Chat must not stream, nor change req
			resp, err := p.Chat(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !req.Stream {
				t.Error("Chat modified the request")
			}
			want := &llm.Response{ID: "msg_1", Model: "claude-sonnet-4-5-20250929", Choices: []llm.Choice{{
				Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("Hello")}}, FinishReason: llm.FinishStop}},
				Usage: llm.Usage{InputTokens: 15, CachedInputTokens: 10, OutputTokens: 2}}
			if diff := cmp.Diff(want, resp); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			got := <-up.reqs
			if got.Method != http.MethodPost || got.Path != "/v1/messages" {
				t.Errorf("request = %s %s, want POST /v1/messages", got.Method, got.Path)
			}
			for k, v := range map[string]string{"X-Api-Key": testKey, "Anthropic-Version": tc.wantVersion,
				"Content-Type": "application/json", "Accept": "application/json", "Anthropic-Beta": tc.cfg.Headers["anthropic-beta"]} {
				if g := got.Header.Get(k); g != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
			wantBody := map[string]any{"model": "claude-sonnet-4-5", "max_tokens": float64(4096), "system": "be brief",
				"messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "hi"}}}}}
			if diff := cmp.Diff(wantBody, got.Body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChatErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantStatus int
		wantType   string
		wantCode   string
		wantRetry  time.Duration
	}{
		{"invalid request", 400, nil, `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}}`, 400, llm.TypeInvalidRequest, "", 0},
		{"bad key", 401, nil, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`, 502, llm.TypeAPI, "upstream_auth_failed", 0},
		{"rate limited", 429, map[string]string{"Retry-After": "7"}, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}`, 429, llm.TypeRateLimit, "", 7 * time.Second},
		{"overloaded", 529, nil, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, 503, llm.TypeOverloaded, "", 0},
		{"server error", 500, nil, `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`, 502, llm.TypeAPI, "", 0},
		{"non-JSON error body", 502, map[string]string{"Content-Type": "text/html"}, `<html>bad gateway</html>`, 502, llm.TypeAPI, "", 0},
		{"too large", 413, nil, `{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes"}}`, 413, llm.TypeInvalidRequest, "request_too_large", 0},
		{"2xx that is not a message", 200, nil, `not json`, 502, llm.TypeAPI, "invalid_upstream_response", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			p := newProvider(t, provider.Config{BaseURL: up.URL})
			_, err := p.Chat(context.Background(), chatRequest())
			e := llmError(t, err)
			if e.Status != tc.wantStatus || e.Type != tc.wantType || e.Code != tc.wantCode || e.RetryAfter != tc.wantRetry {
				t.Errorf("error = %d %s %q retry %v, want %d %s %q retry %v",
					e.Status, e.Type, e.Code, e.RetryAfter, tc.wantStatus, tc.wantType, tc.wantCode, tc.wantRetry)
			}
			if e.Provider != "claude" {
				t.Errorf("Provider = %q, want claude", e.Provider)
			}
			if strings.Contains(e.Error(), testKey) {
				t.Errorf("error reveals the API key: %v", e)
			}
		})
	}
}

func TestChatConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := newProvider(t, provider.Config{BaseURL: "http://" + addr})
	_, err = p.Chat(context.Background(), chatRequest())
	e := llmError(t, err)
	if e.Status != http.StatusBadGateway || e.Code != "upstream_unreachable" || !e.Retryable() {
		t.Errorf("error = %d %q retryable %v, want a retryable 502 upstream_unreachable", e.Status, e.Code, e.Retryable())
	}
}

func TestChatUnsupportedParameter(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		t.Error("upstream called for a request that cannot be sent")
	})
	p := newProvider(t, provider.Config{BaseURL: up.URL})
	req := chatRequest()
	n := 3
	req.N = &n
	_, err := p.Chat(context.Background(), req)
	if e := llmError(t, err); e.Status != 400 || e.Param != "n" || e.Provider != "claude" {
		t.Errorf("error = %+v, want 400 for param n from provider claude", e)
	}
}

func TestListModels(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("after_id") == "" {
			io.WriteString(w, `{"data":[{"type":"model","id":"claude-opus-4-1","display_name":"Claude Opus 4.1","created_at":"2025-08-05T00:00:00Z"}],
				"has_more":true,"first_id":"claude-opus-4-1","last_id":"claude-opus-4-1"}`)
			return
		}
		io.WriteString(w, `{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"not a date"}],
			"has_more":false,"first_id":"claude-sonnet-4-5","last_id":"claude-sonnet-4-5"}`)
	})
	p := newProvider(t, provider.Config{BaseURL: up.URL, Models: []string{"claude-sonnet-4-5", "my-finetune"}})
	got, err := p.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Model{
		{ID: "claude-opus-4-1", OwnedBy: "anthropic", Created: time.Date(2025, 8, 5, 0, 0, 0, 0, time.UTC).Unix()},
		{ID: "claude-sonnet-4-5", OwnedBy: "anthropic"},
		{ID: "my-finetune", OwnedBy: "anthropic"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	first, second := <-up.reqs, <-up.reqs
	if first.Method != http.MethodGet || first.Path != "/v1/models" || first.Query != "limit=1000" || first.Header.Get("X-Api-Key") != testKey {
		t.Errorf("first request = %+v", first)
	}
	if second.Query != "after_id=claude-opus-4-1&limit=1000" {
		t.Errorf("second page query = %q, want after_id=claude-opus-4-1&limit=1000", second.Query)
	}
}

func TestListModelsError(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
	})
	_, err := newProvider(t, provider.Config{BaseURL: up.URL}).ListModels(context.Background())
	if e := llmError(t, err); e.Status != http.StatusBadGateway || e.Code != "upstream_auth_failed" {
		t.Errorf("error = %d %q, want 502 upstream_auth_failed", e.Status, e.Code)
	}
}
