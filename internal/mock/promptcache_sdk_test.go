package mock_test

import (
	"context"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/openai/openai-go/v3"
)

// The official SDKs read the simulated cache usage here, whole and
// streamed.

func TestOpenAISDKSeesCachedTokens(t *testing.T) {
	client, _ := openAIClient(t)
	params := openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text1103)},
	}
	var got [][2]int64 // prompt and cached tokens per answer
	for _, stream := range []bool{false, true, false} {
		var u openai.CompletionUsage
		if stream {
			p := params
			p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			s := client.Chat.Completions.NewStreaming(context.Background(), p)
			var acc openai.ChatCompletionAccumulator
			for s.Next() {
				acc.AddChunk(s.Current())
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			u = acc.Usage
		} else {
			c, err := client.Chat.Completions.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			u = c.Usage
		}
		got = append(got, [2]int64{u.PromptTokens, u.PromptTokensDetails.CachedTokens})
	}
	if diff := cmp.Diff(got, [][2]int64{{1103, 0}, {1103, 1024}, {1103, 1024}}); diff != "" {
		t.Errorf("prompt and cached tokens (-got +want):\n%s", diff)
	}
}

func TestAnthropicSDKSeesCacheTokens(t *testing.T) {
	client, _ := anthropicClient(t)
	params := anthropicParams // with its system prompt: R = 9 + 11, M = 2: 11 tokens
	params.Messages = []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.ContentBlockParamUnion{
		OfText: &anthropic.TextBlockParam{Text: "Hello, SDK!", CacheControl: anthropic.NewCacheControlEphemeralParam()},
	})}
	var got [][3]int64 // input, cache creation and cache read tokens per answer
	for _, stream := range []bool{true, false, true} {
		var u anthropic.Usage
		if stream {
			s := client.Messages.NewStreaming(context.Background(), params)
			var msg anthropic.Message
			for s.Next() {
				if err := msg.Accumulate(s.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			u = msg.Usage
		} else {
			msg, err := client.Messages.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			u = msg.Usage
		}
		if u.OutputTokens != 3 {
			t.Errorf("output tokens %d, want 3", u.OutputTokens)
		}
		got = append(got, [3]int64{u.InputTokens, u.CacheCreationInputTokens, u.CacheReadInputTokens})
	}
	if diff := cmp.Diff(got, [][3]int64{{0, 11, 0}, {0, 0, 11}, {0, 0, 11}}); diff != "" {
		t.Errorf("input, cache creation and cache read tokens (-got +want):\n%s", diff)
	}
}
