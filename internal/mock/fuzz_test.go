package mock_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/mock"
)

// fuzzServe sends body to path in-process and checks that the mock either
// rejects it with a well-formed 400 or answers with well-formed JSON or a
// well-framed event stream whose every event is JSON.
func fuzzServe(t *testing.T, m *mock.Server, path string, body []byte) {
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(body)))
	out := rec.Body.Bytes()
	switch rec.Code {
	case 200:
	case 400:
		if !json.Valid(out) {
			t.Fatalf("400 with invalid JSON %q", out)
		}
		return
	default:
		t.Fatalf("status %d for %q: %s", rec.Code, body, out)
	}
	ct := rec.Header().Get("Content-Type")
	if ct != "text/event-stream" {
		if !json.Valid(out) {
			t.Fatalf("answer is not JSON: %q", out)
		}
		return
	}
	if !bytes.HasSuffix(out, []byte("\n\n")) {
		t.Fatalf("stream does not end with a blank line: %q", out)
	}
	for _, block := range strings.Split(strings.TrimSuffix(string(out), "\n\n"), "\n\n") {
		data := block[strings.LastIndex(block, "\n")+1:]
		if !strings.HasPrefix(data, "data: ") {
			t.Fatalf("event without a data line: %q", block)
		}
		if data = data[len("data: "):]; data != "[DONE]" && !json.Valid([]byte(data)) {
			t.Fatalf("event data is not JSON: %q", data)
		}
	}
}

// seedBodies adds the request bodies of the unit tests whose path has the
// given prefix, and the conversation cases rendered by render.
func seedBodies(f *testing.F, prefix string, render func(c conv, stream bool) string) {
	for _, tc := range goldenCases {
		if tc.body != "" && strings.HasPrefix(tc.path, prefix) {
			f.Add([]byte(tc.body))
		}
	}
	for _, ep := range endpoints {
		if strings.HasPrefix(ep.path, prefix) {
			f.Add([]byte(ep.body))
			f.Add([]byte(ep.streamBody))
		}
	}
	if render != nil {
		for _, tc := range conversationCases {
			f.Add([]byte(render(tc.conv, false)))
			f.Add([]byte(render(tc.conv, true)))
		}
	}
}

func FuzzOpenAIChat(f *testing.F) {
	seedBodies(f, "/v1/chat/completions", func(c conv, stream bool) string { return openAIBody(f, c, stream) })
	m := mock.New(mock.Options{StreamChunks: 3})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzServe(t, m, "/v1/chat/completions", body) })
}

func FuzzAnthropicMessages(f *testing.F) {
	seedBodies(f, "/v1/messages", func(c conv, stream bool) string { return anthropicBody(f, c, stream) })
	f.Add([]byte(anthropicCacheBody("Hello there", ephemeral, true)))
	f.Add([]byte(anthropicCacheBody("Hello there", `,"cache_control":null`, false)))
	f.Add([]byte(`{"model":"m","max_tokens":9,"system":[{"type":"text","text":"s","cache_control":{}}],` +
		`"tools":[{"name":"t","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[` +
		`{"type":"tool_result","content":[{"type":"text","text":"r","cache_control":{"type":"ephemeral"}}]}]}]}`))
	m := mock.New(mock.Options{StreamChunks: 3})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzServe(t, m, "/v1/messages", body) })
}

func FuzzGeminiGenerate(f *testing.F) {
	seedBodies(f, "/v1beta/models/", func(c conv, _ bool) string { return geminiBody(f, c) })
	m := mock.New(mock.Options{StreamChunks: 3})
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzServe(t, m, "/v1beta/models/g:generateContent", body)
		fuzzServe(t, m, "/v1beta/models/g:streamGenerateContent?alt=sse", body)
	})
}

func FuzzOpenAIEmbeddings(f *testing.F) {
	seedBodies(f, "/v1/embeddings", nil)
	for _, in := range []string{`"x"`, `["a","b"]`, `[1,2]`, `[[1],[2,3]]`, `[]`, `[""]`, `null`} {
		f.Add([]byte(`{"model":"m","input":` + in + `,"dimensions":3,"encoding_format":"base64"}`))
	}
	m := mock.New(mock.Options{})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzServe(t, m, "/v1/embeddings", body) })
}

func FuzzGeminiEmbed(f *testing.F) {
	seedBodies(f, "/v1beta/models/text-embedding-004", nil)
	f.Add([]byte(`{"content":{"parts":[{"text":"a"}]},"outputDimensionality":3}`))
	m := mock.New(mock.Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzServe(t, m, "/v1beta/models/text-embedding-004:batchEmbedContents", body)
		fuzzServe(t, m, "/v1beta/models/text-embedding-004:embedContent", body)
	})
}
