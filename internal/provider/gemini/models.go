package gemini

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// maxModelPages bounds how many pages of the model list ListModels reads
// (at 1000 models a page, far more than Google serves).
const maxModelPages = 20

// modelList is one page of GET /v1beta/models.
type modelList struct {
	Models []struct {
		Name string `json:"name"`
	} `json:"models"`
	NextPageToken string `json:"nextPageToken"`
}

// ListModels returns the models the API key can use, following the list's
// pages, with the "models/" prefix stripped from their names. OwnedBy is
// "google"; Gemini gives no creation time.
func (p *Provider) ListModels(ctx context.Context) ([]llm.Model, error) {
	ctx, cancel := p.withTimeout(ctx)
	defer cancel()
	var out []llm.Model
	token := ""
	for page := 0; page < maxModelPages; page++ {
		q := "pageSize=1000"
		if token != "" {
			q += "&pageToken=" + url.QueryEscape(token)
		}
		cred := provider.Pick(p.creds)
		hr, err := p.newRequest(ctx, http.MethodGet, "models", q, nil, cred)
		if err != nil {
			return nil, err
		}
		resp, err := p.send(hr, cred)
		if err != nil {
			return nil, err
		}
		b, err := p.readAll(ctx, resp)
		if err != nil {
			return nil, err
		}
		var ml modelList
		if err := json.Unmarshal(b, &ml); err != nil {
			return nil, &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "invalid_upstream_response",
				Message: "the provider sent a model list the gateway could not read", Provider: p.name,
				Fault: llm.FaultProvider, Err: fmt.Errorf("gemini: decode model list: %w", err)}
		}
		for _, m := range ml.Models {
			if id := strings.TrimPrefix(m.Name, "models/"); id != "" {
				out = append(out, llm.Model{ID: id, OwnedBy: "google"})
			}
		}
		if ml.NextPageToken == "" || ml.NextPageToken == token {
			break
		}
		token = ml.NextPageToken
	}
	return out, nil
}
