package openai

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/version"
)

const completion = `{"id":"chatcmpl-1","object":"chat.completion","created":1741570283,"model":"gpt-4o-2024-08-06",
"choices":[{"index":0,"message":{"role":"assistant","content":"Cold and windy.","refusal":null},"logprobs":null,"finish_reason":"stop"}],
"usage":{"prompt_tokens":20,"completion_tokens":4,"total_tokens":24,"prompt_tokens_details":{"cached_tokens":8}}}`

func TestChatRequestShape(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(completion))
	})
	p := newProvider(t, u, nil)
	req := chatRequest()
	req.Stream = true // Chat must still send a whole request
	req.MaxTokens = ptr(50)
	resp, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !req.Stream {
		t.Error("Chat modified the caller's request")
	}
	if resp.ID != "chatcmpl-1" || resp.Choices[0].Message.Text() != "Cold and windy." ||
		resp.Usage != (llm.Usage{InputTokens: 20, OutputTokens: 4, CachedInputTokens: 8}) {
		t.Errorf("response %+v", resp)
	}
	got := u.last(t)
	if got.Method != "POST" || got.Path != "/v1/chat/completions" || got.Query != "" {
		t.Errorf("request line %s %s?%s", got.Method, got.Path, got.Query)
	}
	for k, want := range map[string]string{
		"Authorization":       "Bearer " + testKey,
		"Content-Type":        "application/json",
		"Accept":              "application/json",
		"Openai-Organization": "org-test",
		"User-Agent":          "sluice/" + version.Version,
	} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	jsonEqual(t, `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},
		{"role":"user","content":"Weather in Edinburgh and AAPL price?"}],"max_completion_tokens":50}`, got.Body)
}

func TestChatWithoutKeySendsNoCredential(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(completion)) })
	p := newProvider(t, u, func(c *provider.Config) { c.Type, c.APIKey, c.Headers = "ollama", "", nil })
	if _, err := p.Chat(context.Background(), chatRequest()); err != nil {
		t.Fatal(err)
	}
	got := u.last(t)
	for _, k := range []string{"Authorization", "Api-Key"} {
		if v := got.Header.Get(k); v != "" {
			t.Errorf("%s sent: %q", k, v)
		}
	}
}

func TestChatErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantStatus int
		wantCode   string
		wantParam  string
		wantMsg    string
		wantRetry  time.Duration
	}{
		{"400 names the parameter", 400, nil,
			`{"error":{"message":"Invalid 'messages[1].content': string too long.","type":"invalid_request_error","param":"messages[1].content","code":"string_above_max_length"}}`,
			400, "string_above_max_length", "messages[1].content", "string too long", 0},
		{"401 is the gateway's problem", 401, nil,
			`{"error":{"message":"Incorrect API key provided: sk-test-****cret.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			502, "upstream_auth_failed", "", "rejected the gateway's credentials", 0},
		{"404 unknown model", 404, nil,
			`{"error":{"message":"The model 'gpt-5x' does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}`,
			404, "model_not_found", "", "does not exist", 0},
		{"429 keeps Retry-After", 429, map[string]string{"Retry-After": "12"},
			`{"error":{"message":"Rate limit reached for gpt-4o on tokens per min (TPM).","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`,
			429, "rate_limit_exceeded", "", "Rate limit reached", 12 * time.Second},
		{"429 with retry-after-ms", 429, map[string]string{"Retry-After-Ms": "1500"}, `{"error":{"message":"slow down"}}`,
			429, "", "", "slow down", 1500 * time.Millisecond},
		{"500 is a bad gateway", 500, nil, `{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`,
			502, "", "", "server had an error", 0},
		{"503 stays", 503, nil, `{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error"}}`,
			503, "", "", "overloaded", 0},
		{"non-JSON error body", 502, map[string]string{"Content-Type": "text/html"}, "<html><h1>502 Bad Gateway</h1></html>",
			502, "", "", `provider "up" returned HTTP 502`, 0},
		{"200 that is not a completion", 200, nil, `<html>captive portal</html>`,
			502, "invalid_response", "", "could not read", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			})
			p := newProvider(t, u, nil)
			for _, stream := range []bool{false, true} {
				var err error
				if stream {
					if tc.status == 200 {
						continue
					}
					_, err = p.ChatStream(context.Background(), chatRequest())
				} else {
					_, err = p.Chat(context.Background(), chatRequest())
				}
				e := wantError(t, err, tc.wantStatus, tc.wantCode)
				if e.Param != tc.wantParam || !strings.Contains(e.Message, tc.wantMsg) || e.RetryAfter != tc.wantRetry {
					t.Errorf("stream=%v: param %q message %q retry %v; want %q, %q, %v",
						stream, e.Param, e.Message, e.RetryAfter, tc.wantParam, tc.wantMsg, tc.wantRetry)
				}
				if strings.Contains(e.Error(), testKey) {
					t.Errorf("the key leaked: %v", e)
				}
			}
		})
	}
}

func TestChatTransportErrors(t *testing.T) {
	t.Run("connection refused is 502", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		p, err := New(provider.Config{Name: "up", Type: "vllm", BaseURL: "http://" + addr + "/v1"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Chat(context.Background(), chatRequest())
		wantError(t, err, 502, "upstream_unreachable")
		_, err = p.ChatStream(context.Background(), chatRequest())
		wantError(t, err, 502, "upstream_unreachable")
	})
	t.Run("timeout is 504", func(t *testing.T) {
		arrived := make(chan struct{})
		u := newUpstream(t, blockUntilDone(arrived))
		p := newProvider(t, u, func(c *provider.Config) { c.Timeout = 50 * time.Millisecond })
		_, err := p.Chat(context.Background(), chatRequest())
		wantError(t, err, 504, "upstream_timeout")
		_, err = p.ChatStream(context.Background(), chatRequest())
		wantError(t, err, 504, "upstream_timeout")
	})
	t.Run("caller cancel is 499", func(t *testing.T) {
		for _, stream := range []bool{false, true} {
			arrived := make(chan struct{})
			u := newUpstream(t, blockUntilDone(arrived))
			p := newProvider(t, u, nil)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-arrived
				cancel()
			}()
			var err error
			if stream {
				_, err = p.ChatStream(ctx, chatRequest())
			} else {
				_, err = p.Chat(ctx, chatRequest())
			}
			wantError(t, err, provider.StatusClientClosed, "client_closed")
		}
	})
}

func TestChatUnsupportedParameterSendsNothing(t *testing.T) {
	u := newUpstream(t, nil)
	p := newProvider(t, u, nil)
	req := chatRequest()
	req.TopK = ptr(20)
	_, err := p.Chat(context.Background(), req)
	e := wantError(t, err, 400, "unsupported_parameter")
	if e.Param != "top_k" {
		t.Errorf("param %q", e.Param)
	}
	if u.count() != 0 {
		t.Error("the request was sent")
	}
}
