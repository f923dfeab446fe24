package anthropic

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

var requestFixtures = []string{"basic", "tools", "thinking", "multimodal", "extra", "server_tools"}

// TestDecodeMessagesRequestGolden decodes recorded-shape Anthropic requests
// and compares the canonical form with golden files.
func TestDecodeMessagesRequestGolden(t *testing.T) {
	for _, name := range requestFixtures {
		t.Run(name, func(t *testing.T) {
			req, err := DecodeMessagesRequest(readFile(t, filepath.Join("requests", name+".json")))
			if err != nil {
				t.Fatal(err)
			}
			if req.Format != Format {
				t.Errorf("Format = %q, want %q", req.Format, Format)
			}
			golden(t, filepath.Join("requests", name+".llm.golden.json"), canonicalJSON(t, req))
		})
	}
}

// TestRequestRoundTrip checks that an Anthropic request survives decode →
// encode → decode unchanged, and that the encoded body is what an Anthropic
// upstream gets (golden).
func TestRequestRoundTrip(t *testing.T) {
	for _, name := range requestFixtures {
		t.Run(name, func(t *testing.T) {
			first, err := DecodeMessagesRequest(readFile(t, filepath.Join("requests", name+".json")))
			if err != nil {
				t.Fatal(err)
			}
			body, err := EncodeMessagesRequest(first, EncodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("requests", name+".out.golden.json"), jsonValue(t, body))
			second, err := DecodeMessagesRequest(body)
			if err != nil {
				t.Fatalf("re-decode: %v\n%s", err, body)
			}
			if diff := cmp.Diff(first, second, jsonEqual); diff != "" {
				t.Errorf("round trip changed the request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeMessagesRequestErrors(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantParam string
		wantMsg   string // substring
	}{
		{"invalid json", `{"model":`, "", "not valid JSON"},
		{"not an object", `[1,2]`, "", "must be a JSON object"},
		{"invalid utf8", "{\"model\":\"m\xff\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "", "UTF-8"},
		{"missing model", `{"max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, "model", "field required"},
		{"missing max_tokens", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, "max_tokens", "field required"},
		{"null max_tokens", `{"model":"m","max_tokens":null,"messages":[{"role":"user","content":"x"}]}`, "max_tokens", "field required"},
		{"negative max_tokens", `{"model":"m","max_tokens":-1,"messages":[{"role":"user","content":"x"}]}`, "max_tokens", "greater than or equal to 0"},
		{"string max_tokens", `{"model":"m","max_tokens":"1","messages":[]}`, "max_tokens", "expected an integer, got a string"},
		{"missing messages", `{"model":"m","max_tokens":1}`, "messages", "at least one"},
		{"messages not array", `{"model":"m","max_tokens":1,"messages":{}}`, "messages", "expected an array"},
		{"system role", `{"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]}`, "messages[0].role", "top-level"},
		{"missing role", `{"model":"m","max_tokens":1,"messages":[{"content":"x"}]}`, "messages[0].role", "field required"},
		{"content number", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":1}]}`, "messages[0].content", "string or an array"},
		{"content missing", `{"model":"m","max_tokens":1,"messages":[{"role":"user"}]}`, "messages[0].content", "string or an array"},
		{"block without type", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"text":"x"}]}]}`, "messages[0].content[0].type", "field required"},
		{"tool_use in user", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"b","input":{}}]}]}`, "messages[0].content[0].type", "assistant"},
		{"tool_result in assistant", `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"a"}]}]}`, "messages[0].content[0].type", "user"},
		{"tool_result without id", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}`, "messages[0].content[0].tool_use_id", "field required"},
		{"tool_use without name", `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","input":{}}]}]}`, "messages[0].content[0]", "id and a name"},
		{"image bad source", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"ftp"}}]}]}`, "messages[0].content[0].source.type", "base64"},
		{"image without data", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png"}}]}]}`, "messages[0].content[0].source.data", "field required"},
		{"nested tool_use in result", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"tool_use","id":"x","name":"y"}]}]}]}`, "messages[0].content[0].content[0].type", "cannot be tool results"},
		{"system image", `{"model":"m","max_tokens":1,"system":[{"type":"image","source":{"type":"url","url":"u"}}],"messages":[{"role":"user","content":"x"}]}`, "system[0].type", "text blocks"},
		{"tool without name", `{"model":"m","max_tokens":1,"tools":[{"input_schema":{}}],"messages":[{"role":"user","content":"x"}]}`, "tools[0].name", "field required"},
		{"tool without schema", `{"model":"m","max_tokens":1,"tools":[{"name":"t"}],"messages":[{"role":"user","content":"x"}]}`, "tools[0].input_schema", "field required"},
		{"tool_choice unknown", `{"model":"m","max_tokens":1,"tool_choice":{"type":"some"},"messages":[{"role":"user","content":"x"}]}`, "tool_choice.type", "must be one of"},
		{"tool_choice tool without name", `{"model":"m","max_tokens":1,"tool_choice":{"type":"tool"},"messages":[{"role":"user","content":"x"}]}`, "tool_choice.name", "field required"},
		{"thinking without budget", `{"model":"m","max_tokens":1,"thinking":{"type":"enabled"},"messages":[{"role":"user","content":"x"}]}`, "thinking.budget_tokens", "field required"},
		{"thinking budget string", `{"model":"m","max_tokens":1,"thinking":{"type":"enabled","budget_tokens":"x"},"messages":[{"role":"user","content":"x"}]}`, "thinking.budget_tokens", "expected an integer"},
		{"thinking not object", `{"model":"m","max_tokens":1,"thinking":true,"messages":[{"role":"user","content":"x"}]}`, "thinking", "expected an object"},
		{"thinking without type", `{"model":"m","max_tokens":1,"thinking":{},"messages":[{"role":"user","content":"x"}]}`, "thinking.type", "field required"},
		{"text not a string", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":5}]}]}`, "messages[0].content[0].text", "expected a string, got a number"},
		{"message not an object", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"},"hi"]}`, "messages[1]", "expected an object, got a string"},
		{"role not a string", `{"model":"m","max_tokens":1,"messages":[{"role":1,"content":"x"}]}`, "messages[0].role", "expected a string"},
		{"nested text not a string", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"text","text":[]}]}]}]}`, "messages[0].content[0].content[0].text", "got an array"},
		{"is_error not a bool", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","is_error":"yes"}]}]}`, "messages[0].content[0].is_error", "expected a boolean"},
		{"source data not a string", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","data":1}}]}]}`, "messages[0].content[0].source.data", "expected a string"},
		{"temperature string", `{"model":"m","max_tokens":1,"temperature":"hot","messages":[{"role":"user","content":"x"}]}`, "temperature", "expected a number"},
		{"top_k float", `{"model":"m","max_tokens":1,"top_k":1.5,"messages":[{"role":"user","content":"x"}]}`, "top_k", "expected an integer"},
		{"stop_sequences item", `{"model":"m","max_tokens":1,"stop_sequences":["a",1],"messages":[{"role":"user","content":"x"}]}`, "stop_sequences[1]", "expected a string"},
		{"tools not array", `{"model":"m","max_tokens":1,"tools":{},"messages":[{"role":"user","content":"x"}]}`, "tools", "expected an array"},
		{"tool name not string", `{"model":"m","max_tokens":1,"tools":[{"name":1,"input_schema":{}}],"messages":[{"role":"user","content":"x"}]}`, "tools[0].name", "expected a string"},
		{"user_id not string", `{"model":"m","max_tokens":1,"metadata":{"user_id":7},"messages":[{"role":"user","content":"x"}]}`, "metadata.user_id", "expected a string"},
		{"system number", `{"model":"m","max_tokens":1,"system":3,"messages":[{"role":"user","content":"x"}]}`, "system", "expected a string or an array"},
		{"tool_choice string", `{"model":"m","max_tokens":1,"tool_choice":"auto","messages":[{"role":"user","content":"x"}]}`, "tool_choice", "expected an object"},
		{"stream not bool", `{"model":"m","max_tokens":1,"stream":"yes","messages":[{"role":"user","content":"x"}]}`, "stream", "expected a boolean"},
		{"opaque block fields are not checked", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"x","text":1}]},{"role":"user","content":[{"type":"text","text":2}]}]}`, "messages[1].content[0].text", "expected a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeMessagesRequest([]byte(tc.body))
			if err == nil {
				t.Fatalf("no error; decoded %+v", req)
			}
			e := llmError(t, err)
			if e.Status != http.StatusBadRequest || e.Type != llm.TypeInvalidRequest || e.Fault != llm.FaultCaller {
				t.Errorf("error = %d %s fault %s, want 400 %s caller", e.Status, e.Type, e.Fault, llm.TypeInvalidRequest)
			}
			if e.Param != tc.wantParam {
				t.Errorf("Param = %q, want %q (message %q)", e.Param, tc.wantParam, e.Message)
			}
			if !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tc.wantMsg)
			}
		})
	}
}

// TestDecodeMessagesRequestShapes checks individual mappings the golden
// files would bury.
func TestDecodeMessagesRequestShapes(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, r *llm.Request)
	}{
		{"stream asks for usage", `{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}`,
			func(t *testing.T, r *llm.Request) {
				if !r.Stream || !r.IncludeUsage {
					t.Errorf("Stream, IncludeUsage = %v, %v; want true, true", r.Stream, r.IncludeUsage)
				}
			}},
		{"max_tokens zero kept", `{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}`,
			func(t *testing.T, r *llm.Request) {
				if r.MaxTokens == nil || *r.MaxTokens != 0 {
					t.Errorf("MaxTokens = %v, want pointer to 0", r.MaxTokens)
				}
			}},
		{"tool results split around text", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[
			{"type":"text","text":"a"},{"type":"tool_result","tool_use_id":"t1"},{"type":"tool_result","tool_use_id":"t2","content":""},{"type":"text","text":"b"}]}]}`,
			func(t *testing.T, r *llm.Request) {
				want := []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("a")}},
					{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "t1"}}}},
					{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "t2", Parts: []llm.Part{llm.TextPart("")}}}}},
					{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("b")}},
				}
				if diff := cmp.Diff(want, r.Messages); diff != "" {
					t.Errorf("messages (-want +got):\n%s", diff)
				}
			}},
		{"escaped keys", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"\u006detadata":{"user_id":"u"},"x\"y":1}`,
			func(t *testing.T, r *llm.Request) {
				if r.User != "u" {
					t.Errorf("User = %q, want u", r.User)
				}
				if diff := cmp.Diff(map[string]string{`x"y`: "1"}, stringMap(r.Extra)); diff != "" {
					t.Errorf("Extra (-want +got):\n%s", diff)
				}
			}},
		{"null fields", `{"model":"m","max_tokens":5,"system":null,"tools":null,"tool_choice":null,"thinking":null,"metadata":null,"messages":[{"role":"user","content":[{"type":"text","text":"x","cache_control":null,"citations":null}]}]}`,
			func(t *testing.T, r *llm.Request) {
				want := []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("x")}}}
				if diff := cmp.Diff(want, r.Messages); diff != "" || r.Tools != nil || r.ToolChoice != nil || r.Reasoning != nil || r.Extra != nil {
					t.Errorf("null fields were not treated as absent: %+v\n%s", r, diff)
				}
			}},
		{"thinking disabled", `{"model":"m","max_tokens":5,"thinking":{"type":"disabled"},"messages":[{"role":"user","content":"x"}]}`,
			func(t *testing.T, r *llm.Request) {
				if diff := cmp.Diff(&llm.Reasoning{Disabled: true}, r.Reasoning); diff != "" {
					t.Errorf("Reasoning (-want +got):\n%s", diff)
				}
			}},
		{"tool choice none and auto", `{"model":"m","max_tokens":5,"tool_choice":{"type":"auto","disable_parallel_tool_use":true},"messages":[{"role":"user","content":"x"}]}`,
			func(t *testing.T, r *llm.Request) {
				if diff := cmp.Diff(&llm.ToolChoice{Mode: llm.ToolChoiceAuto, DisableParallel: true}, r.ToolChoice); diff != "" {
					t.Errorf("ToolChoice (-want +got):\n%s", diff)
				}
			}},
		{"does not alias the body", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"zz":{"a":1}}`,
			func(t *testing.T, r *llm.Request) {
				if string(r.Extra["zz"]) != `{"a":1}` {
					t.Errorf("Extra[zz] = %s", r.Extra["zz"])
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			r, err := DecodeMessagesRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			for i := range body {
				body[i] = 'X' // the request must not alias the body
			}
			tc.check(t, r)
		})
	}
}

func stringMap[V ~[]byte](m map[string]V) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}
