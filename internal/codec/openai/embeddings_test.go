package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/llm"
)

func TestDecodeEmbeddingsRequest(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *llm.EmbeddingsRequest
	}{
		{"string", `{"model":"text-embedding-3-small","input":"The food was delicious"}`,
			&llm.EmbeddingsRequest{Model: "text-embedding-3-small", Inputs: []llm.EmbeddingInput{{Text: "The food was delicious"}}, Format: "openai"}},
		{"strings with options", `{"model":"e","input":["a","b"],"encoding_format":"base64","dimensions":256,"user":"u1"}`,
			&llm.EmbeddingsRequest{Model: "e", Inputs: []llm.EmbeddingInput{{Text: "a"}, {Text: "b"}},
				EncodingFormat: "base64", Dimensions: ptr(256), User: "u1", Format: "openai"}},
		{"tokens", `{"model":"e","input":[1212, 318, 257]}`,
			&llm.EmbeddingsRequest{Model: "e", Inputs: []llm.EmbeddingInput{{Tokens: []int{1212, 318, 257}}}, Format: "openai"}},
		{"token arrays", `{"model":"e","input":[[1,2],[3]]}`,
			&llm.EmbeddingsRequest{Model: "e", Inputs: []llm.EmbeddingInput{{Tokens: []int{1, 2}}, {Tokens: []int{3}}}, Format: "openai"}},
		{"extra", `{"model":"e","input":"x","input_type":"query"}`,
			&llm.EmbeddingsRequest{Model: "e", Inputs: []llm.EmbeddingInput{{Text: "x"}}, Format: "openai",
				Extra: map[string]json.RawMessage{"input_type": json.RawMessage(`"query"`)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeEmbeddingsRequest([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// And back: encoding gives a body that decodes the same.
			body, err := EncodeEmbeddingsRequest(got, EncodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeEmbeddingsRequest(body)
			if err != nil {
				t.Fatalf("%v\n%s", err, body)
			}
			if diff := cmp.Diff(got, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeEmbeddingsRequestErrors(t *testing.T) {
	tests := []struct{ name, body, wantParam string }{
		{"not an object", `"x"`, ""},
		{"missing model", `{"input":"x"}`, "model"},
		{"missing input", `{"model":"e"}`, "input"},
		{"null input", `{"model":"e","input":null}`, "input"},
		{"empty array", `{"model":"e","input":[]}`, "input"},
		{"empty string", `{"model":"e","input":""}`, "input"},
		{"empty string in array", `{"model":"e","input":["a",""]}`, "input[1]"},
		{"number", `{"model":"e","input":5}`, "input"},
		{"mixed array", `{"model":"e","input":["a",5]}`, "input[1]"},
		{"bad token", `{"model":"e","input":[[1,"x"]]}`, "input[0][1]"},
		{"bad format", `{"model":"e","input":"x","encoding_format":"int8"}`, "encoding_format"},
		{"zero dimensions", `{"model":"e","input":"x","dimensions":0}`, "dimensions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeEmbeddingsRequest([]byte(tc.body))
			var e *llm.Error
			if !errors.As(err, &e) || e.Status != 400 {
				t.Fatalf("err = %v, want a 400 *llm.Error", err)
			}
			if e.Param != tc.wantParam {
				t.Errorf("param = %q, want %q (%s)", e.Param, tc.wantParam, e.Message)
			}
		})
	}
}

func TestEncodeEmbeddingsRequestRejects(t *testing.T) {
	_, err := EncodeEmbeddingsRequest(&llm.EmbeddingsRequest{Model: "e", Inputs: []llm.EmbeddingInput{{Text: "a"}, {Tokens: []int{1}}}}, EncodeOptions{})
	var e *llm.Error
	if !errors.As(err, &e) || e.Param != "input" {
		t.Errorf("mixed inputs: err = %v", err)
	}
	_, err = EncodeEmbeddingsRequest(&llm.EmbeddingsRequest{Model: "e", Inputs: []llm.EmbeddingInput{{Text: "a"}},
		Format: "gemini", Extra: map[string]json.RawMessage{"task_type": json.RawMessage(`"x"`)}}, EncodeOptions{Provider: "oa"})
	if !errors.As(err, &e) || e.Code != "unsupported_parameter" || e.Param != "task_type" {
		t.Errorf("extra from another format: err = %v", err)
	}
}

func TestEmbeddingsResponse(t *testing.T) {
	body := `{"object":"list","data":[
		{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292,1e-7,3.4028235e+38, 0 ,-1]},
		{"object":"embedding","index":1,"embedding":"AACAPwAAAEA="}],
		"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`
	resp, err := DecodeEmbeddingsResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.EmbeddingsResponse{Model: "text-embedding-3-small", Usage: llm.Usage{InputTokens: 8}, Data: []llm.Embedding{
		{Index: 0, Vector: []float32{0.0023064255, -0.009327292, 1e-7, math.MaxFloat32, 0, -1}},
		{Index: 1, Base64: "AACAPwAAAEA="},
	}}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	out, err := EncodeEmbeddingsResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	wantOut := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292,1e-7,3.4028235e+38,0,-1]},` +
		`{"object":"embedding","index":1,"embedding":"AACAPwAAAEA="}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`
	if diff := cmp.Diff(wantOut, string(out)); diff != "" {
		t.Errorf("encoded (-want +got):\n%s", diff)
	}
	// encoding/json writes float32 values the same way.
	std, _ := json.Marshal(resp.Data[0].Vector)
	if !json.Valid(out) || !bytes.Contains(out, std[1:len(std)-1]) {
		t.Errorf("floats differ from encoding/json's %s", std)
	}
}

func TestDecodeEmbeddingsResponseErrors(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":         `nope`,
		"no data":          `{"object":"list"}`,
		"bad vector":       `{"data":[{"index":0,"embedding":[1,"x"]}]}`,
		"nested vector":    `{"data":[{"index":0,"embedding":[[1]]}]}`,
		"error in 200":     `{"error":{"message":"bad input","type":"invalid_request_error"}}`,
		"vector is object": `{"data":[{"index":0,"embedding":{}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeEmbeddingsResponse([]byte(body))
			var e *llm.Error
			if !errors.As(err, &e) || e.Fault != llm.FaultProvider {
				t.Errorf("err = %v, want a provider *llm.Error", err)
			}
		})
	}
}

func TestModels(t *testing.T) {
	models := []llm.Model{{ID: "gpt-4o", OwnedBy: "openai", Created: 1715367049}, {ID: "chat-default", OwnedBy: "sluice"}}
	got, err := EncodeModelList(models)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"openai"},` +
		`{"id":"chat-default","object":"model","created":0,"owned_by":"sluice"}]}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if empty, _ := EncodeModelList(nil); string(empty) != `{"object":"list","data":[]}` {
		t.Errorf("empty list = %s", empty)
	}
	one, _ := EncodeModel(models[0])
	if diff := cmp.Diff(`{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"openai"}`, string(one)); diff != "" {
		t.Errorf("model (-want +got):\n%s", diff)
	}
	back, err := DecodeModelList(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(models, back); diff != "" {
		t.Errorf("decoded list (-want +got):\n%s", diff)
	}
	if _, err := DecodeModelList([]byte(`{"models":[]}`)); err == nil {
		t.Error("a list without data decoded")
	}
}
