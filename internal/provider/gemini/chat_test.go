package gemini

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

const textAnswer = `{
  "candidates": [{"content": {"parts": [{"text": "Bonjour !"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 3, "totalTokenCount": 14},
  "modelVersion": "gemini-2.5-flash",
  "responseId": "resp-chat-1"
}`

func hello(model string) *llm.Request {
	return &llm.Request{Model: model, Messages: []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("Answer in French.")}},
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Hello")}},
	}, MaxTokens: ptr(64)}
}

func ptr[T any](v T) *T { return &v }

func TestChatRequest(t *testing.T) {
	for _, model := range []string{"gemini-2.5-flash", "models/gemini-2.5-flash"} {
		t.Run(model, func(t *testing.T) {
			p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/v1beta/models/gemini-2.5-flash:generateContent" {
					t.Errorf("request %s %s", r.Method, r.URL.Path)
				}
				if r.URL.RawQuery != "" {
					t.Errorf("query %q: the key must travel in a header, not the URL", r.URL.RawQuery)
				}
				for h, want := range map[string]string{"X-Goog-Api-Key": testKey, "Content-Type": "application/json", "X-Team": "search"} {
					if got := r.Header.Get(h); got != want {
						t.Errorf("header %s = %q, want %q", h, got, want)
					}
				}
				body := readBody(t, r)
				want := map[string]any{
					"contents":          []any{map[string]any{"role": "user", "parts": []any{map[string]any{"text": "Hello"}}}},
					"systemInstruction": map[string]any{"parts": []any{map[string]any{"text": "Answer in French."}}},
					"generationConfig":  map[string]any{"maxOutputTokens": float64(64)},
				}
				if diff := cmp.Diff(want, body); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(textAnswer))
			})
			resp, err := p.Chat(context.Background(), hello(model))
			if err != nil {
				t.Fatal(err)
			}
			if resp.ID != "resp-chat-1" || resp.Model != "gemini-2.5-flash" || resp.Created == 0 {
				t.Errorf("ID, Model, Created = %q, %q, %d", resp.ID, resp.Model, resp.Created)
			}
			if got := resp.Choices[0].Message.Text(); got != "Bonjour !" {
				t.Errorf("text = %q", got)
			}
			if diff := cmp.Diff(llm.Usage{InputTokens: 11, OutputTokens: 3}, resp.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBaseURLWithVersion(t *testing.T) {
	var path atomic.Value
	p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) {
		path.Store(r.URL.Path)
		w.Write([]byte(textAnswer))
	}, func(c *provider.Config) { c.BaseURL += "/proxy/v1/" })
	if _, err := p.Chat(context.Background(), hello("gemini-2.5-flash")); err != nil {
		t.Fatal(err)
	}
	if got := path.Load(); got != "/proxy/v1/models/gemini-2.5-flash:generateContent" {
		t.Errorf("path = %q", got)
	}
}

