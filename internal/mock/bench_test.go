package mock_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sluicehq/sluice/internal/mock"
)

// rewindBody is a request body that can be read again, so benchmarks reuse
// one request and measure the mock rather than request construction.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

const benchChat = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},` +
	`{"role":"user","content":"Summarise the plot of Hamlet in two sentences, please."}],"max_tokens":256}`

func benchServe(b *testing.B, opts mock.Options, path, body string) {
	m := mock.New(opts)
	req := httptest.NewRequest(http.MethodPost, path, nil)
	rb := &rewindBody{}
	req.Body, req.ContentLength = rb, int64(len(body))
	data := []byte(body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rb.Reset(data)
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkChatCompletion(b *testing.B) {
	benchServe(b, mock.Options{}, "/v1/chat/completions", benchChat)
}

func BenchmarkChatCompletionStream(b *testing.B) {
	body := benchChat[:len(benchChat)-1] + `,"stream":true,"stream_options":{"include_usage":true}}`
	benchServe(b, mock.Options{}, "/v1/chat/completions", body)
}

func BenchmarkChatCompletionToolCall(b *testing.B) {
	body := benchChat[:len(benchChat)-1] + `,"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]}`
	benchServe(b, mock.Options{}, "/v1/chat/completions", body)
}

func BenchmarkMessages(b *testing.B) {
	body := `{"model":"claude-haiku-4-5","max_tokens":256,"system":"You are a helpful assistant.",` +
		`"messages":[{"role":"user","content":"Summarise the plot of Hamlet in two sentences, please."}]}`
	benchServe(b, mock.Options{}, "/v1/messages", body)
}

func BenchmarkMessagesStream(b *testing.B) {
	body := `{"model":"claude-haiku-4-5","max_tokens":256,"stream":true,"system":"You are a helpful assistant.",` +
		`"messages":[{"role":"user","content":"Summarise the plot of Hamlet in two sentences, please."}]}`
	benchServe(b, mock.Options{}, "/v1/messages", body)
}

func BenchmarkGenerateContent(b *testing.B) {
	body := `{"systemInstruction":{"parts":[{"text":"You are a helpful assistant."}]},` +
		`"contents":[{"role":"user","parts":[{"text":"Summarise the plot of Hamlet in two sentences, please."}]}]}`
	benchServe(b, mock.Options{}, "/v1beta/models/gemini-2.5-flash:generateContent", body)
}

// The prompt-caching benchmarks send a 1103-token prompt (4.4 kB of text)
// again and again, so every answer after the first reports cached tokens.

func BenchmarkChatCompletionCachedPrompt(b *testing.B) {
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + text1103 + `"}],"max_tokens":256}`
	benchServe(b, mock.Options{}, "/v1/chat/completions", body)
}

func BenchmarkMessagesCacheControl(b *testing.B) {
	body := `{"model":"claude-haiku-4-5","max_tokens":256,"stream":true,"system":[{"type":"text",` +
		`"text":"` + text1103 + `","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"Hi"}]}`
	benchServe(b, mock.Options{}, "/v1/messages", body)
}

func BenchmarkGenerateContentCachedPrompt(b *testing.B) {
	body := `{"contents":[{"role":"user","parts":[{"text":"` + text1103 + `"}]}]}`
	benchServe(b, mock.Options{}, "/v1beta/models/gemini-2.5-flash:generateContent", body)
}

func BenchmarkEmbeddings(b *testing.B) {
	body := `{"model":"text-embedding-3-small","input":["The quick brown fox","jumps over the lazy dog"],"dimensions":256}`
	benchServe(b, mock.Options{}, "/v1/embeddings", body)
}

// BenchmarkChatCompletionParallel shows contention on the shared state
// (counters, last request, fault check) under parallel load.
func BenchmarkChatCompletionParallel(b *testing.B) {
	m := mock.New(mock.Options{})
	data := []byte(benchChat)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
		rb := &rewindBody{}
		req.Body, req.ContentLength = rb, int64(len(data))
		for pb.Next() {
			rb.Reset(data)
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}
