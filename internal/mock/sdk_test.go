package mock_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/go-cmp/cmp"
	"github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"github.com/sluicehq/sluice/internal/mock"
)

// The official SDKs parse the mock's answers here: if the mock drifts from
// the real wire shapes, these fail even when the hand-written checks agree.

func openAIClient(t *testing.T) (openai.Client, *mock.Server) {
	m, srv := newServer(t, mock.Options{StreamChunks: 3})
	return openai.NewClient(openaiopt.WithBaseURL(srv.URL+"/v1/"), openaiopt.WithAPIKey("sk-test"),
		openaiopt.WithMaxRetries(0), openaiopt.WithHTTPClient(srv.Client())), m
}

func anthropicClient(t *testing.T) (anthropic.Client, *mock.Server) {
	m, srv := newServer(t, mock.Options{StreamChunks: 3})
	return anthropic.NewClient(anthropicopt.WithBaseURL(srv.URL), anthropicopt.WithAPIKey("sk-ant-test"),
		anthropicopt.WithMaxRetries(0), anthropicopt.WithHTTPClient(srv.Client())), m
}

var openAIParams = openai.ChatCompletionNewParams{
	Model: "gpt-4o-mini",
	Messages: []openai.ChatCompletionMessageParamUnion{
		openai.SystemMessage("Be brief."), openai.UserMessage("Hello, SDK!"),
	},
}

func TestOpenAISDKChat(t *testing.T) {
	client, m := openAIClient(t)
	got, err := client.Chat.Completions.New(context.Background(), openAIParams)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Choices[0]; c.Message.Content != "Hello, SDK!" || c.FinishReason != "stop" {
		t.Errorf("choice = %+v", c)
	}
	// R = 9 + 11, M = 2: 5 + 6; A = 11.
	if u := got.Usage; u.PromptTokens != 11 || u.CompletionTokens != 3 || u.TotalTokens != 14 ||
		!u.PromptTokensDetails.JSON.CachedTokens.Valid() {
		t.Errorf("usage = %+v", u)
	}
	if last, _ := m.Last(); last.Headers.Get("Authorization") != "Bearer sk-test" {
		t.Errorf("Authorization header not recorded: %v", last.Headers)
	}
}

func TestOpenAISDKStream(t *testing.T) {
	client, _ := openAIClient(t)
	params := openAIParams
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Choices[0].Message.Content != "Hello, SDK!" || acc.Choices[0].FinishReason != "stop" {
		t.Errorf("accumulated %+v", acc.Choices[0])
	}
	if acc.Usage.TotalTokens != 14 || chunks != 6 { // role, 3 pieces, finish, usage
		t.Errorf("usage %+v after %d chunks", acc.Usage, chunks)
	}
}

func TestOpenAISDKStreamToolCall(t *testing.T) {
	client, _ := openAIClient(t)
	params := openAIParams
	params.Tools = []openai.ChatCompletionToolUnionParam{
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "lookup"}),
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	var finished []string
	for stream.Next() {
		acc.AddChunk(stream.Current())
		if tc, ok := acc.JustFinishedToolCall(); ok {
			finished = append(finished, tc.Name+" "+tc.Arguments)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{`lookup {"echo":"Hello, SDK!"}`}, finished); diff != "" {
		t.Errorf("tool calls (-want +got):\n%s", diff)
	}
	if acc.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("finish reason %q", acc.Choices[0].FinishReason)
	}
}

func TestOpenAISDKEmbeddings(t *testing.T) {
	client, _ := openAIClient(t)
	for _, format := range []openai.EmbeddingNewParamsEncodingFormat{"", "float", "base64"} {
		got, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
			Model:          "text-embedding-3-small",
			Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}},
			Dimensions:     openai.Int(6),
			EncodingFormat: format,
		})
		if err != nil {
			t.Fatalf("format %q: %v", format, err)
		}
		if len(got.Data) != 2 || len(got.Data[0].Embedding) != 6 || got.Usage.PromptTokens != 2 {
			t.Errorf("format %q: %+v", format, got)
		}
	}
}

func TestOpenAISDKSeesFaults(t *testing.T) {
	client, m := openAIClient(t)
	m.InjectFault(mock.Fault{Status: 429, RetryAfter: 3})
	_, err := client.Chat.Completions.New(context.Background(), openAIParams)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != "rate_limit_exceeded" {
		t.Errorf("err = %v, want a 429 rate_limit_exceeded *openai.Error", err)
	}
}

var anthropicParams = anthropic.MessageNewParams{
	Model:     "claude-haiku-4-5",
	MaxTokens: 100,
	System:    []anthropic.TextBlockParam{{Text: "Be brief."}},
	Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello, SDK!"))},
}

func TestAnthropicSDKMessages(t *testing.T) {
	client, m := anthropicClient(t)
	got, err := client.Messages.New(context.Background(), anthropicParams)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Content) != 1 || got.Content[0].Text != "Hello, SDK!" || got.StopReason != "end_turn" {
		t.Errorf("message = %+v", got)
	}
	if got.Usage.InputTokens != 11 || got.Usage.OutputTokens != 3 {
		t.Errorf("usage = %+v", got.Usage)
	}
	last, _ := m.Last()
	key := last.Headers.Get("X-Api-Key") + last.Headers.Get("Authorization") // this SDK version sends a Bearer token
	if !strings.Contains(key, "sk-ant-test") || last.Headers.Get("Anthropic-Version") == "" {
		t.Errorf("headers not recorded: %v", last.Headers)
	}
}

func TestAnthropicSDKStream(t *testing.T) {
	tests := []struct {
		name      string
		tools     []anthropic.ToolUnionParam
		wantBlock string // the accumulated block as JSON-ish text
		wantStop  anthropic.StopReason
	}{
		{"text", nil, "text Hello, SDK!", "end_turn"},
		{"tool", []anthropic.ToolUnionParam{anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{}, "lookup")},
			`tool_use lookup {"echo":"Hello, SDK!"}`, "tool_use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, _ := anthropicClient(t)
			params := anthropicParams
			params.Tools = tc.tools
			stream := client.Messages.NewStreaming(context.Background(), params)
			var msg anthropic.Message
			for stream.Next() {
				if err := msg.Accumulate(stream.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if len(msg.Content) != 1 {
				t.Fatalf("content = %+v", msg.Content)
			}
			b := msg.Content[0]
			got := b.Type + " " + b.Text
			if b.Type == "tool_use" {
				var input any
				if err := json.Unmarshal(b.Input, &input); err != nil {
					t.Fatalf("tool input %s: %v", b.Input, err)
				}
				compact, _ := json.Marshal(input)
				got = b.Type + " " + b.Name + " " + string(compact)
			}
			if got != tc.wantBlock || msg.StopReason != tc.wantStop {
				t.Errorf("got %q stop %q, want %q stop %q", got, msg.StopReason, tc.wantBlock, tc.wantStop)
			}
			if msg.Usage.InputTokens != 11 || msg.Usage.OutputTokens == 0 {
				t.Errorf("usage = %+v", msg.Usage)
			}
		})
	}
}

func TestAnthropicSDKSeesFaults(t *testing.T) {
	client, m := anthropicClient(t)
	m.InjectFault(mock.Fault{Status: 529})
	_, err := client.Messages.New(context.Background(), anthropicParams)
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 529 {
		t.Errorf("err = %v, want a 529 *anthropic.Error", err)
	}
}
