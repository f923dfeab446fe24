package mock_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sluicehq/sluice/internal/mock"
)

type openAIEmbeddings struct {
	Object string `json:"object"`
	Data   []struct {
		Object    string          `json:"object"`
		Index     int             `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
	Model string `json:"model"`
	Usage struct {
		Prompt int `json:"prompt_tokens"`
		Total  int `json:"total_tokens"`
	} `json:"usage"`
}

// vectors decodes every embedding, float or base64.
func (e *openAIEmbeddings) vectors(t testing.TB) [][]float32 {
	t.Helper()
	var out [][]float32
	for i, d := range e.Data {
		if d.Index != i || d.Object != "embedding" {
			t.Errorf("data[%d]: index %d object %q", i, d.Index, d.Object)
		}
		var v []float32
		if err := json.Unmarshal(d.Embedding, &v); err != nil {
			var s string
			if err := json.Unmarshal(d.Embedding, &s); err != nil {
				t.Fatalf("embedding %s is neither floats nor base64", d.Embedding)
			}
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil || len(raw)%4 != 0 {
				t.Fatalf("bad base64 embedding %q: %v", s, err)
			}
			for k := 0; k < len(raw); k += 4 {
				v = append(v, math.Float32frombits(binary.LittleEndian.Uint32(raw[k:])))
			}
		}
		out = append(out, v)
	}
	return out
}

func embedOpenAI(t testing.TB, body string) (openAIEmbeddings, [][]float32) {
	t.Helper()
	_, srv := newServer(t, mock.Options{})
	resp, b := call(t, srv, "POST", "/v1/embeddings", body)
	var e openAIEmbeddings
	if err := json.Unmarshal(b, &e); err != nil || resp.StatusCode != 200 || e.Object != "list" {
		t.Fatalf("status %d: %s (%v)", resp.StatusCode, b, err)
	}
	return e, e.vectors(t)
}

func TestOpenAIEmbeddings(t *testing.T) {
	tests := []struct {
		name, body                        string
		wantVectors, wantDims, wantTokens int
	}{
		{"one string", `{"model":"text-embedding-3-small","input":"hello world"}`, 1, 8, 3},
		{"strings", `{"model":"m","input":["a","bcdef"]}`, 2, 8, 3},
		{"dimensions", `{"model":"m","input":"a","dimensions":64}`, 1, 64, 1},
		{"base64", `{"model":"m","input":["a","b"],"encoding_format":"base64","dimensions":16}`, 2, 16, 2},
		{"tokens", `{"model":"m","input":[1,2,3]}`, 1, 8, 3},
		{"token arrays", `{"model":"m","input":[[1,2],[3]]}`, 2, 8, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, vecs := embedOpenAI(t, tc.body)
			if len(vecs) != tc.wantVectors || e.Usage.Prompt != tc.wantTokens || e.Usage.Total != tc.wantTokens {
				t.Fatalf("%d vectors, %d/%d tokens; want %d vectors, %d tokens",
					len(vecs), e.Usage.Prompt, e.Usage.Total, tc.wantVectors, tc.wantTokens)
			}
			for i, v := range vecs {
				if len(v) != tc.wantDims {
					t.Errorf("vector %d has %d dims, want %d", i, len(v), tc.wantDims)
				}
				var sum float64
				for _, f := range v {
					sum += float64(f) * float64(f)
				}
				if math.Abs(math.Sqrt(sum)-1) > 1e-5 {
					t.Errorf("vector %d has norm %v, want 1", i, math.Sqrt(sum))
				}
			}
			if len(vecs) == 2 && cmp.Equal(vecs[0], vecs[1]) {
				t.Errorf("different inputs gave the same vector")
			}
		})
	}
}

func TestEmbeddingsAreDeterministicAcrossFormatsAndAPIs(t *testing.T) {
	_, floats := embedOpenAI(t, `{"model":"m","input":"same text","dimensions":12}`)
	_, again := embedOpenAI(t, `{"model":"m","input":["same text"],"dimensions":12}`)
	_, b64 := embedOpenAI(t, `{"model":"m","input":"same text","dimensions":12,"encoding_format":"base64"}`)
	if diff := cmp.Diff(floats, again); diff != "" {
		t.Errorf("same input, different vectors (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(floats, b64); diff != "" {
		t.Errorf("base64 differs from floats (-float +base64):\n%s", diff)
	}

	_, srv := newServer(t, mock.Options{})
	for _, path := range []string{"embedContent", "batchEmbedContents"} {
		body := `{"content":{"parts":[{"text":"same "},{"text":"text"}]},"outputDimensionality":12}`
		if path == "batchEmbedContents" {
			body = `{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"same text"}]},"outputDimensionality":12}]}`
		}
		resp, b := call(t, srv, "POST", "/v1beta/models/text-embedding-004:"+path, body)
		var got struct {
			Embedding  struct{ Values []float32 } `json:"embedding"`
			Embeddings []struct{ Values []float32 }
		}
		if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", path, resp.StatusCode, b)
		}
		values := got.Embedding.Values
		if len(got.Embeddings) == 1 {
			values = got.Embeddings[0].Values
		}
		if diff := cmp.Diff(floats[0], values, cmpopts.EquateApprox(0, 1e-7)); diff != "" {
			t.Errorf("%s: Gemini vector differs from OpenAI's for the same text (-openai +gemini):\n%s", path, diff)
		}
	}
}

// cosine is the dot product of two unit vectors.
func cosine(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// TestEmbeddingSimilarityFollowsWording guards the promise in the package
// doc: paraphrases with the same content words are close, unrelated
// questions are near orthogonal, and case, punctuation, stop words and
// plurals do not matter.
func TestEmbeddingSimilarityFollowsWording(t *testing.T) {
	const france = "What is the capital of France?"
	tests := []struct {
		name, other string
		dims        int
		min, max    float64
	}{
		{"paraphrase", "Tell me the capital of France", 256, 0.8, 0.83},
		{"paraphrase at 1536", "Tell me the capital of France", 1536, 0.8, 0.83},
		{"paraphrase at the default size", "Tell me the capital of France", 0, 0.7, 0.72},
		{"unrelated", "How do I bake bread?", 256, -0.05, 0.05},
		{"same words", "what's THE capital of france", 256, 0.999, 1.001},
		{"plural and apostrophe", "capitals of Frances'", 256, 0.999, 1.001},
		{"one word in common", "Paris is the capital", 256, 0.45, 0.55},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dims := ""
			if tc.dims > 0 {
				dims = `,"dimensions":` + strconv.Itoa(tc.dims)
			}
			_, vecs := embedOpenAI(t, `{"model":"m","input":[`+strconv.Quote(france)+`,`+strconv.Quote(tc.other)+`]`+dims+`}`)
			if sim := cosine(vecs[0], vecs[1]); sim < tc.min || sim > tc.max {
				t.Errorf("similarity of %q and %q is %.3f, want [%v, %v]", france, tc.other, sim, tc.min, tc.max)
			}
		})
	}
}

// TestTokenArraysKeepSeededVectors guards the seeded vectors that predate
// the bag of words, for token arrays and texts without a word: values
// pinned from the earlier implementation.
func TestTokenArraysKeepSeededVectors(t *testing.T) {
	_, vecs := embedOpenAI(t, `{"model":"m","input":[1,2,3],"dimensions":4}`)
	_, again := embedOpenAI(t, `{"model":"m","input":[[1,2,3]],"dimensions":4}`)
	want := [][]float32{{0.9276311, -0.29398713, -0.12800467, -0.19153842}}
	if diff := cmp.Diff(want, vecs); diff != "" {
		t.Errorf("token-array vector changed (-before +now):\n%s", diff)
	}
	if diff := cmp.Diff(vecs, again); diff != "" {
		t.Errorf("same tokens, different vectors (-first +second):\n%s", diff)
	}
	_, noWords := embedOpenAI(t, `{"model":"m","input":"?!","dimensions":4}`)
	if diff := cmp.Diff([][]float32{{-0.28851256, -0.88470393, 0.33784923, 0.141129}}, noWords); diff != "" {
		t.Errorf("a text without words lost its seeded vector (-before +now):\n%s", diff)
	}
	_, text := embedOpenAI(t, `{"model":"m","input":"1 2 3","dimensions":4}`)
	if cmp.Equal(vecs[0], text[0]) {
		t.Errorf("a token array and a text share the vector %v", vecs[0])
	}
}
