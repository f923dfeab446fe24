package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

// sdkGateway is a minimal /v1/messages endpoint built from this package:
// it decodes the request, hands the canonical form to answer, and encodes
// what answer returns (a response, chunks for a stream, or an error). The
// official Anthropic Go SDK is the client, so these tests check that real
// clients accept what the encoders write.
func sdkGateway(t *testing.T, answer func(req *llm.Request) (*llm.Response, []*llm.Chunk, *llm.Error)) *sdk.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := DecodeMessagesRequest(body)
		if err != nil {
			e := llm.AsError(err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.Status)
			w.Write(EncodeError(e))
			return
		}
		resp, chunks, e := answer(req)
		switch {
		case req.Stream:
			sse.SetHeaders(w.Header())
			enc := NewStreamEncoder(req.Model)
			var out []byte
			for _, c := range chunks {
				if out, err = enc.AppendChunk(out, c); err != nil {
					t.Errorf("AppendChunk: %v", err)
				}
			}
			if e != nil {
				out = AppendStreamError(out, e)
			} else {
				out = enc.AppendEnd(out)
			}
			w.Write(out)
		case e != nil:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.Status)
			w.Write(EncodeError(e))
		default:
			out, err := EncodeMessagesResponse(resp)
			if err != nil {
				t.Errorf("EncodeMessagesResponse: %v", err)
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(out)
		}
	}))
	t.Cleanup(srv.Close)
	c := sdk.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey("test"), option.WithMaxRetries(0))
	return &c
}

func sdkParams() sdk.MessageNewParams {
	return sdk.MessageNewParams{
		Model:     "claude-test",
		MaxTokens: 1024,
		System:    []sdk.TextBlockParam{{Text: "be brief"}},
		Messages: []sdk.MessageParam{
			sdk.NewUserMessage(sdk.NewTextBlock("weather in Paris?")),
			sdk.NewAssistantMessage(sdk.NewToolUseBlock("toolu_1", map[string]any{"city": "Paris"}, "get_weather")),
			sdk.NewUserMessage(sdk.NewToolResultBlock("toolu_1", "18C", false), sdk.NewTextBlock("and Rome?")),
		},
		Tools: []sdk.ToolUnionParam{sdk.ToolUnionParamOfTool(sdk.ToolInputSchemaParam{
			Properties: map[string]any{"city": map[string]any{"type": "string"}}}, "get_weather")},
	}
}

// checkSDKRequest asserts the canonical form of sdkParams.
func checkSDKRequest(t *testing.T, req *llm.Request) {
	t.Helper()
	want := []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("be brief")}},
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("weather in Paris?")}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{toolCall("toolu_1", "get_weather", `{"city":"Paris"}`)}},
		{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_1", Parts: []llm.Part{llm.TextPart("18C")}}}}},
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("and Rome?")}},
	}
	if diff := cmp.Diff(want, req.Messages, jsonEqual); diff != "" {
		t.Errorf("decoded SDK request (-want +got):\n%s", diff)
	}
	if req.Model != "claude-test" || req.MaxTokens == nil || *req.MaxTokens != 1024 || len(req.Tools) != 1 {
		t.Errorf("decoded SDK request: model %q max_tokens %v tools %d", req.Model, req.MaxTokens, len(req.Tools))
	}
}

