package openai

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     provider.Config
		wantErr string // "" for success
	}{
		{"openai with default base URL", provider.Config{Type: "openai", APIKey: "k"}, ""},
		{"empty type is openai", provider.Config{Name: "x"}, ""},
		{"compatible server", provider.Config{Type: "vllm", BaseURL: "http://10.0.0.5:8000/v1"}, ""},
		{"azure resource endpoint", provider.Config{Type: "azure", BaseURL: "https://res.openai.azure.com/"}, ""},
		{"vllm needs a base URL", provider.Config{Type: "vllm"}, "base_url is required"},
		{"relative URL", provider.Config{Type: "openai", BaseURL: "api.openai.com/v1"}, "absolute http or https URL"},
		{"wrong scheme", provider.Config{Type: "openai", BaseURL: "ftp://h/v1"}, "absolute http or https URL"},
		{"query in URL", provider.Config{Type: "openai", BaseURL: "https://h/v1?x=1"}, "must not have a query"},
		{"user info in URL", provider.Config{Type: "openai", BaseURL: "https://u:p@h/v1"}, "user info"},
		{"azure with a path", provider.Config{Type: "azure", BaseURL: "https://res.openai.azure.com/openai/deployments/x"}, "without a path"},
		{"another wire", provider.Config{Type: "anthropic"}, "does not speak the OpenAI wire"},
		{"unknown type", provider.Config{Type: "nope", BaseURL: "https://h"}, "does not speak the OpenAI wire"},
		{"negative timeout", provider.Config{Type: "openai", Timeout: -time.Second}, "timeout"},
		{"bad header name", provider.Config{Type: "openai", Headers: map[string]string{"X Bad": "v"}}, "invalid static header"},
		{"header value with newline", provider.Config{Type: "openai", Headers: map[string]string{"X-Ok": "a\r\nInjected: 1"}}, "invalid static header"},
		{"key with newline", provider.Config{Type: "openai", APIKey: "sk-1\nX: y"}, "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if p.Name() == "" {
					t.Error("empty name")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
			if tc.cfg.APIKey != "" && strings.Contains(err.Error(), tc.cfg.APIKey) {
				t.Errorf("the error leaks the key: %v", err)
			}
		})
	}
}

func TestListModels(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},{"id":"text-embedding-3-small","object":"model","created":1705948997,"owned_by":"system"}]}`))
	})
	p := newProvider(t, u, nil)
	models, err := p.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Model{{ID: "gpt-4o", Created: 1715367049, OwnedBy: "system"}, {ID: "text-embedding-3-small", Created: 1705948997, OwnedBy: "system"}}
	if diff := cmp.Diff(want, models); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	got := u.last(t)
	if got.Method != "GET" || got.Path != "/v1/models" || got.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("request %s %s auth %q", got.Method, got.Path, got.Header.Get("Authorization"))
	}
	failing := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
	})
	_, err = newProvider(t, failing, nil).ListModels(context.Background())
	wantError(t, err, 502, "")
}

func TestEmbed(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":4,"total_tokens":4}}`))
	})
	p := newProvider(t, u, nil)
	resp, err := p.Embed(context.Background(), &llm.EmbeddingsRequest{Model: "text-embedding-3-small",
		Inputs: []llm.EmbeddingInput{{Text: "hello"}}, Dimensions: ptr(2), Format: "openai"})
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.EmbeddingsResponse{Model: "text-embedding-3-small", Usage: llm.Usage{InputTokens: 4},
		Data: []llm.Embedding{{Vector: []float32{0.5, -0.25}}}}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	got := u.last(t)
	if got.Method != "POST" || got.Path != "/v1/embeddings" {
		t.Errorf("request %s %s", got.Method, got.Path)
	}
	jsonEqual(t, `{"model":"text-embedding-3-small","input":"hello","dimensions":2}`, got.Body)
}

func ptr[T any](v T) *T { return &v }
