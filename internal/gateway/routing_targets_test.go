package gateway_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/gateway"
	"github.com/sluicehq/sluice/internal/mock"
)

// filterConfig has one model per wire format whose first target answers
// through the "primary" mock, backed by an OpenAI target on "backup".
const filterConfig = `
providers:
  - { name: p-openai, type: openai, base_url: "PRIMARY_URL/v1", api_key: k }
  - { name: p-claude, type: anthropic, base_url: "PRIMARY_URL", api_key: k }
  - { name: p-gemini, type: gemini, base_url: "PRIMARY_URL", api_key: k }
  - { name: backup, type: openai, base_url: "BACKUP_URL/v1", api_key: k }
x-backup: &backup { provider: backup, model: gpt-4o-mini }
models:
  - { name: f-openai, strategy: fallback, fallback_on: [content_policy], targets: [ { provider: p-openai, model: gpt-4o-mini }, *backup ] }
  - { name: f-claude, strategy: fallback, fallback_on: [content_policy], targets: [ { provider: p-claude, model: claude-haiku-4-5 }, *backup ] }
  - { name: f-gemini, strategy: fallback, fallback_on: [content_policy], targets: [ { provider: p-gemini, model: gemini-2.5-flash }, *backup ] }
  - { name: no-fallback, strategy: fallback, targets: [ { provider: p-openai, model: gpt-4o-mini }, *backup ] }
routing: { breaker: { enabled: false } }
`

// finishOf returns the finish_reason of a chat answer, whole or streamed
// (the last one seen), and its text.
func finishOf(t *testing.T, body []byte, stream bool) (finish, text string) {
	t.Helper()
	type choice struct {
		Message      struct{ Content string }
		Delta        struct{ Content string }
		FinishReason *string `json:"finish_reason"`
	}
	var docs [][]byte
	if stream {
		for _, line := range strings.Split(string(body), "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok && d != "[DONE]" {
				docs = append(docs, []byte(d))
			}
		}
	} else {
		docs = [][]byte{body}
	}
	for _, d := range docs {
		var v struct{ Choices []choice }
		if err := json.Unmarshal(d, &v); err != nil {
			t.Fatalf("%v: %s", err, d)
		}
		for _, c := range v.Choices {
			text += c.Message.Content + c.Delta.Content
			if c.FinishReason != nil {
				finish = *c.FinishReason
			}
		}
	}
	return finish, text
}

// TestContentFilteredAnswersFallBack: a 200 whose finish is the content
// filter (OpenAI content_filter, Anthropic refusal, Gemini SAFETY) moves to
// the next candidate when fallback_on has content_policy; a stream only
// when its first chunk carries that finish (Anthropic's never does: it
// starts with message_start, which may already have reached the client).
func TestContentFilteredAnswersFallBack(t *testing.T) {
	ms, urls := upstreams(t, "primary", "backup")
	env := routeEnv(t, urls.Replace(filterConfig))
	for _, tc := range []struct {
		model    string
		stream   bool
		provider string // who answers
		attempts string
		finish   string
	}{
		{"f-openai", false, "backup", "2", "stop"},
		{"f-openai", true, "backup", "2", "stop"},
		{"f-claude", false, "backup", "2", "stop"},
		{"f-claude", true, "p-claude", "1", "content_filter"},
		{"f-gemini", false, "backup", "2", "stop"},
		{"f-gemini", true, "backup", "2", "stop"},
		{"no-fallback", false, "p-openai", "1", "content_filter"},
		{"no-fallback", true, "p-openai", "1", "content_filter"},
	} {
		t.Run(fmt.Sprintf("%s/stream=%v", tc.model, tc.stream), func(t *testing.T) {
			ms["primary"].InjectFault(mock.Fault{Finish: mock.FinishContentFilter})
			resp, body := env.post("/v1/chat/completions", routedBody(tc.model, tc.stream))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			h := resp.Header
			if got := h.Get("X-Sluice-Provider") + " " + h.Get("X-Sluice-Attempts"); got != tc.provider+" "+tc.attempts {
				t.Errorf("provider, attempts = %q; want %q", got, tc.provider+" "+tc.attempts)
			}
			finish, text := finishOf(t, body, tc.stream)
			if finish != tc.finish || tc.finish == "stop" && text != "hello there" {
				t.Errorf("finish %q, text %q; want %q: %s", finish, text, tc.finish, body)
			}
			rec := env.record(h.Get("X-Request-Id"))
			if rec.Provider != tc.provider || fmt.Sprint(rec.Attempts) != tc.attempts || rec.Status != 200 {
				t.Errorf("record: provider %q, attempts %d, status %d", rec.Provider, rec.Attempts, rec.Status)
			}
		})
	}
}

