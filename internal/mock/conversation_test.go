package mock_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/mock"
)

// turn is one message of a test conversation, written once and sent in
// every API's shape.
type turn struct {
	role     string   // "user", "assistant" or "tool" (a tool result)
	text     string   // the text, or the tool result
	parts    []string // user text parts, instead of text
	toolCall string   // for an assistant turn: the name of the tool it called
}

// conv is a test conversation and its request options.
type conv struct {
	system    string
	turns     []turn
	tools     []string
	toolNone  bool // forbid tool use
	maxTokens int  // zero: not set (Anthropic then gets 1024)
}

// result is an answer reduced to what every API has in common.
type result struct {
	Text       string
	ToolName   string
	ToolArgs   string // compact JSON
	Finish     string // "stop", "length" or "tool"
	Prompt     int
	Completion int
}

// conversationCases hold the answer rules and the token formula; expected
// counts are worked out by hand from README.md's formula.
var conversationCases = []struct {
	name string
	conv conv
	want result
}{
	{
		name: "echo with system prompt",
		conv: conv{system: "Be brief.", turns: []turn{{role: "user", text: "Hello, mock!"}}},
		// R = 9 + 12 = 21, M = 2: 6 + 6.
		want: result{Text: "Hello, mock!", Finish: "stop", Prompt: 12, Completion: 3},
	},
	{
		name: "unicode counted in runes",
		conv: conv{turns: []turn{{role: "user", text: "héllo wörld ✓ 日本語"}}},
		// R = 17, M = 1: 5 + 3; A = 17.
		want: result{Text: "héllo wörld ✓ 日本語", Finish: "stop", Prompt: 8, Completion: 5},
	},
	{
		name: "text parts joined",
		conv: conv{turns: []turn{{role: "user", parts: []string{"Hello, ", "world"}}}},
		want: result{Text: "Hello, world", Finish: "stop", Prompt: 6, Completion: 3},
	},
	{
		name: "empty user text gives the default answer",
		conv: conv{turns: []turn{{role: "user", text: ""}}},
		want: result{Text: mock.DefaultAnswer, Finish: "stop", Prompt: 3, Completion: 9},
	},
	{
		name: "echoes the last user message",
		conv: conv{turns: []turn{
			{role: "user", text: "first"}, {role: "assistant", text: "ok"}, {role: "user", text: "second"},
		}},
		// R = 5 + 2 + 6 = 13, M = 3: 4 + 9.
		want: result{Text: "second", Finish: "stop", Prompt: 13, Completion: 2},
	},
	{
		name: "max tokens truncates",
		conv: conv{turns: []turn{{role: "user", text: "abcdefghijklmnopqrstuvwxyz"}}, maxTokens: 2},
		want: result{Text: "abcdefgh", Finish: "length", Prompt: 10, Completion: 2},
	},
	{
		name: "max tokens not reached",
		conv: conv{turns: []turn{{role: "user", text: "abcdefgh"}}, maxTokens: 2},
		want: result{Text: "abcdefgh", Finish: "stop", Prompt: 5, Completion: 2},
	},
	{
		name: "tools offered: calls the first",
		conv: conv{turns: []turn{{role: "user", text: "Weather in Paris?"}}, tools: []string{"get_weather", "other"}},
		// A = len("get_weather") + len(`{"echo":"Weather in Paris?"}`) = 11 + 28.
		want: result{ToolName: "get_weather", ToolArgs: `{"echo":"Weather in Paris?"}`, Finish: "tool",
			Prompt: 8, Completion: 10},
	},
	{
		name: "tool args escape quotes",
		conv: conv{turns: []turn{{role: "user", text: `say "hi"` + "\n"}}, tools: []string{"t"}},
		want: result{ToolName: "t", ToolArgs: `{"echo":"say \"hi\"\n"}`, Finish: "tool", Prompt: 6, Completion: 6},
	},
	{
		name: "tool result answered",
		conv: conv{tools: []string{"get_weather"}, turns: []turn{
			{role: "user", text: "Weather in Paris?"},
			{role: "assistant", toolCall: "get_weather"},
			{role: "tool", text: "sunny"},
		}},
		// R = 17 + 0 + 5 = 22, M = 3: 6 + 9; A = len("tool said: sunny") = 16.
		want: result{Text: "tool said: sunny", Finish: "stop", Prompt: 15, Completion: 4},
	},
	{
		name: "tool use forbidden",
		conv: conv{turns: []turn{{role: "user", text: "Hi there"}}, tools: []string{"t"}, toolNone: true},
		want: result{Text: "Hi there", Finish: "stop", Prompt: 5, Completion: 2},
	},
}

// apiFlavours send a conversation in one API's shape and reduce the
// answer, whole or streamed.
var apiFlavours = []struct {
	name string
	send func(t *testing.T, srv *httptest.Server, c conv) result
}{
	{"openai", func(t *testing.T, srv *httptest.Server, c conv) result { return openAIChat(t, srv, c, false) }},
	{"openai stream", func(t *testing.T, srv *httptest.Server, c conv) result { return openAIChat(t, srv, c, true) }},
	{"anthropic", func(t *testing.T, srv *httptest.Server, c conv) result { return anthropicChat(t, srv, c, false) }},
	{"anthropic stream", func(t *testing.T, srv *httptest.Server, c conv) result { return anthropicChat(t, srv, c, true) }},
	{"gemini", func(t *testing.T, srv *httptest.Server, c conv) result { return geminiChat(t, srv, c, "") }},
	{"gemini stream sse", func(t *testing.T, srv *httptest.Server, c conv) result { return geminiChat(t, srv, c, "sse") }},
	{"gemini stream array", func(t *testing.T, srv *httptest.Server, c conv) result { return geminiChat(t, srv, c, "array") }},
}

func TestConversationRulesInEveryAPI(t *testing.T) {
	for _, chunks := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("chunks=%d", chunks), func(t *testing.T) {
			_, srv := newServer(t, mock.Options{StreamChunks: chunks})
			for _, fl := range apiFlavours {
				for _, tc := range conversationCases {
					t.Run(fl.name+"/"+tc.name, func(t *testing.T) {
						got := fl.send(t, srv, tc.conv)
						if diff := cmp.Diff(tc.want, got); diff != "" {
							t.Errorf("answer mismatch (-want +got):\n%s", diff)
						}
					})
				}
			}
		})
	}
}
