package gemini

import (
	"context"
	"fmt"
	"net/http"

	codec "github.com/sluicehq/sluice/internal/codec/gemini"
	"github.com/sluicehq/sluice/internal/llm"
)

// Embed embeds every input with one models/{model}:batchEmbedContents call.
// The response's Model is req.Model; Gemini reports no token usage for
// embeddings.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbeddingsRequest) (*llm.EmbeddingsResponse, error) {
	path, err := modelPath(req.Model, "batchEmbedContents")
	if err != nil {
		return nil, p.own(err)
	}
	body, err := codec.EncodeEmbedRequest(req.Model, req, codec.EncodeOptions{Provider: p.name})
	if err != nil {
		return nil, p.own(err)
	}
	b, err := p.post(ctx, path, body)
	if err != nil {
		return nil, err
	}
	out, err := codec.DecodeEmbedResponse(b)
	if err != nil {
		return nil, p.own(err)
	}
	if len(out.Data) != len(req.Inputs) {
		return nil, &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "invalid_upstream_response",
			Message: "the provider returned a different number of embeddings than inputs", Provider: p.name,
			Fault: llm.FaultProvider, Err: fmt.Errorf("gemini: %d embeddings for %d inputs", len(out.Data), len(req.Inputs))}
	}
	out.Model = req.Model
	return out, nil
}
