package gateway_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/mock"
)

// An upstream that accepts a stream with 200 and then reports overload as
// its first event has sent the client nothing yet: the next target answers.
func TestEarlyStreamErrorFallsBack(t *testing.T) {
	overloaded := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"error":{"message":"overloaded","type":"server_error","code":"overloaded"}}`+"\n\n")
	}))
	t.Cleanup(overloaded.Close)
	ms := httptest.NewServer(mock.New(mock.Options{}))
	t.Cleanup(ms.Close)
	_, gsURL := serveYAML(t, `
providers:
  - { name: busy, type: openai, base_url: "`+overloaded.URL+`/v1", api_key: k }
  - { name: ok, type: openai, base_url: "`+ms.URL+`/v1", api_key: k }
models:
  - { name: m, strategy: fallback, targets: [ { provider: busy, model: x }, { provider: ok, model: y } ] }
`)
	resp, err := http.Post(gsURL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"answered anyway"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasSuffix(string(body), "data: [DONE]\n\n") || strings.Contains(string(body), "overloaded") {
		t.Fatalf("%d:\n%s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Sluice-Provider") + "/" + resp.Header.Get("X-Sluice-Attempts"); got != "ok/2" {
		t.Errorf("provider/attempts = %q, want ok/2", got)
	}
}

func TestPassthroughHardening(t *testing.T) {
	env := newEnv(t)
	t.Run("organization and project headers are the gateway's to set", func(t *testing.T) {
		resp, body := env.post("/oai/chat/completions", hello, "OpenAI-Organization", "org-other", "OpenAI-Project", "proj-other")
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		last := env.lastUpstream()
		if o, p := last.header("OpenAI-Organization"), last.header("OpenAI-Project"); o != "" || p != "" {
			t.Errorf("client chose org/project upstream: %q %q", o, p)
		}
	})
	t.Run("one request id on the response", func(t *testing.T) {
		upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", "req_upstream123")
			io.WriteString(w, "{}")
		}))
		t.Cleanup(upstream.Close)
		env := newEnvWithProvider(t, upstream.URL)
		resp, _ := env.post("/slow/models", "")
		if ids := resp.Header.Values("X-Request-Id"); len(ids) != 1 || ids[0] == "req_upstream123" {
			t.Errorf("x-request-id = %q, want only the gateway's", ids)
		}
		if got := resp.Header.Get("X-Upstream-Request-Id"); got != "req_upstream123" {
			t.Errorf("x-upstream-request-id = %q", got)
		}
	})
	t.Run("an oversized chunked body is the client's 413", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, env.url+"/oai/chat/completions",
			io.MultiReader(strings.NewReader(`{"x":"`), strings.NewReader(strings.Repeat("y", 70000)), strings.NewReader(`"}`)))
		req.ContentLength = -1 // chunked: the limit is hit while streaming upstream
		resp, body := env.do(req)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		decodeAPIError(t, body)
	})
}

// A provider's timeout bounds silence, not the length of a healthy
// stream: 8 chunks 100ms apart pass a 300ms timeout for every wire format.
func TestProviderTimeoutIsAnIdleBoundForEveryFormat(t *testing.T) {
	ms := httptest.NewServer(mock.New(mock.Options{StreamChunks: 8, ChunkInterval: 100 * time.Millisecond}))
	t.Cleanup(ms.Close)
	_, gsURL := serveYAML(t, `
providers:
  - { name: oai, type: openai, base_url: "`+ms.URL+`/v1", api_key: k, timeout: 300ms }
  - { name: claude, type: anthropic, base_url: "`+ms.URL+`", api_key: k, timeout: 300ms }
  - { name: gem, type: gemini, base_url: "`+ms.URL+`", api_key: k, timeout: 300ms }
`)
	for _, model := range []string{"oai/x", "claude/x", "gem/x"} {
		t.Run(model, func(t *testing.T) {
			resp, err := http.Post(gsURL+"/v1/chat/completions", "application/json", strings.NewReader(
				`{"model":"`+model+`","stream":true,"messages":[{"role":"user","content":"one two three four five six seven eight"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.HasSuffix(string(body), "data: [DONE]\n\n") {
				t.Errorf("a healthy 800ms stream was cut by a 300ms idle timeout:\n%s", body)
			}
		})
	}
}

// An upstream that answers a stream request with a 200 JSON error is a
// failed attempt (with its message), not an empty stream.
func TestJSONAnswerToAStreamRequestFallsBack(t *testing.T) {
	jsonErr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"error":{"message":"model is warming up","type":"server_error"}}`)
	}))
	t.Cleanup(jsonErr.Close)
	env := newEnvWithProvider(t, jsonErr.URL)
	resp, body := env.post("/v1/chat/completions", `{"model":"slow/x","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "model is warming up") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if e := decodeAPIError(t, body); deref(e.Error.Code) != "invalid_upstream_response" {
		t.Errorf("code = %q", deref(e.Error.Code))
	}
}

// A client asking for base64 gets base64, whatever form the provider
// answered in; the SDK decodes it to the same vector as floats.
func TestEmbeddingsBase64FromEveryProvider(t *testing.T) {
	env := newEnv(t)
	for _, model := range []string{"oai/text-embedding-3-small", "gem/text-embedding-004"} {
		resp, body := env.post("/v1/embeddings", `{"model":"`+model+`","input":"same text","encoding_format":"base64"}`)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", model, resp.StatusCode, body)
		}
		var b64 struct{ Data []struct{ Embedding any } }
		if err := json.Unmarshal(body, &b64); err != nil || len(b64.Data) != 1 {
			t.Fatalf("%s: %s", model, body)
		}
		s, ok := b64.Data[0].Embedding.(string)
		if !ok {
			t.Fatalf("%s: embedding is %T, want a base64 string", model, b64.Data[0].Embedding)
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) == 0 || len(raw)%4 != 0 {
			t.Fatalf("%s: bad base64 %q: %v", model, s, err)
		}
		_, floats := env.post("/v1/embeddings", `{"model":"`+model+`","input":"same text"}`)
		var f struct {
			Data []struct{ Embedding []float32 }
		}
		json.Unmarshal(floats, &f) //nolint:errcheck
		if got, want := len(raw)/4, len(f.Data[0].Embedding); got != want {
			t.Fatalf("%s: %d floats in base64, %d as floats", model, got, want)
		}
		if first := math.Float32frombits(binary.LittleEndian.Uint32(raw)); first != f.Data[0].Embedding[0] {
			t.Errorf("%s: first value %v in base64, %v as floats", model, first, f.Data[0].Embedding[0])
		}
	}
}
