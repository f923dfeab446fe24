package anthropic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	codec "github.com/sluicehq/sluice/internal/codec/anthropic"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// maxModelPages bounds how many pages of GET /v1/models are followed.
const maxModelPages = 20

// modelPage is one page of Anthropic's model list.
type modelPage struct {
	Data []struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
		CreatedAt   string `json:"created_at"`
	} `json:"data"`
	HasMore bool   `json:"has_more"`
	LastID  string `json:"last_id"`
}

// ListModels returns the models the upstream lists (following pagination),
// then the configured extra models it did not list, in that order.
func (p *Provider) ListModels(ctx context.Context) ([]llm.Model, error) {
	ctx, cancel := p.withTimeout(ctx)
	defer cancel()
	var out []llm.Model
	seen := make(map[string]bool)
	after := ""
	for range maxModelPages {
		q := url.Values{"limit": {"1000"}}
		if after != "" {
			q.Set("after_id", after)
		}
		u := provider.JoinURL(p.base, "v1/models", q.Encode()).String()
		cred := provider.Pick(p.creds)
		resp, err := provider.SendWith(p.client, p.newRequest(ctx, http.MethodGet, u, nil, "application/json", cred),
			p.name, codec.DecodeError, p.creds, cred)
		if err != nil {
			return nil, err
		}
		data, err := p.readAll(ctx, resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		var page modelPage
		if err := json.Unmarshal(data, &page); err != nil {
			return nil, &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "invalid_upstream_response",
				Message:  fmt.Sprintf("provider %q sent a model list the gateway cannot read", p.name),
				Provider: p.name, Fault: llm.FaultProvider, Err: fmt.Errorf("anthropic: decode model list: %w", err)}
		}
		for _, m := range page.Data {
			if m.ID == "" || seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			var created int64
			if t, err := time.Parse(time.RFC3339, m.CreatedAt); err == nil {
				created = t.Unix()
			}
			out = append(out, llm.Model{ID: m.ID, OwnedBy: provider.WireAnthropic, Created: created})
		}
		if !page.HasMore || page.LastID == "" || page.LastID == after {
			break
		}
		after = page.LastID
	}
	for _, id := range p.models {
		if !seen[id] {
			seen[id] = true
			out = append(out, llm.Model{ID: id, OwnedBy: provider.WireAnthropic})
		}
	}
	return out, nil
}
