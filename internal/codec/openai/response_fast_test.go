package openai

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkFastResponse holds the fast path to encoding/json's on body (see
// checkFastRequest) and returns whether it took body.
func checkFastResponse(t *testing.T, body []byte) bool {
	t.Helper()
	fast, ok := decodeChatResponseFast(body)
	if !ok {
		return false
	}
	std, err := decodeChatResponseStd(body)
	if err != nil {
		t.Fatalf("the fast path decodes what encoding/json rejects (%v):\n%s", err, body)
	}
	if diff := cmp.Diff(std, fast); diff != "" {
		t.Fatalf("fast path differs from encoding/json (-std +fast):\n%s\nbody:\n%s", diff, body)
	}
	return true
}

func TestDecodeChatResponseFastFixtures(t *testing.T) {
	for _, path := range fixtures(t, "testdata/responses/*.json") {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			if !checkFastResponse(t, readFile(t, path)) {
				t.Error("the fast path left the response to encoding/json")
			}
		})
	}
}

var fastResponseCases = []struct {
	name, body string
	fast       bool
}{
	{"text", `{"id":"c1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,
		"message":{"role":"assistant","content":"Paris.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],
		"usage":{"prompt_tokens":42,"completion_tokens":17,"total_tokens":59,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},
		"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0}},
		"service_tier":"default","system_fingerprint":"fp_1"}`, true},
	{"two choices", `{"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"stop"},
		{"index":1,"message":{"role":"assistant","content":"b\n\u00e9"},"finish_reason":"length","logprobs":{"content":[]}}]}`, true},
	{"tool calls", `{"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
		{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},{"index":1,"id":"t2","function":{"name":"g","arguments":{"b":2}}}]},
		"finish_reason":"tool_calls"}]}`, true},
	{"reasoning and audio", `{"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant","reasoning_content":"hmm","content":"x",
		"audio":{"id":"a1","data":"AA"},"annotations":[{"type":"url_citation","url_citation":{"url":"u"}}]},"finish_reason":"stop"}]}`, true},
	{"deepseek usage", `{"id":"c","model":"m","choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":9,"completion_tokens":1,
		"prompt_cache_hit_tokens":4,"prompt_cache_miss_tokens":5}}`, true},
	{"empty choices", `{"id":"c","choices":[]}`, true},
	{"nulls", `{"id":null,"model":null,"created":null,"choices":[{"index":null,"message":null,"finish_reason":null}],"usage":null,
		"error":null,"x_groq":null}`, true},
	{"unknown members", `{"id":"c","object":"chat.completion","choices":[{"message":{"content":"x","extra":[1]},"extra":2}],"extra":{}}`, true},

	// Left to encoding/json.
	{"no choices", `{"id":"c"}`, false},
	{"error", `{"error":{"message":"m"}}`, false},
	{"groq usage", `{"choices":[],"x_groq":{"usage":{"prompt_tokens":1}}}`, false},
	{"fractional created", `{"created":1.5,"choices":[]}`, false},
	{"content parts", `{"choices":[{"message":{"content":[{"type":"text","text":"a"}]}}]}`, false},
	{"key case", `{"ID":"c","choices":[]}`, false},
	{"duplicate", `{"choices":[],"choices":[]}`, false},
	{"invalid UTF-8", "{\"choices\":[{\"message\":{\"content\":\"\xff\"}}]}", false},
	{"invalid JSON", `{"choices":[}`, false},
	{"custom call", `{"choices":[{"message":{"tool_calls":[{"custom":{"name":"n","input":"i"}}]}}]}`, false},
}

func TestDecodeChatResponseFastCases(t *testing.T) {
	for _, tc := range fastResponseCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkFastResponse(t, []byte(tc.body)); got != tc.fast {
				t.Errorf("fast path taken: %v, want %v", got, tc.fast)
			}
		})
	}
}

// TestDecodeChatResponseAllocs guards the fast path's allocations on a
// plain answer: the response with its choice and part, and the body's
// string copy.
func TestDecodeChatResponseAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	body := []byte(fastResponseCases[0].body)
	got := testing.AllocsPerRun(200, func() {
		if _, err := DecodeChatResponse(body); err != nil {
			t.Fatal(err)
		}
	})
	if got > 2 {
		t.Errorf("DecodeChatResponse: %v allocations, want at most 2", got)
	}
}

// FuzzDecodeChatResponseFast holds the fast path to encoding/json's on any
// input.
func FuzzDecodeChatResponseFast(f *testing.F) {
	for _, path := range fixtures(f, "testdata/responses/*.json") {
		f.Add(readFile(f, path))
	}
	for _, tc := range fastResponseCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastResponse(t, body)
	})
}