// TestContentFilteredAnswerIsKeptWhenNoFallbackAnswers: when every other
// candidate fails, the client gets the filtered answer, as it would have
// without fallback_on, not the fallback's error.
func TestContentFilteredAnswerIsKeptWhenNoFallbackAnswers(t *testing.T) {
	ms, urls := upstreams(t, "primary", "backup")
	env := routeEnv(t, urls.Replace(filterConfig))
	for _, stream := range []bool{false, true} {
		ms["primary"].InjectFault(mock.Fault{Finish: mock.FinishContentFilter})
		ms["backup"].InjectFault(mock.Fault{Status: 503})
		resp, body := env.post("/v1/chat/completions", routedBody("f-openai", stream))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream=%v: %d %s", stream, resp.StatusCode, body)
		}
		if got := resp.Header.Get("X-Sluice-Provider") + " " + resp.Header.Get("X-Sluice-Attempts"); got != "p-openai 2" {
			t.Errorf("stream=%v: provider, attempts = %q; want \"p-openai 2\"", stream, got)
		}
		if finish, _ := finishOf(t, body, stream); finish != "content_filter" {
			t.Errorf("stream=%v: finish %q, want content_filter: %s", stream, finish, body)
		}
		if stream && !strings.HasSuffix(string(body), "data: [DONE]\n\n") {
			t.Errorf("the held stream did not end cleanly: %s", body)
		}
		if rec := env.record(resp.Header.Get("X-Request-Id")); rec.Status != 200 || rec.CompletionTokens != 0 || rec.PromptTokens == 0 {
			t.Errorf("stream=%v: record status %d, tokens %d/%d; want 200 with the provider's usage", stream,
				rec.Status, rec.PromptTokens, rec.CompletionTokens)
		}
	}
}

// TestContextWindowPreSkip: a target whose context_window is smaller than
// the estimated prompt plus max_tokens is not called while another fits;
// when none fits, the largest is called. Headers and record count only
// the calls made.
func TestContextWindowPreSkip(t *testing.T) {
	ms, urls := upstreams(t, "up")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: small, type: openai, base_url: "UP_URL/v1", api_key: k }
  - { name: mid, type: openai, base_url: "UP_URL/v1", api_key: k }
  - { name: big, type: openai, base_url: "UP_URL/v1", api_key: k }
models:
  - name: sized
    strategy: fallback
    targets:
      - { provider: small, model: gpt-4o-mini, context_window: 1000 }
      - { provider: big, model: gpt-4o-mini, context_window: 100000 }
  - name: all-small
    strategy: fallback
    targets:
      - { provider: small, model: gpt-4o-mini, context_window: 1000 }
      - { provider: mid, model: gpt-4o-mini, context_window: 1500 }
`))
	long := strings.Repeat("lorem ipsum ", 1000) // ~12 KB: ~3000 tokens at four bytes a token
	body := func(model, text, extra string) string {
		return fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}]%s}`, model, text, extra)
	}
	for _, tc := range []struct {
		name, body, provider string
	}{
		{"a short prompt fits the first", body("sized", "hello", ""), "small"},
		{"a long prompt skips the small window", body("sized", long, ""), "big"},
		{"max_tokens counts", body("sized", "hello", `,"max_tokens":2000`), "big"},
		{"none fits: the largest is called", body("all-small", long, ""), "mid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ms["up"].Stats().Requests
			resp, b := env.post("/v1/chat/completions", tc.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			if got := resp.Header.Get("X-Sluice-Provider") + " " + resp.Header.Get("X-Sluice-Attempts"); got != tc.provider+" 1" {
				t.Errorf("provider, attempts = %q; want %q", got, tc.provider+" 1")
			}
			if n := ms["up"].Stats().Requests - before; n != 1 {
				t.Errorf("upstream saw %d requests, want 1", n)
			}
			if rec := env.record(resp.Header.Get("X-Request-Id")); rec.Attempts != 1 || rec.Provider != tc.provider {
				t.Errorf("record: attempts %d, provider %q", rec.Attempts, rec.Provider)
			}
		})
	}
}

// TestTargetExtraReachesTheUpstream: a target's extra is merged into the
// body sent upstream in the provider's own format, whatever the client
// spoke, and only for that target.
func TestTargetExtraReachesTheUpstream(t *testing.T) {
	ms, urls := upstreams(t, "up")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: oai, type: openai, base_url: "UP_URL/v1", api_key: k }
  - { name: claude, type: anthropic, base_url: "UP_URL", api_key: k }
  - { name: gem, type: gemini, base_url: "UP_URL", api_key: k }
models:
  - name: x-openai
    targets: [ { provider: oai, model: gpt-4o-mini, extra: { safe_prompt: true, temperature: null, metadata: { team: ops } } } ]
  - name: x-claude
    targets: [ { provider: claude, model: claude-haiku-4-5, extra: { top_k: 5, thinking: { type: disabled } } } ]
  - name: x-gemini
    targets: [ { provider: gem, model: gemini-2.5-flash, extra: { generationConfig: { topK: 7, thinkingConfig: { thinkingBudget: 0 } } } } ]
  - name: plain
    targets: [ { provider: oai, model: gpt-4o-mini } ]
