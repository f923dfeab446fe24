package gemini

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/llm"
)

func TestEncodeEmbedRequest(t *testing.T) {
	tests := []struct {
		name  string
		model string
		req   *llm.EmbeddingsRequest
	}{
		{"two_inputs", "text-embedding-004", &llm.EmbeddingsRequest{
			Inputs: []llm.EmbeddingInput{{Text: "hello"}, {Text: "<world>"}}, EncodingFormat: "base64", User: "u1"}},
		{"dimensions_prefixed_model", "models/gemini-embedding-001", &llm.EmbeddingsRequest{
			Inputs: []llm.EmbeddingInput{{Text: "a"}}, Dimensions: ptr(768)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeEmbedRequest(tc.model, tc.req, EncodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "embed/"+tc.name+".json", got)
		})
	}
}

func TestEncodeEmbedRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		req  *llm.EmbeddingsRequest
		want errFields
	}{
		{"tokens", &llm.EmbeddingsRequest{Inputs: []llm.EmbeddingInput{{Tokens: []int{1, 2}}}},
			errFields{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Code: "unsupported_parameter", Param: "input", Provider: "g", Fault: llm.FaultCaller}},
		{"empty", &llm.EmbeddingsRequest{},
			errFields{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Param: "input", Fault: llm.FaultCaller}},
		{"extra", &llm.EmbeddingsRequest{Inputs: []llm.EmbeddingInput{{Text: "a"}}, Extra: map[string]json.RawMessage{"task_type": []byte(`"x"`)}},
			errFields{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Code: "unsupported_parameter", Param: "task_type", Provider: "g", Fault: llm.FaultCaller}},
		{"bad dimensions", &llm.EmbeddingsRequest{Inputs: []llm.EmbeddingInput{{Text: "a"}}, Dimensions: ptr(0)},
			errFields{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Param: "dimensions", Fault: llm.FaultCaller}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EncodeEmbedRequest("m", tc.req, EncodeOptions{Provider: "g"})
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tc.want, fieldsOf(t, err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeEmbedResponse(t *testing.T) {
	got, err := DecodeEmbedResponse([]byte(`{"embeddings":[{"values":[0.5,-1,0.25]},{"values":[1e-3]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.EmbeddingsResponse{Data: []llm.Embedding{
		{Index: 0, Vector: []float32{0.5, -1, 0.25}},
		{Index: 1, Vector: []float32{0.001}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := DecodeEmbedResponse([]byte(`{"embeddings":"no"}`)); err == nil {
		t.Error("a malformed answer decoded without error")
	}
}
