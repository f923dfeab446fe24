package mock_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/mock"
)

// cacheStep is one request of a prompt-caching case and the usage its
// answer must report.
type cacheStep struct {
	path, body string
	want       cacheUsage
}

// steps repeats the request path+body once per wanted usage.
func steps(path, body string, want ...cacheUsage) []cacheStep {
	out := make([]cacheStep, len(want))
	for i, w := range want {
		out[i] = cacheStep{path, body, w}
	}
	return out
}

// TestPromptCaching sends each case's requests in order to a fresh mock;
// the expected counts follow README.md ("Prompt caching") and the token
// formula: one message of R runes is ⌈R/4⌉ + 3 tokens.
func TestPromptCaching(t *testing.T) {
	o := func(text string, stream bool, tools ...string) string {
		return openAICacheBody(t, "", text, stream, tools...)
	}
	g := func(text string) string { return geminiCacheBody(t, "", text) }
	other := text1103[:len(text1103)-1] + "e" // same length, other text
	const (
		hello    = "Hello there" // 6 tokens
		sysBlock = `{"model":"claude-haiku-4-5","max_tokens":100,"system":[{"type":"text","text":%q%s}],` +
			`"messages":[{"role":"user","content":"Hello there"}]}` // 11 tokens
		toolBody = `{"model":"claude-haiku-4-5","max_tokens":100,"tools":[{"name":%q,` +
			`"input_schema":{"type":"object"}%s}],"messages":[{"role":"user","content":"Hello there"}]}` // 6 tokens
		// R = 6 + 0 + 2, M = 3: 11 tokens.
		toolResult = `{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"find x"},` +
			`{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"lookup","input":{}}]},` +
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"42"%s}]}]}]}`
	)
	miss1103, hit1103 := cacheUsage{Prompt: 1103}, cacheUsage{Prompt: 1103, Read: 1024}
	write := func(n int) cacheUsage { return cacheUsage{Written: n} }
	read := func(n int) cacheUsage { return cacheUsage{Read: n} }
	uncached := func(n int) cacheUsage { return cacheUsage{Prompt: n} }
	join := func(ss ...[]cacheStep) []cacheStep {
		var out []cacheStep
		for _, s := range ss {
			out = append(out, s...)
		}
		return out
	}

	tests := []struct {
		name  string
		steps []cacheStep
	}{
		{"openai repeat is cached in 128-token blocks", steps(openAIPath, o(text1103, false), miss1103, hit1103, hit1103)},
		{"openai stream usage chunk", steps(openAIPath, o(text1103, true), miss1103, hit1103)},
		{"openai whole then streamed", join(steps(openAIPath, o(text1103, false), miss1103),
			steps(openAIPath, o(text1103, true), hit1103))},
		{"openai 1300 tokens", steps(openAIPath, o(text1300, false), uncached(1300), cacheUsage{Prompt: 1300, Read: 1280})},
		{"openai exactly 1024 tokens", steps(openAIPath, o(text1024, false), uncached(1024), cacheUsage{Prompt: 1024, Read: 1024})},
		{"openai 1023 tokens are never cached", steps(openAIPath, o(text1023, true), uncached(1023), uncached(1023), uncached(1023))},
		{"openai system counts", steps(openAIPath, openAICacheBody(t, "Be brief.", text1103, false),
			uncached(1109), cacheUsage{Prompt: 1109, Read: 1024})},
		{"openai other text", join(steps(openAIPath, o(text1103, false), miss1103), steps(openAIPath, o(other, false), miss1103))},
		{"openai other tools", join(steps(openAIPath, o(text1103, false, "a"), miss1103),
			steps(openAIPath, o(text1103, false, "b"), miss1103), steps(openAIPath, o(text1103, false, "a"), hit1103))},
		{"azure repeat", steps(azurePath, o(text1103, true), miss1103, hit1103)},
		{"openai and gemini caches are separate", join(steps(openAIPath, o(text1103, false), miss1103),
			steps(geminiPath, g(text1103), miss1103))},

		{"anthropic cache_control on a message block", steps(anthropicPath, anthropicCacheBody(hello, ephemeral, false),
			write(6), read(6), read(6))},
		{"anthropic stream", steps(anthropicPath, anthropicCacheBody(hello, ephemeral, true), write(6), read(6))},
		{"anthropic whole then streamed", join(steps(anthropicPath, anthropicCacheBody(hello, ephemeral, false), write(6)),
			steps(anthropicPath, anthropicCacheBody(hello, ephemeral, true), read(6)))},
		{"anthropic long prompt", steps(anthropicPath, anthropicCacheBody(text1103, ephemeral, true), write(1103), read(1103))},
		{"anthropic without cache_control", steps(anthropicPath, anthropicCacheBody(hello, "", false), uncached(6), uncached(6))},
		{"anthropic long prompt without cache_control", steps(anthropicPath, anthropicCacheBody(text1103, "", true),
			uncached(1103), uncached(1103))},
		{"anthropic null cache_control", steps(anthropicPath, anthropicCacheBody(hello, `,"cache_control":null`, true),
			uncached(6), uncached(6))},
		{"anthropic unmarked requests are not remembered", join(
			steps(anthropicPath, anthropicCacheBody(hello, "", false), uncached(6)),
			steps(anthropicPath, anthropicCacheBody(hello, ephemeral, false), write(6), read(6)),
			steps(anthropicPath, anthropicCacheBody(hello, "", true), uncached(6)))},
		{"anthropic cache_control on a system block", join(
			steps(anthropicPath, fmt.Sprintf(sysBlock, "Be brief.", ephemeral), write(11), read(11)),
			steps(anthropicPath, fmt.Sprintf(sysBlock, "Be terse.", ephemeral), write(11)))},
		{"anthropic cache_control on a tool", join(
			steps(anthropicPath, fmt.Sprintf(toolBody, "lookup", ephemeral), write(6), read(6)),
			steps(anthropicPath, fmt.Sprintf(toolBody, "search", ephemeral), write(6)),
			steps(anthropicPath, fmt.Sprintf(toolBody, "search", ""), uncached(6)))},
		{"anthropic cache_control inside a tool result", steps(anthropicPath, fmt.Sprintf(toolResult, ephemeral),
			write(11), read(11))},

		{"gemini repeat", steps(geminiPath, g(text1103), miss1103, hit1103)},
		{"gemini SSE stream", steps(geminiSSEPath, g(text1103), miss1103, hit1103)},
		{"gemini JSON-array stream", steps(geminiJSONPath, g(text1103), miss1103, hit1103)},
		{"gemini whole then streamed", join(steps(geminiPath, g(text1103), miss1103), steps(geminiSSEPath, g(text1103), hit1103))},
		{"gemini 1300 tokens", steps(geminiPath, g(text1300), uncached(1300), cacheUsage{Prompt: 1300, Read: 1280})},
		{"gemini 1023 tokens are never cached", steps(geminiSSEPath, g(text1023), uncached(1023), uncached(1023))},
		{"gemini system instruction counts", steps(geminiPath, geminiCacheBody(t, "Be brief.", text1103),
			uncached(1109), cacheUsage{Prompt: 1109, Read: 1024})},
		{"gemini other model", join(steps(geminiPath, g(text1103), miss1103),
			steps(strings.Replace(geminiPath, "gemini-test", "gemini-other", 1), g(text1103), miss1103))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mock.New(mock.Options{StreamChunks: 3, Now: fixedNow})
			var got, want []cacheUsage
			for _, st := range tc.steps {
				got = append(got, sendForUsage(t, m, st.path, st.body))
				want = append(want, st.want)
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("usage per request (-got +want):\n%s", diff)
			}
		})
	}
}

// TestResetForgetsPrompts checks that Reset and POST /_mock/reset empty
// the prompt memory in every API, and that it fills again afterwards.
func TestResetForgetsPrompts(t *testing.T) {
	apis := []struct {
		name, path, body string
		miss, hit        cacheUsage
	}{
		{"openai", openAIPath, openAICacheBody(t, "", text1103, false), cacheUsage{Prompt: 1103}, cacheUsage{Prompt: 1103, Read: 1024}},
		{"anthropic", anthropicPath, anthropicCacheBody("Hello there", ephemeral, false), cacheUsage{Written: 6}, cacheUsage{Read: 6}},
		{"gemini", geminiPath, geminiCacheBody(t, "", text1103), cacheUsage{Prompt: 1103}, cacheUsage{Prompt: 1103, Read: 1024}},
	}
	resets := []struct {
		name  string
		reset func(t *testing.T, m *mock.Server)
	}{
		{"Reset", func(_ *testing.T, m *mock.Server) { m.Reset() }},
		{"control API", func(t *testing.T, m *mock.Server) {
			if rec := serveRecorded(m, "POST", "/_mock/reset", ""); rec.Code != http.StatusNoContent {
				t.Fatalf("reset: status %d", rec.Code)
			}
		}},
	}
	for _, a := range apis {
		for _, r := range resets {
			t.Run(a.name+"/"+r.name, func(t *testing.T) {
				m := mock.New(mock.Options{})
				var got []cacheUsage
				for i := range 4 {
					if i == 2 {
						r.reset(t, m)
					}
					got = append(got, sendForUsage(t, m, a.path, a.body))
				}
				if diff := cmp.Diff(got, []cacheUsage{a.miss, a.hit, a.miss, a.hit}); diff != "" {
					t.Errorf("usage before and after the reset (-got +want):\n%s", diff)
				}
			})
		}
	}
}

// TestPromptMemoryIsBounded checks that a prompt is forgotten after 4096
// other distinct prompts.
func TestPromptMemoryIsBounded(t *testing.T) {
	m := mock.New(mock.Options{})
	long := openAICacheBody(t, "", text1103, false)
	got := []cacheUsage{sendForUsage(t, m, openAIPath, long)}
	for i := range 4096 {
		body := `{"model":"echo","messages":[{"role":"user","content":"filler ` + fmt.Sprint(i) + `"}]}`
		if rec := serveRecorded(m, "POST", openAIPath, body); rec.Code != http.StatusOK {
			t.Fatalf("filler %d: status %d", i, rec.Code)
		}
	}
	got = append(got, sendForUsage(t, m, openAIPath, long), sendForUsage(t, m, openAIPath, long))
	want := []cacheUsage{{Prompt: 1103}, {Prompt: 1103}, {Prompt: 1103, Read: 1024}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("usage (-got +want):\n%s", diff)
	}
}

// TestGeminiCountTokensIsNotAnAnswer checks that countTokens neither
// reports nor fills the prompt memory.
func TestGeminiCountTokensIsNotAnAnswer(t *testing.T) {
	m := mock.New(mock.Options{})
	body := geminiCacheBody(t, "", text1103)
	for range 2 {
		rec := serveRecorded(m, "POST", "/v1beta/models/gemini-test:countTokens", body)
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "cache") {
			t.Fatalf("countTokens: status %d: %s", rec.Code, rec.Body)
		}
	}
	if got := sendForUsage(t, m, geminiPath, body); got != (cacheUsage{Prompt: 1103}) {
		t.Errorf("first generateContent after countTokens: %+v, want nothing cached", got)
	}
}