`))
	upstream := func() map[string]any {
		t.Helper()
		rec, ok := ms["up"].Last()
		if !ok {
			t.Fatal("no upstream request")
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(rec.Body), &v); err != nil {
			t.Fatalf("%v: %s", err, rec.Body)
		}
		return v
	}
	for _, tc := range []struct {
		model string
		check func(v map[string]any) bool
	}{
		{"x-openai", func(v map[string]any) bool {
			m, _ := v["metadata"].(map[string]any)
			_, temp := v["temperature"]
			return v["safe_prompt"] == true && !temp && m["team"] == "ops" && m["client"] == "app"
		}},
		{"x-claude", func(v map[string]any) bool {
			th, _ := v["thinking"].(map[string]any)
			return v["top_k"] == 5.0 && th["type"] == "disabled" && v["temperature"] == 0.2
		}},
		{"x-gemini", func(v map[string]any) bool {
			gc, _ := v["generationConfig"].(map[string]any)
			tc, _ := gc["thinkingConfig"].(map[string]any)
			return gc["topK"] == 7.0 && gc["temperature"] == 0.2 && tc["thinkingBudget"] == 0.0
		}},
		{"plain", func(v map[string]any) bool {
			_, sp := v["safe_prompt"]
			return !sp && v["temperature"] == 0.2
		}},
	} {
		for _, stream := range []bool{false, true} {
			body := fmt.Sprintf(`{"model":%q,"stream":%v,"temperature":0.2,"metadata":{"client":"app"},"messages":[{"role":"user","content":"hi"}]}`,
				tc.model, stream)
			resp, b := env.post("/v1/chat/completions", body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s stream=%v: %d %s", tc.model, stream, resp.StatusCode, b)
			}
			if v := upstream(); !tc.check(v) {
				t.Errorf("%s stream=%v: upstream body %v", tc.model, stream, v)
			}
		}
	}
}

// TestTargetRetryOverridesTheModel: a target's own retry replaces the
// model's for that target; x-sluice-max-attempts still wins.
func TestTargetRetryOverridesTheModel(t *testing.T) {
	ms, urls := upstreams(t, "primary", "backup")
	env := routeEnv(t, urls.Replace(`
providers:
  - { name: primary, type: openai, base_url: "PRIMARY_URL/v1", api_key: k }
  - { name: backup, type: openai, base_url: "BACKUP_URL/v1", api_key: k }
models:
  - name: patient
    strategy: fallback
    retry: { max_attempts: 1 }
    targets:
      - { provider: primary, model: gpt-4o-mini, retry: { max_attempts: 3, delay: 1ms } }
      - { provider: backup, model: gpt-4o-mini }
routing: { breaker: { enabled: false } }
`))
	for _, tc := range []struct {
		name, header, provider, attempts string
	}{
		{"the target's retry", "", "primary", "3"},
		{"the request's header wins", "1", "backup", "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms["primary"].InjectFault(mock.Fault{Count: 2, Status: 503})
			var hdr []string
			if tc.header != "" {
				hdr = []string{"X-Sluice-Max-Attempts", tc.header}
			}
			resp, body := env.post("/v1/chat/completions", routedBody("patient", false), hdr...)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("X-Sluice-Provider") + " " + resp.Header.Get("X-Sluice-Attempts"); got != tc.provider+" "+tc.attempts {
				t.Errorf("provider, attempts = %q; want %q", got, tc.provider+" "+tc.attempts)
			}
			ms["primary"].Reset()
		})
	}
}

// BenchmarkChatCompletionTargetOverrides is BenchmarkChatCompletion/bare
// for a model that uses every per-target feature: context windows (the
// prompt is estimated), extra params (the upstream body is patched), a
// target's own retry and content_policy fallback (answers are checked).
func BenchmarkChatCompletionTargetOverrides(b *testing.B) {
	cfg, err := config.Parse([]byte(`
log: { level: warn }
auth: { require_keys: false }
metrics: { enabled: false }
request_log: { enabled: false }
providers: [ { name: up, type: openai, base_url: "http://upstream.invalid/v1", api_key: k } ]
models:
  - name: bench
    strategy: fallback
    fallback_on: [content_policy]
    targets:
      - { provider: up, model: gpt-4o-mini, context_window: 128000, extra: { safe_prompt: true, temperature: null }, retry: { max_attempts: 2 } }
      - { provider: up, model: gpt-4o, context_window: 128000 }
`), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	g, err := gateway.New(cfg, gateway.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Client: &http.Client{Transport: cannedTransport{}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(g.Close)
	h := g.Handler()
	body := strings.Replace(benchRequest, "STREAM", "", 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body)))
		if rec.Code != 200 {
			b.Fatalf("%d: %s", rec.Code, rec.Body)
		}
	}
}
