package mock_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/mock"
)

// cacheUsage is an answer's usage reduced to what prompt caching changes.
type cacheUsage struct {
	// Prompt is OpenAI's prompt_tokens, Gemini's promptTokenCount or
	// Anthropic's input_tokens (which excludes cached tokens).
	Prompt int
	// Read is OpenAI's prompt_tokens_details.cached_tokens, Gemini's
	// cachedContentTokenCount or Anthropic's cache_read_input_tokens.
	Read int
	// Written is Anthropic's cache_creation_input_tokens.
	Written int
}

// Texts whose prompts have known token counts: one message of R runes is
// ⌈R/4⌉ + 3 tokens.
var (
	text1103 = strings.Repeat("abcd", 1100) // 1103 tokens: 1024 cached
	text1300 = strings.Repeat("abcd", 1297) // 1300 tokens: 1280 cached
	text1024 = strings.Repeat("abcd", 1021) // 1024 tokens: the threshold
	text1023 = strings.Repeat("abcd", 1020) // 1023 tokens: never cached
)

const (
	openAIPath     = "/v1/chat/completions"
	azurePath      = "/openai/deployments/dep/chat/completions?api-version=2024-10-21"
	anthropicPath  = "/v1/messages"
	geminiPath     = "/v1beta/models/gemini-test:generateContent"
	geminiSSEPath  = "/v1beta/models/gemini-test:streamGenerateContent?alt=sse"
	geminiJSONPath = "/v1beta/models/gemini-test:streamGenerateContent"
)

// openAICacheBody is a chat request with one user message of text (and a
// system message when system is set), streamed with usage when stream.
func openAICacheBody(t testing.TB, system, text string, stream bool, tools ...string) string {
	var msgs []any
	if system != "" {
		msgs = append(msgs, map[string]any{"role": "system", "content": system})
	}
	req := map[string]any{"model": "gpt-4o-mini", "messages": append(msgs, map[string]any{"role": "user", "content": text})}
	if stream {
		req["stream"], req["stream_options"] = true, map[string]any{"include_usage": true}
	}
	var ts []any
	for _, name := range tools {
		ts = append(ts, map[string]any{"type": "function", "function": map[string]any{"name": name}})
	}
	if ts != nil {
		req["tools"] = ts
	}
	return mustJSON(t, req)
}

// geminiCacheBody is a generateContent request with one user content.
func geminiCacheBody(t testing.TB, system, text string) string {
	req := map[string]any{"contents": []any{
		map[string]any{"role": "user", "parts": []any{map[string]any{"text": text}}},
	}}
	if system != "" {
		req["systemInstruction"] = map[string]any{"parts": []any{map[string]any{"text": system}}}
	}
	return mustJSON(t, req)
}

// anthropicCacheBody is a Messages request; mark is spliced into the user
// message's text block (`,"cache_control":{"type":"ephemeral"}` marks it).
func anthropicCacheBody(text, mark string, stream bool) string {
	b, _ := json.Marshal(text)
	s := `{"model":"claude-haiku-4-5","max_tokens":100,`
	if stream {
		s += `"stream":true,`
	}
	return s + `"messages":[{"role":"user","content":[{"type":"text","text":` + string(b) + mark + `}]}]}`
}

const ephemeral = `,"cache_control":{"type":"ephemeral"}`

// sendForUsage posts body to path on m and returns the usage the answer
// reports, checking that it agrees wherever the answer repeats it.
func sendForUsage(t *testing.T, m *mock.Server, path, body string) cacheUsage {
	t.Helper()
	rec := serveRecorded(m, "POST", path, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST %s: status %d: %s", path, rec.Code, rec.Body)
	}
	out := rec.Body.Bytes()
	switch {
	case strings.HasPrefix(path, "/v1beta/"):
		return geminiCacheUsage(t, path, out)
	case path == anthropicPath:
		return anthropicCacheUsage(t, rec.Header().Get("Content-Type") == "text/event-stream", out)
	}
	return openAICacheUsage(t, rec.Header().Get("Content-Type") == "text/event-stream", out)
}

