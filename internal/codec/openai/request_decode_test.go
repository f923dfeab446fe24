package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

// requestFixtures are realistic client bodies; each has a golden canonical
// decoding and a golden upstream encoding.
func requestFixtures(t testing.TB) []string {
	return fixtures(t, "testdata/requests/*.json")
}

func TestDecodeChatRequestGolden(t *testing.T) {
	for _, path := range requestFixtures(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			req, err := DecodeChatRequest(readFile(t, path))
			if err != nil {
				t.Fatal(err)
			}
			goldenValue(t, filepath.Join("testdata/golden/request_decode", name+".json"), req)
		})
	}
}

func TestDecodeChatRequestMapping(t *testing.T) {
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, r *llm.Request)
	}{
		{"unknown members go to Extra", `{"model":"m",` + msgs + `,"prediction":{"type":"content","content":"x"},"x_custom":[1, 2]}`,
			func(t *testing.T, r *llm.Request) {
				want := map[string]json.RawMessage{
					"prediction": json.RawMessage(`{"type":"content","content":"x"}`),
					"x_custom":   json.RawMessage(`[1, 2]`),
				}
				if diff := cmp.Diff(want, r.Extra); diff != "" {
					t.Errorf("Extra (-want +got):\n%s", diff)
				}
				if r.Format != "openai" {
					t.Errorf("Format = %q", r.Format)
				}
			}},
		{"escaped key of a known member is not extra", `{"mod\u0065l":"m",` + msgs + `}`,
			func(t *testing.T, r *llm.Request) {
				if r.Model != "m" || r.Extra != nil {
					t.Errorf("Model = %q, Extra = %v", r.Model, r.Extra)
				}
			}},
		{"max_completion_tokens wins over max_tokens", `{"model":"m",` + msgs + `,"max_tokens":10,"max_completion_tokens":20}`,
			func(t *testing.T, r *llm.Request) {
				if r.MaxTokens == nil || *r.MaxTokens != 20 {
					t.Errorf("MaxTokens = %v", r.MaxTokens)
				}
			}},
		{"temperature zero is set, not absent", `{"model":"m",` + msgs + `,"temperature":0}`,
			func(t *testing.T, r *llm.Request) {
				if r.Temperature == nil || *r.Temperature != 0 {
					t.Errorf("Temperature = %v", r.Temperature)
				}
			}},
		{"nulls mean unset", `{"model":"m",` + msgs + `,"temperature":null,"stop":null,"tool_choice":null,"n":null,"audio":null}`,
			func(t *testing.T, r *llm.Request) {
				if r.Temperature != nil || r.Stop != nil || r.ToolChoice != nil || r.N != nil || r.Audio != nil {
					t.Errorf("got %+v", r)
				}
			}},
		{"stop string becomes a list", `{"model":"m",` + msgs + `,"stop":"END"}`,
			func(t *testing.T, r *llm.Request) {
				if diff := cmp.Diff([]string{"END"}, r.Stop); diff != "" {
					t.Errorf("Stop (-want +got):\n%s", diff)
				}
			}},
		{"tool_choice modes", `{"model":"m",` + msgs + `,"tool_choice":"required"}`,
			func(t *testing.T, r *llm.Request) {
				if r.ToolChoice == nil || r.ToolChoice.Mode != llm.ToolChoiceRequired {
					t.Errorf("ToolChoice = %+v", r.ToolChoice)
				}
			}},
		{"reasoning_effort none disables reasoning", `{"model":"m",` + msgs + `,"reasoning_effort":"none"}`,
			func(t *testing.T, r *llm.Request) {
				want := &llm.Reasoning{Effort: "none", Disabled: true}
				if diff := cmp.Diff(want, r.Reasoning); diff != "" {
					t.Errorf("Reasoning (-want +got):\n%s", diff)
				}
			}},
		{"image_url given as a bare string", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":"https://x/y.png"}]}]}`,
			func(t *testing.T, r *llm.Request) {
				want := []llm.Part{{Kind: llm.PartImage, Media: &llm.Media{URL: "https://x/y.png"}}}
				if diff := cmp.Diff(want, r.Messages[0].Parts); diff != "" {
					t.Errorf("Parts (-want +got):\n%s", diff)
				}
			}},
		{"tool result holds its content", `{"model":"m","messages":[{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"user","content":"next"}]}`,
			func(t *testing.T, r *llm.Request) {
				want := []llm.Message{
					{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{
						CallID: "c1", Parts: []llm.Part{llm.TextPart("a"), llm.TextPart("b")}}}}},
					{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("next")}},
				}
				if diff := cmp.Diff(want, r.Messages); diff != "" {
					t.Errorf("Messages (-want +got):\n%s", diff)
				}
			}},
		{"assistant empty content with tool calls has no text part", `{"model":"m","messages":[{"role":"assistant","content":"","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`,
			func(t *testing.T, r *llm.Request) {
				want := []llm.Part{{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c", Type: "function", Name: "f", Arguments: "{}"}}}
				if diff := cmp.Diff(want, r.Messages[0].Parts); diff != "" {
					t.Errorf("Parts (-want +got):\n%s", diff)
				}
			}},
		{"arguments sent as an object are kept as text", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{"a":1}}}]}]}`,
			func(t *testing.T, r *llm.Request) {
				if got := r.Messages[0].Parts[0].ToolCall.Arguments; got != `{"a":1}` {
					t.Errorf("Arguments = %q", got)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeChatRequest([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

func TestDecodeChatRequestErrors(t *testing.T) {
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name      string
		body      string
		wantParam string
		wantMsg   string
	}{
		{"empty body", ``, "", "empty"},
		{"not an object", `[{"model":"m"}]`, "", "must be a JSON object, got an array"},
		{"invalid JSON", `{"model":"m",`, "", "not valid JSON"},
		{"garbage", `hello`, "", "not valid JSON"},
		{"trailing garbage", `{"model":"m",` + msgs + `} x`, "", "not valid JSON"},
		{"invalid UTF-8", "{\"model\":\"m\xff\"," + msgs + "}", "", "UTF-8"},
		{"missing model", `{` + msgs + `}`, "model", "missing required parameter: 'model'"},
		{"model not a string", `{"model":4,` + msgs + `}`, "model", "expected a string, got a number"},
		{"missing messages", `{"model":"m"}`, "messages", "missing required parameter: 'messages'"},
		{"messages not an array", `{"model":"m","messages":"hi"}`, "messages", "expected an array of objects, got a string"},
		{"messages empty", `{"model":"m","messages":[]}`, "messages", "at least one message"},
		{"message not an object", `{"model":"m","messages":[{"role":"user","content":"a"},"b"]}`, "messages[1]", "expected an object, got a string"},
		{"missing role", `{"model":"m","messages":[{"content":"a"}]}`, "messages[0].role", "missing"},
		{"unknown role", `{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"a"},{"role":"user","content":"a"},{"role":"robot","content":"b"}]}`, "messages[3].role", `got "robot"`},
		{"function role", `{"model":"m","messages":[{"role":"function","name":"f","content":"a"}]}`, "messages[0].role", "deprecated"},
		{"content wrong type", `{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"a"},{"role":"user","content":7}]}`, "messages[2].content", "expected a string or an array of content parts, got a number"},
		{"missing user content", `{"model":"m","messages":[{"role":"user"}]}`, "messages[0].content", "missing"},
		{"empty content array", `{"model":"m","messages":[{"role":"user","content":[]}]}`, "messages[0].content", "at least one content part"},
		{"part text wrong type", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":5}]}]}`, "messages[0].content[1].text", "expected a string, got a number"},
		{"part missing text", `{"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]}`, "messages[0].content[0].text", "missing"},
		{"unknown part type", `{"model":"m","messages":[{"role":"user","content":[{"type":"video","video":{}}]}]}`, "messages[0].content[0].type", `got "video"`},
		{"image in assistant", `{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]}`, "messages[1].content[0].type", "assistant message"},
		{"image without url", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`, "messages[0].content[0].image_url.url", "missing"},
		{"audio without format", `{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAA"}}]}]}`, "messages[0].content[0].input_audio.format", "missing"},
		{"tool message without id", `{"model":"m","messages":[{"role":"user","content":"a"},{"role":"tool","content":"r"}]}`, "messages[1].tool_call_id", "missing"},
		{"tool call without id", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f"}}]}]}`, "messages[0].tool_calls[0].id", "missing"},
		{"deprecated function_call", `{"model":"m","messages":[{"role":"assistant","function_call":{"name":"f","arguments":"{}"}}]}`, "messages[0].function_call", "deprecated"},
		{"temperature too high", `{"model":"m",` + msgs + `,"temperature":3}`, "temperature", "between 0 and 2, got 3"},
		{"temperature not a number", `{"model":"m",` + msgs + `,"temperature":"hot"}`, "temperature", "expected a number, got a string"},
		{"top_p too high", `{"model":"m",` + msgs + `,"top_p":1.5}`, "top_p", "between 0 and 1"},
		{"n zero", `{"model":"m",` + msgs + `,"n":0}`, "n", "between 1 and 128, got 0"},
		{"n fractional", `{"model":"m",` + msgs + `,"n":1.5}`, "n", "expected an integer, got 1.5"},
		{"max_tokens zero", `{"model":"m",` + msgs + `,"max_tokens":0}`, "max_tokens", "at least 1"},
		{"max_completion_tokens negative", `{"model":"m",` + msgs + `,"max_completion_tokens":-5}`, "max_completion_tokens", "at least 1"},
		{"presence_penalty out of range", `{"model":"m",` + msgs + `,"presence_penalty":-2.5}`, "presence_penalty", "between -2 and 2"},
		{"top_logprobs out of range", `{"model":"m",` + msgs + `,"top_logprobs":21}`, "top_logprobs", "between 0 and 20"},
		{"logit_bias out of range", `{"model":"m",` + msgs + `,"logit_bias":{"42":101}}`, "logit_bias", "between -100 and 100"},
		{"stop wrong type", `{"model":"m",` + msgs + `,"stop":5}`, "stop", "a string or an array of strings"},
		{"stop element wrong type", `{"model":"m",` + msgs + `,"stop":["a",5]}`, "stop[1]", "expected a string, got a number"},
		{"stream not a boolean", `{"model":"m",` + msgs + `,"stream":"yes"}`, "stream", "expected a boolean, got a string"},
		{"metadata value not a string", `{"model":"m",` + msgs + `,"metadata":{"a":1}}`, "metadata.a", "got a number"},
		{"unknown tool_choice", `{"model":"m",` + msgs + `,"tool_choice":"sometimes"}`, "tool_choice", `got "sometimes"`},
		{"tool_choice function without name", `{"model":"m",` + msgs + `,"tool_choice":{"type":"function","function":{}}}`, "tool_choice.function.name", "missing"},
		{"tool without name", `{"model":"m",` + msgs + `,"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"description":"x"}}]}`, "tools[1].function.name", "missing"},
		{"tool not an object", `{"model":"m",` + msgs + `,"tools":["f"]}`, "tools[0]", "expected an object, got a string"},
		{"unknown response format", `{"model":"m",` + msgs + `,"response_format":{"type":"yaml"}}`, "response_format.type", `got "yaml"`},
		{"json_schema without name", `{"model":"m",` + msgs + `,"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}`, "response_format.json_schema.name", "missing"},
		{"key differing in case", `{"Model":"m",` + msgs + `}`, "Model", "case-sensitive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeChatRequest([]byte(tc.body))
			if err == nil {
				t.Fatalf("no error; decoded %+v", req)
			}
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *llm.Error", err, err)
			}
			if e.Status != 400 || e.Type != llm.TypeInvalidRequest || e.Fault != llm.FaultCaller {
				t.Errorf("status, type, fault = %d, %q, %v; want 400 invalid_request_error caller", e.Status, e.Type, e.Fault)
			}
			if e.Param != tc.wantParam {
				t.Errorf("param = %q, want %q (message %q)", e.Param, tc.wantParam, e.Message)
			}
			if !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", e.Message, tc.wantMsg)
			}
		})
	}
}

// The gateway decodes from a pooled buffer that it reuses at once: nothing
// decoded may alias the body.
func TestDecodeChatRequestKeepsNoReferenceToBody(t *testing.T) {
	for _, path := range requestFixtures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			body := readFile(t, path)
			want, err := DecodeChatRequest(bytes.Clone(body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeChatRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			for i := range body {
				body[i] = 'x'
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decoded request changed when the body was overwritten (-want +got):\n%s", diff)
			}
		})
	}
}