// TestToolsRoundTrip runs two turns: Gemini calls a function (with a thought
// signature), the client answers with a tool result that names only the
// call ID, and the second request must carry the function name and the
// signature back.
func TestToolsRoundTrip(t *testing.T) {
	const sig = "CiQBcsjafJ2b+HkB3oQz/6FEnGx4m3AhQ5lVsq0W9wLy0eTfhNkKWgFyyNp8w4zS0Q=="
	var turn atomic.Int32
	p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) {
		body := readBody(t, r)
		switch turn.Add(1) {
		case 1:
			w.Write([]byte(`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"` + sig + `"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":5,"thoughtsTokenCount":12},"modelVersion":"gemini-3-flash","responseId":"turn-1"}`))
		case 2:
			contents := body["contents"].([]any)
			want := []any{
				map[string]any{"role": "user", "parts": []any{map[string]any{"text": "Weather in Paris?"}}},
				map[string]any{"role": "model", "parts": []any{map[string]any{
					"functionCall":     map[string]any{"name": "get_weather", "args": map[string]any{"city": "Paris"}},
					"thoughtSignature": sig,
				}}},
				map[string]any{"role": "user", "parts": []any{map[string]any{
					"functionResponse": map[string]any{"name": "get_weather", "response": map[string]any{"temp_c": float64(21)}},
				}}},
			}
			if diff := cmp.Diff(want, contents); diff != "" {
				t.Errorf("second turn contents (-want +got):\n%s", diff)
			}
			w.Write([]byte(`{"candidates":[{"content":{"parts":[{"text":"21°C in Paris."}],"role":"model"},"finishReason":"STOP","index":0}],"modelVersion":"gemini-3-flash","responseId":"turn-2"}`))
		}
	})
	req := &llm.Request{Model: "gemini-3-flash",
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Weather in Paris?")}}},
		Tools:    []llm.Tool{{Type: "function", Name: "get_weather", Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}}}`)}},
	}
	resp, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	ch := resp.Choices[0]
	calls := ch.Message.ToolCalls()
	if ch.FinishReason != llm.FinishToolCalls || len(calls) != 1 || calls[0].Name != "get_weather" ||
		calls[0].Arguments != `{"city":"Paris"}` || !strings.HasPrefix(calls[0].ID, "call_") {
		t.Fatalf("first turn: finish %q, calls %+v", ch.FinishReason, calls)
	}
	// The client sends the assistant turn back as it got it, then the
	// result, naming the call only by its ID (as OpenAI clients do).
	req2 := *req
	req2.Messages = append(append([]llm.Message(nil), req.Messages...), ch.Message, llm.Message{Role: llm.RoleTool,
		Parts: []llm.Part{{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: calls[0].ID,
			Parts: []llm.Part{llm.TextPart(`{"temp_c": 21}`)}}}}})
	resp, err = p.Chat(context.Background(), &req2)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Text(); got != "21°C in Paris." || resp.Choices[0].FinishReason != llm.FinishStop {
		t.Errorf("second turn: %q, %q", got, resp.Choices[0].FinishReason)
	}
}

func TestChatErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   errView
	}{
		{"bad request", 400, nil,
			`{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"foo\": Cannot find field.","status":"INVALID_ARGUMENT"}}`,
			errView{Status: 400, Type: llm.TypeInvalidRequest, Code: "invalid_argument", Provider: "google",
				Message: `Invalid JSON payload received. Unknown name "foo": Cannot find field.`}},
		{"invalid key", 400, nil,
			`{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`,
			errView{Status: 502, Type: llm.TypeAPI, Code: "upstream_auth_failed", Provider: "google",
				Message: `provider "google" rejected the gateway's credentials`}},
		{"suspended key", 403, nil,
			`{"error":{"code":403,"message":"Permission denied: Consumer 'api_key:x' has been suspended.","status":"PERMISSION_DENIED"}}`,
			errView{Status: 502, Type: llm.TypeAPI, Code: "upstream_auth_failed", Provider: "google",
				Message: `provider "google" rejected the gateway's credentials`}},
		{"permission denied", 403, nil,
			`{"error":{"code":403,"message":"Generative Language API has not been used in project 1 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com"}]}}`,
			errView{Status: 502, Type: llm.TypeAPI, Code: "upstream_permission_denied", Provider: "google",
				Message: `provider "google" refused this request with the gateway's credentials: they lack permission for it (for instance for this model)`}},
		{"model not found", 404, nil,
			`{"error":{"code":404,"message":"models/gemini-0 is not found for API version v1beta, or is not supported for generateContent.","status":"NOT_FOUND"}}`,
			errView{Status: 404, Type: llm.TypeNotFound, Code: "model_not_found", Param: "model", Provider: "google",
				Message: "models/gemini-0 is not found for API version v1beta, or is not supported for generateContent."}},
		{"rate limited, Retry-After header", 429, map[string]string{"Retry-After": "3"},
			`{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`,
			errView{Status: 429, Type: llm.TypeRateLimit, Code: "rate_limit_exceeded", Provider: "google",
				Message: "Resource has been exhausted (e.g. check quota).", RetryAfter: "3s"}},
		{"rate limited, RetryInfo", 429, map[string]string{"Retry-After": "3"},
			`{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"41s"}]}}`,
			errView{Status: 429, Type: llm.TypeRateLimit, Code: "rate_limit_exceeded", Provider: "google",
				Message: "Quota exceeded.", RetryAfter: "41s"}},
		{"internal", 500, nil,
			`{"error":{"code":500,"message":"An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting","status":"INTERNAL"}}`,
			errView{Status: 502, Type: llm.TypeAPI, Code: "internal", Provider: "google",
				Message: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"}},
		{"overloaded", 503, nil,
			`{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`,
			errView{Status: 503, Type: llm.TypeOverloaded, Code: "unavailable", Provider: "google",
				Message: "The model is overloaded. Please try again later."}},
		{"deadline", 504, nil,
			`{"error":{"code":504,"message":"Deadline expired before operation could complete.","status":"DEADLINE_EXCEEDED"}}`,
			errView{Status: 504, Type: llm.TypeTimeout, Code: "deadline_exceeded", Provider: "google",
				Message: "Deadline expired before operation could complete."}},
		{"key echoed back", 400, nil,
			`{"error":{"code":400,"message":"Bad key ` + testKey + ` in request","status":"INVALID_ARGUMENT"}}`,
			errView{Status: 400, Type: llm.TypeInvalidRequest, Code: "invalid_argument", Provider: "google",
				Message: "Bad key [redacted] in request"}},
		{"html from a load balancer", 502, nil, `<html><title>502 Bad Gateway</title></html>`,
			errView{Status: 502, Type: llm.TypeAPI, Provider: "google", Message: `provider "google" returned HTTP 502`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			})
			for _, call := range []string{"Chat", "ChatStream"} {
				var err error
				if call == "Chat" {
					_, err = p.Chat(context.Background(), hello("gemini-2.5-flash"))
				} else {
					_, err = p.ChatStream(context.Background(), hello("gemini-2.5-flash"))
				}
				if err == nil {
					t.Fatalf("%s: no error", call)
				}
				if diff := cmp.Diff(tc.want, viewErr(t, err)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", call, diff)
				}
				if strings.Contains(err.Error(), testKey) {
					t.Errorf("%s: error %q reveals the API key", call, err)
				}
			}
		})
	}
}

