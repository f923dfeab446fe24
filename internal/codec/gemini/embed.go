package gemini

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/llm"
)

// EncodeEmbedRequest returns the batchEmbedContents body embedding every
// input of req with model (with or without the "models/" prefix).
// Dimensions becomes outputDimensionality. Token-array inputs are rejected
// (Gemini embeds text only), and so are Extra fields: the canonical
// request has no place for Gemini's per-input options. EncodingFormat needs nothing here: Gemini answers
// with floats and the egress codec encodes base64 itself. User is dropped,
// as for chat.
func EncodeEmbedRequest(model string, req *llm.EmbeddingsRequest, opt EncodeOptions) ([]byte, error) {
	prov := opt.provider()
	if len(req.Inputs) == 0 {
		return nil, llm.BadRequest("input", "input must not be empty")
	}
	if len(req.Extra) > 0 {
		return nil, llm.Unsupported(prov, firstKey(req.Extra))
	}
	if req.Dimensions != nil && *req.Dimensions <= 0 {
		return nil, llm.BadRequest("dimensions", "dimensions must be a positive integer")
	}
	name := model
	if !strings.HasPrefix(name, "models/") {
		name = "models/" + name
	}
	er := embedRequest{Requests: make([]embedContentRequest, len(req.Inputs))}
	for i, in := range req.Inputs {
		if in.Tokens != nil {
			return nil, llm.Unsupported(prov, "input")
		}
		er.Requests[i] = embedContentRequest{
			Model:                name,
			Content:              content{Parts: []part{{Text: in.Text}}},
			OutputDimensionality: req.Dimensions,
		}
	}
	return marshal(&er, nil, nil)
}

// DecodeEmbedResponse converts a batchEmbedContents answer. Gemini reports
// no token usage for embeddings, so Usage is zero; Model is left for the
// caller to set.
func DecodeEmbedResponse(body []byte) (*llm.EmbeddingsResponse, error) {
	var er embedResponse
	if err := json.Unmarshal(body, &er); err != nil {
		return nil, invalidResponse("", fmt.Errorf("gemini: decode embeddings: %w", err))
	}
	out := &llm.EmbeddingsResponse{Data: make([]llm.Embedding, len(er.Embeddings))}
	for i := range er.Embeddings {
		out.Data[i] = llm.Embedding{Index: i, Vector: er.Embeddings[i].Values}
	}
	return out, nil
}
