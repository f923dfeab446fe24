package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// The official SDKs, pointed at the gateway, must work unchanged against
// every provider type behind it. The mock echoes the last user message.

func (e *testEnv) openai() openai.Client {
	return openai.NewClient(option.WithBaseURL(e.url+"/v1"), option.WithAPIKey("sk-client-key"),
		option.WithMaxRetries(0))
}

func (e *testEnv) anthropic() anthropic.Client {
	return anthropic.NewClient(aoption.WithBaseURL(e.url), aoption.WithAPIKey("sk-ant-client-key"),
		aoption.WithMaxRetries(0))
}

// models reaching each wire format: OpenAI, Anthropic, Gemini, Azure, and
// a virtual model.
var sdkModels = []string{"oai/gpt-4o-mini", "claude/claude-haiku-4-5", "gem/gemini-2.5-flash", "az/my-deployment", "chat-default"}

func TestOpenAISDKChat(t *testing.T) {
	env := newEnv(t)
	client := env.openai()
	for _, model := range sdkModels {
		t.Run(model, func(t *testing.T) {
			resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
				Model: model,
				Messages: []openai.ChatCompletionMessageParamUnion{
					openai.SystemMessage("be brief"),
					openai.UserMessage("Hello from the OpenAI SDK"),
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Choices) != 1 || resp.Choices[0].Message.Content != "Hello from the OpenAI SDK" {
				t.Fatalf("choices = %+v", resp.Choices)
			}
			if resp.Choices[0].FinishReason != "stop" {
				t.Errorf("finish_reason = %q, want stop", resp.Choices[0].FinishReason)
			}
			if resp.Usage.PromptTokens <= 0 || resp.Usage.CompletionTokens <= 0 ||
				resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens {
				t.Errorf("usage = %+v", resp.Usage)
			}
		})
	}
}

func TestOpenAISDKStream(t *testing.T) {
	env := newEnv(t)
	client := env.openai()
	for _, model := range sdkModels {
		t.Run(model, func(t *testing.T) {
			stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model:         model,
				Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("streamed words arrive in pieces")},
				StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
			})
			var acc openai.ChatCompletionAccumulator
			chunks := 0
			for stream.Next() {
				acc.AddChunk(stream.Current())
				chunks++
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if chunks < 3 {
				t.Errorf("got %d chunks; the answer should arrive in pieces", chunks)
			}
			if got := acc.Choices[0].Message.Content; got != "streamed words arrive in pieces" {
				t.Errorf("content = %q", got)
			}
			if acc.Choices[0].FinishReason != "stop" {
				t.Errorf("finish_reason = %q", acc.Choices[0].FinishReason)
			}
			if acc.Usage.PromptTokens <= 0 || acc.Usage.CompletionTokens <= 0 {
				t.Errorf("usage = %+v, want it reported because include_usage was set", acc.Usage)
			}
		})
	}
}

func TestOpenAISDKTools(t *testing.T) {
	env := newEnv(t)
	client := env.openai()
	tool := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:        "lookup",
		Description: openai.String("look a word up"),
		Parameters: shared.FunctionParameters{
			"type":       "object",
			"properties": map[string]any{"echo": map[string]any{"type": "string"}},
		},
	})
	for _, model := range sdkModels {
		for _, streamed := range []bool{false, true} {
			name := model + map[bool]string{false: "/whole", true: "/stream"}[streamed]
			t.Run(name, func(t *testing.T) {
				params := openai.ChatCompletionNewParams{
					Model:    model,
					Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather in Oslo")},
					Tools:    []openai.ChatCompletionToolUnionParam{tool},
				}
				var msg openai.ChatCompletionMessage
				if streamed {
					stream := client.Chat.Completions.NewStreaming(context.Background(), params)
					var acc openai.ChatCompletionAccumulator
					for stream.Next() {
						acc.AddChunk(stream.Current())
					}
					if err := stream.Err(); err != nil {
						t.Fatal(err)
					}
					msg = acc.Choices[0].Message
					if acc.Choices[0].FinishReason != "tool_calls" {
						t.Errorf("finish_reason = %q, want tool_calls", acc.Choices[0].FinishReason)
					}
				} else {
					resp, err := client.Chat.Completions.New(context.Background(), params)
					if err != nil {
						t.Fatal(err)
					}
					msg = resp.Choices[0].Message
					if resp.Choices[0].FinishReason != "tool_calls" {
						t.Errorf("finish_reason = %q, want tool_calls", resp.Choices[0].FinishReason)
					}
				}
				if len(msg.ToolCalls) != 1 {
					t.Fatalf("tool calls = %+v", msg.ToolCalls)
				}
				call := msg.ToolCalls[0]
				var args struct{ Echo string }
				if err := json.Unmarshal([]byte(call.Function.Arguments), &args); err != nil || args.Echo != "weather in Oslo" {
					t.Fatalf("call = %s(%s): %v", call.Function.Name, call.Function.Arguments, err)
				}
				if call.Function.Name != "lookup" || call.ID == "" {
					t.Errorf("call name/id = %q/%q", call.Function.Name, call.ID)
				}
				// Second turn: the tool's result goes back; the model answers.
				params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage("sunny, 21C", call.ID))
				resp, err := client.Chat.Completions.New(context.Background(), params)
				if err != nil {
					t.Fatal(err)
				}
				if got := resp.Choices[0].Message.Content; !strings.Contains(got, "sunny, 21C") {
					t.Errorf("answer after the tool result = %q", got)
				}
			})
		}
	}
}

