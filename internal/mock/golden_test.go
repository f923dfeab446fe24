package mock_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/mock"
)

const (
	anthropicHeaders = "anthropic-version"
	anthropicVersion = "2023-06-01"
)

// goldenCases pin every answer shape byte-for-byte-equivalent JSON; run
// go test -update to rewrite them after an intended change.
var goldenCases = []struct {
	name, method, path, body string
	headers                  []string
	status                   int
}{
	{"openai_chat.json", "POST", "/v1/chat/completions",
		`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there"}]}`, nil, 200},
	{"openai_chat_tool.json", "POST", "/v1/chat/completions",
		`{"model":"gpt-4o-mini","tools":[{"type":"function","function":{"name":"lookup"}}],"messages":[{"role":"user","content":"find x"}]}`, nil, 200},
	{"openai_chat_stream.json", "POST", "/v1/chat/completions",
		`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hello there"}]}`, nil, 200},
	{"openai_chat_stream_tool.json", "POST", "/v1/chat/completions",
		`{"model":"gpt-4o-mini","stream":true,"tools":[{"type":"function","function":{"name":"lookup"}}],"messages":[{"role":"user","content":"find x"}]}`, nil, 200},
	{"openai_embeddings.json", "POST", "/v1/embeddings",
		`{"model":"text-embedding-3-small","input":["a","b"],"dimensions":4}`, nil, 200},
	{"openai_embeddings_base64.json", "POST", "/v1/embeddings",
		`{"model":"text-embedding-3-small","input":"a","dimensions":4,"encoding_format":"base64"}`, nil, 200},
	{"openai_models.json", "GET", "/v1/models", "", nil, 200},
	{"openai_error_bad_json.json", "POST", "/v1/chat/completions", `{"model":`, nil, 400},
	{"openai_error_unknown_path.json", "POST", "/v1/completions", `{}`, nil, 404},
	{"anthropic_messages.json", "POST", "/v1/messages",
		`{"model":"claude-haiku-4-5","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":"Hello there"}]}`, nil, 200},
	{"anthropic_messages_tool.json", "POST", "/v1/messages",
		`{"model":"claude-haiku-4-5","max_tokens":100,"tools":[{"name":"lookup","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"find x"}]}`, nil, 200},
	{"anthropic_stream.json", "POST", "/v1/messages",
		`{"model":"claude-haiku-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Hello there"}]}`, nil, 200},
	{"anthropic_stream_tool.json", "POST", "/v1/messages",
		`{"model":"claude-haiku-4-5","max_tokens":100,"stream":true,"tools":[{"name":"lookup","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"find x"}]}`, nil, 200},
	{"anthropic_models.json", "GET", "/v1/models", "", []string{anthropicHeaders, anthropicVersion}, 200},
	{"anthropic_error_max_tokens.json", "POST", "/v1/messages",
		`{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}]}`, nil, 400},
	{"gemini_generate.json", "POST", "/v1beta/models/gemini-2.5-flash:generateContent",
		`{"systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[{"role":"user","parts":[{"text":"Hello there"}]}]}`, nil, 200},
	{"gemini_generate_tool.json", "POST", "/v1beta/models/gemini-2.5-flash:generateContent",
		`{"tools":[{"functionDeclarations":[{"name":"lookup"}]}],"contents":[{"role":"user","parts":[{"text":"find x"}]}]}`, nil, 200},
	{"gemini_stream.json", "POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
		`{"contents":[{"role":"user","parts":[{"text":"Hello there"}]}]}`, nil, 200},
	{"gemini_stream_array.json", "POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
		`{"contents":[{"role":"user","parts":[{"text":"Hello there"}]}]}`, nil, 200},
	{"gemini_batch_embed.json", "POST", "/v1beta/models/text-embedding-004:batchEmbedContents",
		`{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]},"outputDimensionality":4}]}`, nil, 200},
	{"gemini_models.json", "GET", "/v1beta/models", "", nil, 200},
	{"gemini_error_no_contents.json", "POST", "/v1beta/models/gemini-2.5-flash:generateContent", `{}`, nil, 400},
}

func TestGoldenAnswers(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := newServer(t, mock.Options{StreamChunks: 3})
			resp, body := call(t, srv, tc.method, tc.path, tc.body, tc.headers...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var got any
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				var events []any
				for _, ev := range parseSSE(t, body) {
					e := map[string]any{"data": ev.Data}
					if ev.Data != "[DONE]" {
						e["data"] = parseJSON(t, []byte(ev.Data))
					}
					if ev.Name != "" {
						e["event"] = ev.Name
					}
					events = append(events, e)
				}
				got = events
			} else {
				got = parseJSON(t, body)
			}
			checkGolden(t, tc.name, got)
		})
	}
}
