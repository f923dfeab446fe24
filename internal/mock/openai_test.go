package mock_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/mock"
)

// openAIBody renders c as an OpenAI chat request.
func openAIBody(t testing.TB, c conv, stream bool) string {
	var msgs []any
	if c.system != "" {
		msgs = append(msgs, map[string]any{"role": "system", "content": c.system})
	}
	for _, tu := range c.turns {
		switch {
		case tu.role == "tool":
			msgs = append(msgs, map[string]any{"role": "tool", "tool_call_id": "call_1", "content": tu.text})
		case tu.toolCall != "":
			msgs = append(msgs, map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{
				map[string]any{"id": "call_1", "type": "function",
					"function": map[string]any{"name": tu.toolCall, "arguments": "{}"}},
			}})
		case tu.parts != nil:
			var parts []any
			for _, p := range tu.parts {
				parts = append(parts, map[string]any{"type": "text", "text": p})
			}
			msgs = append(msgs, map[string]any{"role": tu.role, "content": parts})
		default:
			msgs = append(msgs, map[string]any{"role": tu.role, "content": tu.text})
		}
	}
	req := map[string]any{"model": "echo", "messages": msgs}
	var tools []any
	for _, name := range c.tools {
		tools = append(tools, map[string]any{"type": "function",
			"function": map[string]any{"name": name, "parameters": map[string]any{"type": "object"}}})
	}
	if tools != nil {
		req["tools"] = tools
	}
	if c.toolNone {
		req["tool_choice"] = "none"
	}
	if c.maxTokens > 0 {
		req["max_completion_tokens"] = c.maxTokens
	}
	if stream {
		req["stream"] = true
		req["stream_options"] = map[string]any{"include_usage": true}
	}
	return mustJSON(t, req)
}