func TestOpenAISDKEmbeddings(t *testing.T) {
	env := newEnv(t)
	client := env.openai()
	for _, model := range []string{"oai/text-embedding-3-small", "gem/text-embedding-004", "az/embed-deployment"} {
		t.Run(model, func(t *testing.T) {
			resp, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
				Model: model,
				Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"first", "second"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Data) != 2 || resp.Data[0].Index != 0 || resp.Data[1].Index != 1 {
				t.Fatalf("data = %+v", resp.Data)
			}
			if len(resp.Data[0].Embedding) == 0 || equalVectors(resp.Data[0].Embedding, resp.Data[1].Embedding) {
				t.Errorf("embeddings should be non-empty and differ for different inputs")
			}
		})
	}
	t.Run("anthropic has no embeddings", func(t *testing.T) {
		_, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
			Model: "claude/anything",
			Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")},
		})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
			t.Fatalf("err = %v, want a 400", err)
		}
	})
}

func equalVectors(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOpenAISDKModels(t *testing.T) {
	env := newEnv(t)
	client := env.openai()
	page, err := client.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, m := range page.Data {
		ids[m.ID] = true
	}
	for _, want := range []string{"chat-default", "resilient", "oai/gpt-4o-mini"} {
		if !ids[want] {
			t.Errorf("model list lacks %q: %v", want, ids)
		}
	}
	m, err := client.Models.Get(context.Background(), "oai/gpt-4o-mini")
	if err != nil || m.ID != "oai/gpt-4o-mini" {
		t.Errorf("get model = %+v, %v", m, err)
	}
	_, err = client.Models.Get(context.Background(), "nobody/nothing")
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("unknown model: err = %v, want 404", err)
	}
}

func TestAnthropicSDK(t *testing.T) {
	env := newEnv(t)
	client := env.anthropic()
	for _, model := range sdkModels {
		t.Run(model+"/whole", func(t *testing.T) {
			msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{
				Model:     anthropic.Model(model),
				MaxTokens: 256,
				System:    []anthropic.TextBlockParam{{Text: "be brief"}},
				Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello from the Anthropic SDK"))},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(msg.Content) != 1 || msg.Content[0].Text != "Hello from the Anthropic SDK" {
				t.Fatalf("content = %+v", msg.Content)
			}
			if msg.StopReason != anthropic.StopReasonEndTurn {
				t.Errorf("stop_reason = %q", msg.StopReason)
			}
			if msg.Usage.InputTokens <= 0 || msg.Usage.OutputTokens <= 0 {
				t.Errorf("usage = %+v", msg.Usage)
			}
		})
		t.Run(model+"/stream", func(t *testing.T) {
			stream := client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
				Model:     anthropic.Model(model),
				MaxTokens: 256,
				Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("a streamed answer, in parts"))},
			})
			var msg anthropic.Message
			events := 0
			for stream.Next() {
				if err := msg.Accumulate(stream.Current()); err != nil {
					t.Fatal(err)
				}
				events++
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if len(msg.Content) != 1 || msg.Content[0].Text != "a streamed answer, in parts" {
				t.Fatalf("content = %+v (%d events)", msg.Content, events)
			}
			if msg.StopReason != anthropic.StopReasonEndTurn || msg.Usage.OutputTokens <= 0 {
				t.Errorf("stop_reason = %q, usage = %+v", msg.StopReason, msg.Usage)
			}
		})
	}
}

func TestAnthropicSDKTools(t *testing.T) {
	env := newEnv(t)
	client := env.anthropic()
	tools := []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
		Name:        "lookup",
		InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"echo": map[string]any{"type": "string"}}},
	}}}
	for _, model := range sdkModels {
		t.Run(model, func(t *testing.T) {
			params := anthropic.MessageNewParams{
				Model: anthropic.Model(model), MaxTokens: 256, Tools: tools,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("find Oslo"))},
			}
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
			if msg.StopReason != anthropic.StopReasonToolUse {
				t.Fatalf("stop_reason = %q, content = %+v", msg.StopReason, msg.Content)
			}
			var use anthropic.ToolUseBlock
			for _, b := range msg.Content {
				if b.Type == "tool_use" {
					use = b.AsToolUse()
				}
			}
			var args struct{ Echo string }
			if err := json.Unmarshal(use.Input, &args); err != nil || args.Echo != "find Oslo" || use.Name != "lookup" {
				t.Fatalf("tool_use = %+v (%v)", use, err)
			}
			params.Messages = append(params.Messages,
				anthropic.NewAssistantMessage(anthropic.NewToolUseBlock(use.ID, json.RawMessage(use.Input), use.Name)),
				anthropic.NewUserMessage(anthropic.NewToolResultBlock(use.ID, "Oslo is in Norway", false)))
			resp, err := client.Messages.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Content) == 0 || !strings.Contains(resp.Content[0].Text, "Oslo is in Norway") {
				t.Errorf("answer after the tool result = %+v", resp.Content)
			}
		})
	}
}
