package openai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

type embeddingsResponseWire struct {
	Data []struct {
		Index     int           `json:"index"`
		Embedding embeddingWire `json:"embedding"`
	} `json:"data"`
	Model string `json:"model"`
	Usage *struct {
		PromptTokens int `json:"prompt_tokens"`
	} `json:"usage"`
	Error *wireError `json:"error"`
}

// embeddingWire is a vector: an array of numbers, or a base64 string.
// Arrays are parsed directly rather than through reflection: a response
// holds thousands of numbers.
type embeddingWire struct {
	vector []float32
	base64 string
}

func (e *embeddingWire) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case '"':
		var err error
		e.base64, err = jsonw.Unquote(b)
		return err
	case '[':
	default:
		return typeError(b, embeddingType)
	}
	n := 1
	for _, c := range b {
		if c == ',' {
			n++
		}
	}
	v := make([]float32, 0, n)
	for i := 1; i < len(b); {
		i = jsonw.SkipSpace(b, i)
		if b[i] == ']' {
			break
		}
		j := i
		for j < len(b) && b[j] != ',' && b[j] != ']' && !jsonw.IsSpace(b[j]) {
			j++
		}
		f, err := strconv.ParseFloat(string(b[i:j]), 32)
		if err != nil {
			return typeError(b[i:j], embeddingType)
		}
		v = append(v, float32(f))
		i = jsonw.SkipSpace(b, j)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
	e.vector = v
	return nil
}

// DecodeEmbeddingsResponse decodes an upstream's Embeddings response; base64
// vectors are kept encoded. Errors are *llm.Error values (Provider empty).
func DecodeEmbeddingsResponse(body []byte) (*llm.EmbeddingsResponse, error) {
	var w embeddingsResponseWire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, invalidResponse(err)
	}
	if w.Error != nil && w.Error.Message != "" {
		return nil, streamError("", *w.Error)
	}
	if w.Data == nil {
		return nil, invalidResponse(fmt.Errorf("openai: embeddings response has no data"))
	}
	resp := &llm.EmbeddingsResponse{Model: w.Model, Data: make([]llm.Embedding, len(w.Data))}
	for i := range w.Data {
		d := &w.Data[i]
		resp.Data[i] = llm.Embedding{Index: d.Index, Vector: d.Embedding.vector, Base64: d.Embedding.base64}
	}
	if w.Usage != nil {
		resp.Usage.InputTokens = w.Usage.PromptTokens
	}
	return resp, nil
}

// EncodeEmbeddingsResponse encodes resp as OpenAI's embeddings list. Floats
// are written as encoding/json writes float32 values.
func EncodeEmbeddingsResponse(resp *llm.EmbeddingsResponse) ([]byte, error) {
	size := 128 + len(resp.Model)
	for i := range resp.Data {
		size += 64 + 12*len(resp.Data[i].Vector) + len(resp.Data[i].Base64)
	}
	dst := make([]byte, 0, size)
	dst = append(dst, `{"object":"list","data":[`...)
	for i := range resp.Data {
		e := &resp.Data[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"object":"embedding","index":`...)
		dst = jsonw.AppendInt(dst, int64(e.Index))
		dst = append(dst, `,"embedding":`...)
		if e.Base64 != "" {
			dst = jsonw.AppendString(dst, e.Base64)
		} else {
			dst = append(dst, '[')
			for j, f := range e.Vector {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = jsonw.AppendFloat(dst, float64(f), 32)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `],"model":`...)
	dst = jsonw.AppendString(dst, resp.Model)
	dst = append(dst, `,"usage":{"prompt_tokens":`...)
	dst = jsonw.AppendInt(dst, int64(resp.Usage.InputTokens))
	dst = append(dst, `,"total_tokens":`...)
	dst = jsonw.AppendInt(dst, int64(resp.Usage.TotalTokens()))
	return append(dst, "}}"...), nil
}

// EncodeVectorsBase64 turns float vectors into OpenAI's base64 form
// (little-endian float32), for clients that asked for encoding_format
// "base64" from a provider that answers with floats (Gemini). Embeddings
// already in base64 are left as they are.
func EncodeVectorsBase64(resp *llm.EmbeddingsResponse) {
	for i := range resp.Data {
		e := &resp.Data[i]
		if e.Base64 != "" || e.Vector == nil {
			continue
		}
		raw := make([]byte, 4*len(e.Vector))
		for j, f := range e.Vector {
			binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(f))
		}
		e.Base64, e.Vector = base64.StdEncoding.EncodeToString(raw), nil
	}
}