func TestChatRejectsBeforeSending(t *testing.T) {
	var calls atomic.Int32
	p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	tests := []struct {
		name string
		req  *llm.Request
		want errView
	}{
		{"bad model name", hello("../../v1/files"), errView{Status: 400, Type: llm.TypeInvalidRequest, Param: "model",
			Provider: "google", Message: `"../../v1/files" is not a valid Gemini model name`}},
		{"unsupported parameter", func() *llm.Request {
			r := hello("gemini-2.5-flash")
			r.LogitBias = map[string]float64{"1": 1}
			return r
		}(), errView{Status: 400, Type: llm.TypeInvalidRequest, Code: "unsupported_parameter", Param: "logit_bias",
			Provider: "google", Message: `parameter "logit_bias" is not supported by provider "google"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Chat(context.Background(), tc.req)
			if diff := cmp.Diff(tc.want, viewErr(t, err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("upstream called %d times for requests that cannot be sent", n)
	}
}

func TestChatTimeout(t *testing.T) {
	p := newTestProvider(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // until the body is read, the server cannot see the client leave
		<-r.Context().Done()        // never answers; the provider's timeout must end the call
	}, func(c *provider.Config) { c.Timeout = 50 * time.Millisecond })
	_, err := p.Chat(context.Background(), hello("gemini-2.5-flash"))
	got := viewErr(t, err)
	if got.Status != http.StatusGatewayTimeout || got.Code != "upstream_timeout" {
		t.Errorf("error %+v, want 504 upstream_timeout", got)
	}
	var e *llm.Error
	if !errors.As(err, &e) || !e.Retryable() {
		t.Errorf("a timeout must be retryable: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  provider.Config
		want string
	}{
		{"no name", provider.Config{APIKey: "k"}, "provider name is empty"},
		{"no key", provider.Config{Name: "g"}, "an API key is required"},
		{"relative URL", provider.Config{Name: "g", APIKey: "k", BaseURL: "/v1beta"}, "must be an absolute http(s) URL"},
		{"ftp URL", provider.Config{Name: "g", APIKey: "k", BaseURL: "ftp://x"}, "must be an absolute http(s) URL"},
		{"query", provider.Config{Name: "g", APIKey: "k", BaseURL: "https://x/?key=1"}, "must not have a query"},
		{"negative timeout", provider.Config{Name: "g", APIKey: "k", Timeout: -1}, "timeout must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	p, err := New(provider.Config{Name: "g", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*Provider).base.String(); got != "https://generativelanguage.googleapis.com/v1beta" {
		t.Errorf("default base = %q", got)
	}
	if p.Name() != "g" {
		t.Errorf("Name() = %q", p.Name())
	}
}
