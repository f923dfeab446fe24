package openai

import (
	"context"
	"net/http"

	oaicodec "github.com/sluicehq/sluice/internal/codec/openai"
	"github.com/sluicehq/sluice/internal/llm"
)

// Embed sends an embeddings request. cfg.Timeout bounds the whole call.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbeddingsRequest) (*llm.EmbeddingsResponse, error) {
	body, err := oaicodec.EncodeEmbeddingsRequest(req, p.encode)
	if err != nil {
		return nil, err
	}
	u, err := p.endpoint(p.embedURL, req.Model, "embeddings")
	if err != nil {
		return nil, err
	}
	raw, err := p.call(ctx, http.MethodPost, u, body)
	if err != nil {
		return nil, err
	}
	resp, err := oaicodec.DecodeEmbeddingsResponse(raw)
	if err != nil {
		return nil, p.own(err)
	}
	return resp, nil
}

// ListModels asks the upstream for its models (GET {base}/models). Azure has
// no such list per resource: its models are the configured deployments.
// The gateway adds cfg.Models to other providers' lists itself.
func (p *Provider) ListModels(ctx context.Context) ([]llm.Model, error) {
	if p.azure {
		models := make([]llm.Model, len(p.models))
		for i, m := range p.models {
			models[i] = llm.Model{ID: m, OwnedBy: p.name}
		}
		return models, nil
	}
	raw, err := p.call(ctx, http.MethodGet, p.modelsURL, nil)
	if err != nil {
		return nil, err
	}
	models, err := oaicodec.DecodeModelList(raw)
	if err != nil {
		return nil, p.own(err)
	}
	return models, nil
}