type openAIUsage struct {
	Prompt     int `json:"prompt_tokens"`
	Completion int `json:"completion_tokens"`
	Total      int `json:"total_tokens"`
	Details    struct {
		Cached *int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

type openAIToolCall struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type openAIAnswer struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Role      string           `json:"role"`
			Content   *string          `json:"content"`
			ToolCalls []openAIToolCall `json:"tool_calls"`
		} `json:"message"`
		Delta struct {
			Role      string           `json:"role"`
			Content   *string          `json:"content"`
			ToolCalls []openAIToolCall `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage json.RawMessage `json:"usage"`
}

func (a *openAIAnswer) usage(t testing.TB) openAIUsage {
	t.Helper()
	var u openAIUsage
	if err := json.Unmarshal(a.Usage, &u); err != nil {
		t.Fatalf("usage %s: %v", a.Usage, err)
	}
	if u.Total != u.Prompt+u.Completion {
		t.Errorf("total_tokens %d != %d + %d", u.Total, u.Prompt, u.Completion)
	}
	if u.Details.Cached == nil || *u.Details.Cached != 0 {
		t.Errorf("usage %s: want prompt_tokens_details.cached_tokens 0", a.Usage)
	}
	return u
}

var openAIFinish = map[string]string{"stop": "stop", "length": "length", "tool_calls": "tool"}

func compactJSON(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Errorf("invalid JSON %q: %v", s, err)
		return s
	}
	return b.String()
}

// openAIChat sends c and reduces the answer, checking the shape on the way.
func openAIChat(t *testing.T, srv *httptest.Server, c conv, stream bool) result {
	resp, body := call(t, srv, "POST", "/v1/chat/completions", openAIBody(t, c, stream))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var r result
	if !stream {
		var a openAIAnswer
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		if a.Object != "chat.completion" || len(a.Choices) != 1 || a.Choices[0].FinishReason == nil {
			t.Fatalf("unexpected answer %s", body)
		}
		msg := a.Choices[0].Message
		if msg.Content != nil {
			r.Text = *msg.Content
		}
		if len(msg.ToolCalls) > 0 {
			tc := msg.ToolCalls[0]
			if msg.Content != nil || tc.ID == "" || tc.Type != "function" {
				t.Errorf("tool call answer %s: want content null, an id and type function", body)
			}
			r.ToolName, r.ToolArgs = tc.Function.Name, compactJSON(t, tc.Function.Arguments)
		}
		r.Finish = openAIFinish[*a.Choices[0].FinishReason]
		u := a.usage(t)
		r.Prompt, r.Completion = u.Prompt, u.Completion
		return r
	}

	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	events := parseSSE(t, body)
	if len(events) < 4 || events[len(events)-1].Data != "[DONE]" {
		t.Fatalf("stream must end with [DONE] after the usage chunk: %q", body)
	}
	var args strings.Builder
	fragments := 0
	id := ""
	firstID := func(s string) string {
		if id == "" {
			id = s
		}
		return id
	}
	for i, ev := range events[:len(events)-1] {
		if ev.Name != "" {
			t.Errorf("event %d has a name %q", i, ev.Name)
		}
		var ch openAIAnswer
		if err := json.Unmarshal([]byte(ev.Data), &ch); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ch.Object != "chat.completion.chunk" || ch.ID == "" || ch.ID != firstID(ch.ID) {
			t.Errorf("event %d: object %q id %q; want chat.completion.chunk and one id for all", i, ch.Object, ch.ID)
		}
		if i == len(events)-2 { // the usage chunk
			if len(ch.Choices) != 0 || string(ch.Usage) == "null" {
				t.Errorf("last chunk before [DONE] must have choices [] and usage: %s", ev.Data)
			}
			u := ch.usage(t)
			r.Prompt, r.Completion = u.Prompt, u.Completion
			continue
		}
		if string(ch.Usage) != "null" || len(ch.Choices) != 1 {
			t.Errorf("event %d: want one choice and usage null with include_usage: %s", i, ev.Data)
			continue
		}
		d := ch.Choices[0].Delta
		if (i == 0) != (d.Role == "assistant") {
			t.Errorf("event %d: role %q; only the first chunk carries the role", i, d.Role)
		}
		if fr := ch.Choices[0].FinishReason; fr != nil {
			if i != len(events)-3 {
				t.Errorf("event %d: finish_reason before the last choice chunk", i)
			}
			r.Finish = openAIFinish[*fr]
		}
		if d.Content != nil {
			r.Text += *d.Content
		}
		for _, tc := range d.ToolCalls {
			if tc.Function.Name != "" {
				r.ToolName = tc.Function.Name
				if tc.ID == "" || tc.Type != "function" {
					t.Errorf("first tool-call fragment needs id and type: %s", ev.Data)
				}
			}
			if tc.Function.Arguments != "" {
				fragments++
			}
			args.WriteString(tc.Function.Arguments)
		}
	}
	if r.ToolName != "" {
		r.ToolArgs = compactJSON(t, args.String())
		if fragments < 2 {
			t.Errorf("tool arguments came in %d fragments, want several", fragments)
		}
	}
	return r
}

func TestOpenAIStreamWithoutUsage(t *testing.T) {
	_, srv := newServer(t, mock.Options{StreamChunks: 4})
	resp, body := call(t, srv, "POST", "/v1/chat/completions",
		`{"model":"echo","stream":true,"messages":[{"role":"user","content":"abcdefgh"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	events := parseSSE(t, body)
	var content []string
	for _, ev := range events[:len(events)-1] {
		var ch openAIAnswer
		if err := json.Unmarshal([]byte(ev.Data), &ch); err != nil {
			t.Fatal(err)
		}
		if ch.Usage != nil {
			t.Errorf("usage field without include_usage: %s", ev.Data)
		}
		if c := ch.Choices[0].Delta.Content; c != nil && *c != "" {
			content = append(content, *c)
		}
	}
	if diff := cmp.Diff([]string{"ab", "cd", "ef", "gh"}, content); diff != "" {
		t.Errorf("content pieces (-want +got):\n%s", diff)
	}
	if last := events[len(events)-1].Data; last != "[DONE]" {
		t.Errorf("last event %q", last)
	}
}

func TestAzureDeployments(t *testing.T) {
	m, srv := newServer(t, mock.Options{})
	tests := []struct {
		name, path, body string
		wantStatus       int
		want             string // a substring of the answer
	}{
		{"chat, model from deployment", "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21",
			`{"messages":[{"role":"user","content":"hi azure"}]}`, 200, `"model":"my-gpt"`},
		{"chat, model in body", "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21",
			`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, 200, `"model":"gpt-4o"`},
		{"embeddings", "/openai/deployments/emb/embeddings?api-version=2024-10-21",
			`{"input":"x"}`, 200, `"object":"embedding"`},
		{"missing api-version", "/openai/deployments/my-gpt/chat/completions",
			`{"messages":[{"role":"user","content":"hi"}]}`, 400, `"param":"api-version"`},
		{"unknown operation", "/openai/deployments/my-gpt/completions?api-version=1",
			`{}`, 404, `"type":"invalid_request_error"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, srv, "POST", tc.path, tc.body, "api-key", "azure-test-key")
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.want) {
				t.Fatalf("got %d %s, want %d with %s", resp.StatusCode, body, tc.wantStatus, tc.want)
			}
			last, ok := m.Last()
			if !ok || last.Path != tc.path || last.Headers.Get("Api-Key") != "azure-test-key" {
				t.Errorf("last = %+v, want path %q and the api-key header", last, tc.path)
			}
		})
	}
}