func TestSDKMessage(t *testing.T) {
	client := sdkGateway(t, func(req *llm.Request) (*llm.Response, []*llm.Chunk, *llm.Error) {
		checkSDKRequest(t, req)
		return &llm.Response{ID: "chatcmpl-9", Model: "gpt-x", Choices: []llm.Choice{{
			Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Kind: llm.PartReasoning, Text: "hmm", Signature: "sig"},
				llm.TextPart("Checking Rome."), toolCall("call_2", "get_weather", `{"city":"Rome"}`)}},
			FinishReason: llm.FinishToolCalls}},
			Usage: llm.Usage{InputTokens: 100, CachedInputTokens: 30, CacheWriteTokens: 20, OutputTokens: 12}}, nil, nil
	})
	msg, err := client.Messages.New(context.Background(), sdkParams())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{"id": msg.ID, "model": string(msg.Model), "stop": string(msg.StopReason),
		"in": msg.Usage.InputTokens, "cr": msg.Usage.CacheReadInputTokens, "cw": msg.Usage.CacheCreationInputTokens, "out": msg.Usage.OutputTokens,
		"blocks": len(msg.Content), "thinking": msg.Content[0].Thinking, "sig": msg.Content[0].Signature,
		"text": msg.Content[1].Text, "tool": msg.Content[2].Name, "tool_id": msg.Content[2].ID, "input": string(msg.Content[2].Input)}
	want := map[string]any{"id": "chatcmpl-9", "model": "gpt-x", "stop": "tool_use",
		"in": int64(50), "cr": int64(30), "cw": int64(20), "out": int64(12),
		"blocks": 3, "thinking": "hmm", "sig": "sig", "text": "Checking Rome.", "tool": "get_weather", "tool_id": "call_2", "input": `{"city":"Rome"}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SDK message (-want +got):\n%s", diff)
	}
}

func TestSDKStream(t *testing.T) {
	client := sdkGateway(t, func(req *llm.Request) (*llm.Response, []*llm.Chunk, *llm.Error) {
		checkSDKRequest(t, req)
		if !req.IncludeUsage {
			t.Error("a streamed Anthropic request should ask for usage")
		}
		return nil, []*llm.Chunk{
			{ID: "chatcmpl-7", Model: "gpt-x", Deltas: []llm.Delta{{Role: llm.RoleAssistant}}},
			{Deltas: []llm.Delta{{Reasoning: "Two "}}},
			{Deltas: []llm.Delta{{Reasoning: "calls.", ReasoningSignature: "sig"}}},
			textChunk("Checking "),
			textChunk("both."),
			callChunk(llm.ToolCallDelta{Index: 0, ID: "call_a", Type: "function", Name: "get_weather"}),
			callChunk(llm.ToolCallDelta{Index: 1, ID: "call_b", Type: "function", Name: "get_weather", Arguments: `{"city":`}),
			callChunk(llm.ToolCallDelta{Index: 0, Arguments: `{"city":"Rome"}`}),
			callChunk(llm.ToolCallDelta{Index: 1, Arguments: `"Oslo"}`}),
			finishChunk(llm.FinishToolCalls),
			{Usage: &llm.Usage{InputTokens: 80, CachedInputTokens: 50, OutputTokens: 40}},
		}, nil
	})
	stream := client.Messages.NewStreaming(context.Background(), sdkParams())
	var msg sdk.Message
	for stream.Next() {
		if err := msg.Accumulate(stream.Current()); err != nil {
			t.Fatalf("Accumulate: %v", err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	type block struct{ Type, Text, Thinking, Signature, ID, Name, Input string }
	var blocks []block
	for _, c := range msg.Content {
		blocks = append(blocks, block{c.Type, c.Text, c.Thinking, c.Signature, c.ID, c.Name, string(c.Input)})
	}
	want := []block{
		{Type: "thinking", Thinking: "Two calls.", Signature: "sig"},
		{Type: "text", Text: "Checking both."},
		{Type: "tool_use", ID: "call_a", Name: "get_weather", Input: `{"city":"Rome"}`},
		{Type: "tool_use", ID: "call_b", Name: "get_weather", Input: `{"city":"Oslo"}`},
	}
	if diff := cmp.Diff(want, blocks); diff != "" {
		t.Errorf("accumulated blocks (-want +got):\n%s", diff)
	}
	if msg.ID != "chatcmpl-7" || msg.StopReason != "tool_use" || msg.Usage.InputTokens != 30 ||
		msg.Usage.CacheReadInputTokens != 50 || msg.Usage.OutputTokens != 40 {
		t.Errorf("message = id %q stop %q usage %+v", msg.ID, msg.StopReason, msg.Usage)
	}
	var input map[string]any
	if err := json.Unmarshal(msg.Content[3].Input, &input); err != nil || input["city"] != "Oslo" {
		t.Errorf("tool input %s does not parse: %v", msg.Content[3].Input, err)
	}
}

func TestSDKErrors(t *testing.T) {
	client := sdkGateway(t, func(req *llm.Request) (*llm.Response, []*llm.Chunk, *llm.Error) {
		e := &llm.Error{Status: 529, Type: llm.TypeOverloaded, Message: "upstream overloaded"}
		if req.Stream {
			return nil, []*llm.Chunk{textChunk("partial")}, e
		}
		return nil, nil, e
	})
	_, err := client.Messages.New(context.Background(), sdkParams())
	var apiErr *sdk.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 529 || apiErr.Type() != "overloaded_error" || apiErr.Message != "upstream overloaded" {
		t.Errorf("error = %v, want the SDK's 529 overloaded_error with our message", err)
	}

	stream := client.Messages.NewStreaming(context.Background(), sdkParams())
	for stream.Next() {
	}
	if err := stream.Err(); err == nil {
		t.Error("a stream ending in an error event: the SDK saw no error")
	}

	// A request the gateway rejects while decoding.
	params := sdkParams()
	params.Messages = nil
	_, err = client.Messages.New(context.Background(), params)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Type() != "invalid_request_error" {
		t.Errorf("error = %v, want the SDK's 400 invalid_request_error", err)
	}
}