type openAICachedUsage struct {
	Prompt  int `json:"prompt_tokens"`
	Details *struct {
		Cached int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

func openAICacheUsage(t *testing.T, stream bool, body []byte) cacheUsage {
	t.Helper()
	var answers []struct{ Usage *openAICachedUsage }
	if stream {
		for _, ev := range parseSSE(t, body) {
			if ev.Data == "[DONE]" {
				continue
			}
			var a struct{ Usage *openAICachedUsage }
			if err := json.Unmarshal([]byte(ev.Data), &a); err != nil {
				t.Fatalf("chunk %s: %v", ev.Data, err)
			}
			if a.Usage != nil {
				answers = append(answers, a)
			}
		}
	} else {
		answers = make([]struct{ Usage *openAICachedUsage }, 1)
		if err := json.Unmarshal(body, &answers[0]); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
	}
	if len(answers) != 1 || answers[0].Usage == nil || answers[0].Usage.Details == nil {
		t.Fatalf("want one usage with prompt_tokens_details in %s", body)
	}
	u := answers[0].Usage
	return cacheUsage{Prompt: u.Prompt, Read: u.Details.Cached}
}

// geminiUsageChunk is a Gemini answer or chunk, reduced to its usage.
type geminiUsageChunk struct {
	UsageMetadata *struct {
		Prompt  int `json:"promptTokenCount"`
		Cached  int `json:"cachedContentTokenCount"`
		Details []struct {
			Modality   string `json:"modality"`
			TokenCount int    `json:"tokenCount"`
		} `json:"cacheTokensDetails"`
	} `json:"usageMetadata"`
}

func geminiCacheUsage(t *testing.T, path string, body []byte) cacheUsage {
	t.Helper()
	var chunks []geminiUsageChunk
	var err error
	switch {
	case strings.HasSuffix(path, "?alt=sse"):
		for _, ev := range parseSSE(t, body) {
			var c geminiUsageChunk
			if err = json.Unmarshal([]byte(ev.Data), &c); err != nil {
				break
			}
			chunks = append(chunks, c)
		}
	case strings.Contains(path, ":stream"):
		err = json.Unmarshal(body, &chunks)
	default:
		chunks = make([]geminiUsageChunk, 1)
		err = json.Unmarshal(body, &chunks[0])
	}
	if err != nil || len(chunks) == 0 || chunks[len(chunks)-1].UsageMetadata == nil {
		t.Fatalf("want usageMetadata in the last chunk of %s (%v)", body, err)
	}
	u := chunks[len(chunks)-1].UsageMetadata
	switch {
	case u.Cached == 0 && strings.Contains(string(body), `"cachedContentTokenCount"`):
		t.Errorf("zero cached tokens should be omitted, as Gemini does: %s", body)
	case u.Cached > 0 && (len(u.Details) != 1 || u.Details[0].TokenCount != u.Cached || u.Details[0].Modality != "TEXT"):
		t.Errorf("cacheTokensDetails %+v disagree with cachedContentTokenCount %d", u.Details, u.Cached)
	}
	return cacheUsage{Prompt: u.Prompt, Read: u.Cached}
}

type anthropicCachedUsage struct {
	Input   *int `json:"input_tokens"`
	Written *int `json:"cache_creation_input_tokens"`
	Read    *int `json:"cache_read_input_tokens"`
	Output  *int `json:"output_tokens"`
}

func (u anthropicCachedUsage) reduce(t *testing.T) cacheUsage {
	t.Helper()
	if u.Input == nil || u.Written == nil || u.Read == nil || u.Output == nil {
		t.Fatalf("usage misses a field: %+v", u)
	}
	return cacheUsage{Prompt: *u.Input, Read: *u.Read, Written: *u.Written}
}

// anthropicCacheUsage returns the usage of a whole answer, or of a
// stream's message_start, checking that message_delta repeats the input
// and cache fields exactly when the request used cache_control (then some
// cache field is non-zero).
func anthropicCacheUsage(t *testing.T, stream bool, body []byte) cacheUsage {
	t.Helper()
	if !stream {
		var m struct{ Usage anthropicCachedUsage }
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		return m.Usage.reduce(t)
	}
	var start, delta *anthropicCachedUsage
	for _, ev := range parseSSE(t, body) {
		var e struct {
			Message struct{ Usage anthropicCachedUsage }
			Usage   anthropicCachedUsage
		}
		if err := json.Unmarshal([]byte(ev.Data), &e); err != nil {
			t.Fatalf("event %s: %v", ev.Data, err)
		}
		switch ev.Name {
		case "message_start":
			start = &e.Message.Usage
		case "message_delta":
			delta = &e.Usage
		}
	}
	if start == nil || delta == nil || delta.Output == nil {
		t.Fatalf("stream without message_start usage or message_delta output_tokens: %s", body)
	}
	got := start.reduce(t)
	if got.Read == 0 && got.Written == 0 {
		if delta.Input != nil || delta.Read != nil || delta.Written != nil {
			t.Errorf("message_delta usage %+v repeats input fields without cache_control", *delta)
		}
		return got
	}
	if diff := cmp.Diff(delta.reduce(t), got); diff != "" {
		t.Errorf("message_delta usage differs from message_start's (-got +want):\n%s", diff)
	}
	return got
}

// serveRecorded answers one request in-process.
func serveRecorded(m *mock.Server, method, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}
