package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// Cached answers replayed in the client's format: to the official OpenAI
// SDK a whole answer as a stream and a streamed one whole, the text the
// same either way; Anthropic Messages answers in Anthropic's format.

// sdkWhole asks for a whole answer and returns its text and the
// x-sluice-cache header.
func sdkWhole(t *testing.T, client openai.Client, params openai.ChatCompletionNewParams) (text, status string) {
	t.Helper()
	var raw *http.Response
	resp, err := client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].FinishReason != "stop" {
		t.Fatalf("choices = %+v", resp.Choices)
	}
	return resp.Choices[0].Message.Content, raw.Header.Get("X-Sluice-Cache")
}

// sdkStreamed streams an answer and returns the accumulated answer, how
// many chunks it came in, and the x-sluice-cache header.
func sdkStreamed(t *testing.T, client openai.Client, params openai.ChatCompletionNewParams) (acc openai.ChatCompletionAccumulator, chunks int, status string) {
	t.Helper()
	var raw *http.Response
	stream := client.Chat.Completions.NewStreaming(context.Background(), params, option.WithResponseInto(&raw))
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Choices) != 1 || acc.Choices[0].FinishReason != "stop" {
		t.Fatalf("accumulated choices = %+v", acc.Choices)
	}
	return acc, chunks, raw.Header.Get("X-Sluice-Cache")
}

func TestCacheReplaysWholeAnswerAsStreamToSDK(t *testing.T) {
	env := newEnvWith(t, cacheOn)
	client := env.openai()
	params := openai.ChatCompletionNewParams{
		Model:         "chat-default",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("a whole answer, replayed as a stream of pieces")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	whole, status := sdkWhole(t, client, params)
	if status != "MISS" {
		t.Fatalf("whole answer: x-sluice-cache %q, want MISS", status)
	}
	acc, chunks, status := sdkStreamed(t, client, params)
	if status != "HIT" {
		t.Errorf("stream: x-sluice-cache %q, want HIT", status)
	}
	env.wantCalls(1, "a whole answer replayed as a stream")
	if got := acc.Choices[0].Message.Content; got != whole {
		t.Errorf("streamed %q, whole %q", got, whole)
	}
	if chunks < 2 {
		t.Errorf("replayed in %d chunks", chunks)
	}
	if acc.Usage.PromptTokens <= 0 || acc.Usage.CompletionTokens <= 0 {
		t.Errorf("usage %+v: include_usage asked for the usage chunk", acc.Usage)
	}
}

func TestCacheServesStreamedAnswerWholeToSDK(t *testing.T) {
	env := newEnvWith(t, cacheOn)
	client := env.openai()
	params := openai.ChatCompletionNewParams{
		Model:    "chat-default",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("a streamed answer, stored as it ends")},
	}
	acc, _, status := sdkStreamed(t, client, params)
	if status != "MISS" {
		t.Fatalf("stream: x-sluice-cache %q, want MISS", status)
	}
	whole, status := sdkWhole(t, client, params)
	if status != "HIT" {
		t.Errorf("whole answer: x-sluice-cache %q, want HIT", status)
	}
	if want := acc.Choices[0].Message.Content; whole != want || whole != "a streamed answer, stored as it ends" {
		t.Errorf("whole %q, streamed %q", whole, want)
	}
	// And as a stream again, with the usage chunk this time.
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	again, _, status := sdkStreamed(t, client, params)
	if status != "HIT" || again.Choices[0].Message.Content != whole {
		t.Errorf("stream replay: x-sluice-cache %q, text %q", status, again.Choices[0].Message.Content)
	}
	if again.Usage.CompletionTokens <= 0 {
		t.Errorf("usage %+v: include_usage asked for the usage chunk", again.Usage)
	}
	env.wantCalls(1, "a streamed answer replayed whole and streamed")
}

// anthropicText is the text of an Anthropic Messages answer, whole or
// streamed (whose events must run from message_start to message_stop).
func anthropicText(t *testing.T, b []byte, stream bool) string {
	t.Helper()
	if !stream {
		var m struct {
			Type    string
			Content []struct{ Type, Text string }
		}
		if err := json.Unmarshal(b, &m); err != nil || m.Type != "message" || len(m.Content) == 0 {
			t.Fatalf("not an Anthropic message (%v): %s", err, b)
		}
		return m.Content[0].Text
	}
	var text strings.Builder
	var events []string
	for _, line := range strings.Split(string(b), "\n") {
		if ev, ok := strings.CutPrefix(line, "event: "); ok {
			events = append(events, ev)
		}
		d, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var e struct {
			Type  string
			Delta struct{ Type, Text string }
		}
		if err := json.Unmarshal([]byte(d), &e); err != nil {
			t.Fatalf("%v: %s", err, d)
		}
		if e.Type == "content_block_delta" && e.Delta.Type == "text_delta" {
			text.WriteString(e.Delta.Text)
		}
	}
	if len(events) < 3 || events[0] != "message_start" || events[len(events)-1] != "message_stop" {
		t.Fatalf("Anthropic stream events %v: want message_start … message_stop", events)
	}
	return text.String()
}

// TestCacheAnthropicMessages: an answer cached through /v1/messages
// replays in Anthropic's format, whole and streamed; the same prompt in
// OpenAI's format is another key.
func TestCacheAnthropicMessages(t *testing.T) {
	env := newEnvWith(t, cacheOn)
	const prompt = "Name a river in Egypt"
	messages := func(stream bool) string {
		return fmt.Sprintf(`{"model":"claude/claude-haiku-4-5","max_tokens":200,"stream":%v,"messages":[{"role":"user","content":%q}]}`, stream, prompt)
	}
	for i, tc := range []struct {
		name   string
		stream bool
		want   string
	}{
		{"first", false, "MISS"},
		{"whole replay", false, "HIT"},
		{"streamed replay", true, "HIT"},
	} {
		resp, b := env.post("/v1/messages", messages(tc.stream), "Anthropic-Version", "2023-06-01")
		if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != tc.want {
			t.Fatalf("%s: %d, x-sluice-cache %q, want %q: %s", tc.name, resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), tc.want, b)
		}
		if got := anthropicText(t, b, tc.stream); got != prompt {
			t.Errorf("%s: text %q, want %q", tc.name, got, prompt)
		}
		if i == 0 {
			env.wantCalls(1, tc.name)
		}
	}
	env.wantCalls(1, "after the replays")
	body := fmt.Sprintf(`{"model":"claude/claude-haiku-4-5","max_tokens":200,"messages":[{"role":"user","content":%q}]}`, prompt)
	env.sendChat(body, "MISS")
	env.wantCalls(2, "the OpenAI-format request")
}
