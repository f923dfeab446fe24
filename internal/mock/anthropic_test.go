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

// anthropicBody renders c as an Anthropic Messages request.
func anthropicBody(t testing.TB, c conv, stream bool) string {
	var msgs []any
	for _, tu := range c.turns {
		switch {
		case tu.role == "tool":
			msgs = append(msgs, map[string]any{"role": "user", "content": []any{
				map[string]any{"type": "tool_result", "tool_use_id": "toolu_1", "content": tu.text},
			}})
		case tu.toolCall != "":
			msgs = append(msgs, map[string]any{"role": "assistant", "content": []any{
				map[string]any{"type": "tool_use", "id": "toolu_1", "name": tu.toolCall, "input": map[string]any{}},
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
	req := map[string]any{"model": "claude-test", "messages": msgs, "max_tokens": 1024}
	if c.system != "" {
		req["system"] = c.system
	}
	if c.maxTokens > 0 {
		req["max_tokens"] = c.maxTokens
	}
	var tools []any
	for _, name := range c.tools {
		tools = append(tools, map[string]any{"name": name, "input_schema": map[string]any{"type": "object"}})
	}
	if tools != nil {
		req["tools"] = tools
	}
	if c.toolNone {
		req["tool_choice"] = map[string]any{"type": "none"}
	}
	if stream {
		req["stream"] = true
	}
	return mustJSON(t, req)
}

type anthropicBlock struct {
	Type        string          `json:"type"`
	Text        string          `json:"text"`
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Input       json.RawMessage `json:"input"`
	PartialJSON string          `json:"partial_json"`
}

type anthropicUsage struct {
	Input       *int `json:"input_tokens"`
	Output      int  `json:"output_tokens"`
	CacheRead   *int `json:"cache_read_input_tokens"`
	CacheCreate *int `json:"cache_creation_input_tokens"`
}

type anthropicMessage struct {
	ID         string           `json:"id"`
	Type       string           `json:"type"`
	Role       string           `json:"role"`
	Model      string           `json:"model"`
	Content    []anthropicBlock `json:"content"`
	StopReason *string          `json:"stop_reason"`
	Usage      anthropicUsage   `json:"usage"`
}

// anthropicEvent is any streamed event.
type anthropicEvent struct {
	Type         string           `json:"type"`
	Index        int              `json:"index"`
	Message      anthropicMessage `json:"message"`
	ContentBlock anthropicBlock   `json:"content_block"`
	Delta        struct {
		anthropicBlock
		StopReason string `json:"stop_reason"`
	} `json:"delta"`
	Usage anthropicUsage `json:"usage"`
}

var anthropicFinish = map[string]string{"end_turn": "stop", "max_tokens": "length", "tool_use": "tool"}

// anthropicChat sends c and reduces the answer, checking the shape and the
// event sequence on the way.
func anthropicChat(t *testing.T, srv *httptest.Server, c conv, stream bool) result {
	resp, body := call(t, srv, "POST", "/v1/messages", anthropicBody(t, c, stream),
		"x-api-key", "test-key", "anthropic-version", "2023-06-01")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var r result
	if !stream {
		var m anthropicMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type != "message" || m.Role != "assistant" || len(m.Content) != 1 || m.StopReason == nil ||
			m.Usage.Input == nil || m.Usage.CacheRead == nil || m.Usage.CacheCreate == nil {
			t.Fatalf("unexpected message %s", body)
		}
		switch b := m.Content[0]; b.Type {
		case "text":
			r.Text = b.Text
		case "tool_use":
			r.ToolName, r.ToolArgs = b.Name, compactJSON(t, string(b.Input))
		}
		r.Finish = anthropicFinish[*m.StopReason]
		r.Prompt, r.Completion = *m.Usage.Input, m.Usage.Output
		return r
	}

	var names []string
	var args strings.Builder
	fragments := 0
	for i, ev := range parseSSE(t, body) {
		var e anthropicEvent
		if err := json.Unmarshal([]byte(ev.Data), &e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if e.Type != ev.Name {
			t.Errorf("event %d named %q has type %q", i, ev.Name, e.Type)
		}
		names = append(names, ev.Name)
		switch e.Type {
		case "message_start":
			if e.Message.Usage.Input == nil {
				t.Errorf("message_start without input_tokens: %s", ev.Data)
			} else {
				r.Prompt = *e.Message.Usage.Input
			}
		case "content_block_start":
			if e.ContentBlock.Type == "tool_use" {
				r.ToolName = e.ContentBlock.Name
			}
		case "content_block_delta":
			switch e.Delta.Type {
			case "text_delta":
				r.Text += e.Delta.Text
			case "input_json_delta":
				args.WriteString(e.Delta.PartialJSON)
				fragments++
			}
		case "message_delta":
			r.Finish = anthropicFinish[e.Delta.StopReason]
			r.Completion = e.Usage.Output
			if e.Usage.Input != nil {
				t.Errorf("message_delta repeats input_tokens; the real API sends output_tokens only")
			}
		}
	}
	n := len(names) - 6
	want := append([]string{"message_start", "content_block_start", "ping"}, repeat("content_block_delta", n)...)
	want = append(want, "content_block_stop", "message_delta", "message_stop")
	if diff := cmp.Diff(want, names); diff != "" || n < 1 {
		t.Errorf("event sequence (-want +got):\n%s", diff)
	}
	if r.ToolName != "" {
		r.ToolArgs = compactJSON(t, args.String())
		if fragments < 2 {
			t.Errorf("tool input came in %d fragments, want several", fragments)
		}
	}
	return r
}

func repeat(s string, n int) []string {
	out := make([]string, max(n, 0))
	for i := range out {
		out[i] = s
	}
	return out
}

func TestAnthropicContentShapes(t *testing.T) {
	_, srv := newServer(t, mock.Options{})
	tests := []struct {
		name, body string
		wantText   string
	}{
		{"system as blocks", `{"model":"m","max_tokens":10,"system":[{"type":"text","text":"sys"}],` +
			`"messages":[{"role":"user","content":"hi"}]}`, "hi"},
		{"tool result as blocks", `{"model":"m","max_tokens":100,"messages":[{"role":"user","content":[` +
			`{"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}]}`,
			"tool said: ab"},
		{"image blocks ignored", `{"model":"m","max_tokens":100,"messages":[{"role":"user","content":[` +
			`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}},{"type":"text","text":"what?"}]}]}`,
			"what?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, srv, "POST", "/v1/messages", tc.body)
			var m anthropicMessage
			if err := json.Unmarshal(body, &m); err != nil || resp.StatusCode != 200 || len(m.Content) != 1 {
				t.Fatalf("status %d: %s (%v)", resp.StatusCode, body, err)
			}
			if m.Content[0].Text != tc.wantText {
				t.Errorf("text = %q, want %q", m.Content[0].Text, tc.wantText)
			}
		})
	}
}
