package gateway

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	oaicodec "github.com/sluicehq/sluice/internal/codec/openai"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// Model list freshness: upstream lists are fetched on first use, answered
// from memory afterwards, and refreshed in the background when older than
// modelsTTL. A provider that does not answer within modelsFetchTimeout
// contributes only the models its config advertises.
const (
	modelsTTL          = 10 * time.Minute
	modelsFetchTimeout = 5 * time.Second
)

// modelCatalog is the answer to GET /v1/models: the configured virtual
// models, then "provider/model" for every model each provider lists or
// advertises in config. One fetch runs at a time, detached from the
// client that triggered it (a client hanging up must not leave a
// truncated list cached); a list missing a provider that failed is
// refreshed after modelsRetry rather than modelsTTL.
type modelCatalog struct {
	g        *Gateway
	s        *snapshot // the config the list is made from
	mu       sync.Mutex
	models   []llm.Model
	expires  time.Time
	inflight chan struct{} // non-nil while a fetch runs; closed when it ends
}

// modelsRetry is how soon a list with a failed provider is fetched again.
const modelsRetry = 30 * time.Second

func newModelCatalog(g *Gateway, s *snapshot) *modelCatalog { return &modelCatalog{g: g, s: s} }

// list returns the catalog. The first call waits for a fetch (or for ctx);
// later ones answer from memory and start a background refresh when the
// list has expired.
func (c *modelCatalog) list(ctx context.Context) []llm.Model {
	c.mu.Lock()
	models, fresh := c.models, time.Now().Before(c.expires)
	wait := c.inflight
	if !fresh && wait == nil {
		wait = make(chan struct{})
		c.inflight = wait
		go c.refresh(wait)
	}
	c.mu.Unlock()
	if models != nil {
		return models
	}
	select {
	case <-wait:
	case <-ctx.Done():
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.models
}

func (c *modelCatalog) refresh(done chan struct{}) {
	rt := c.s.router
	now := time.Now().Unix()
	var out []llm.Model
	for _, vm := range rt.VirtualModels() {
		out = append(out, llm.Model{ID: vm.Name, OwnedBy: "sluice", Created: now})
	}
	providers := rt.Providers()
	lists := make([][]llm.Model, len(providers))
	failed := make([]bool, len(providers))
	var wg sync.WaitGroup
	for i, p := range providers {
		ml, ok := p.(provider.ModelLister)
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), modelsFetchTimeout)
			defer cancel()
			ms, err := ml.ListModels(ctx)
			if err != nil {
				failed[i] = true
				c.g.log.Warn("listing provider models", "provider", p.Name(), "error", err)
				return
			}
			lists[i] = ms
		}()
	}
	wg.Wait()
	ttl := modelsTTL
	for i, p := range providers {
		if failed[i] {
			ttl = modelsRetry
		}
		seen := make(map[string]bool)
		var ids []llm.Model
		for _, m := range lists[i] {
			if !seen[m.ID] {
				seen[m.ID] = true
				ids = append(ids, llm.Model{ID: p.Name() + "/" + m.ID, OwnedBy: p.Name(), Created: m.Created})
			}
		}
		for _, id := range c.s.advertised[p.Name()] {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, llm.Model{ID: p.Name() + "/" + id, OwnedBy: p.Name(), Created: now})
			}
		}
		sort.Slice(ids, func(a, b int) bool { return ids[a].ID < ids[b].ID })
		out = append(out, ids...)
	}
	if out == nil {
		out = []llm.Model{}
	}
	c.mu.Lock()
	c.models, c.expires, c.inflight = out, time.Now().Add(ttl), nil
	c.mu.Unlock()
	close(done)
}

// handleModels serves GET /v1/models.
func (g *Gateway) handleModels(w http.ResponseWriter, r *http.Request) {
	models := g.current().models.list(r.Context())
	if p := infoFrom(r.Context()).principal; p != nil && len(p.Models) > 0 {
		// Each caller sees only what its key may use.
		allowed := make([]llm.Model, 0, len(models))
		for _, m := range models {
			if p.AllowsModel(m.ID) {
				allowed = append(allowed, m)
			}
		}
		models = allowed
	}
	body, err := oaicodec.EncodeModelList(models)
	if err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// handleModel serves GET /v1/models/{id}: a listed model, or any model the
// router can resolve (a "provider/model" the upstream did not list is
// still callable, so it is described rather than denied).
func (g *Gateway) handleModel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := checkModel(infoFrom(r.Context()).principal, id); err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	var found *llm.Model
	s := g.current()
	for _, m := range s.models.list(r.Context()) {
		if m.ID == id {
			found = &m
			break
		}
	}
	if found == nil {
		ts, err := s.router.Resolve(id)
		if err != nil {
			writeError(w, r, formatOpenAI, err)
			return
		}
		found = &llm.Model{ID: id, OwnedBy: ts[0].Provider.Name(), Created: time.Now().Unix()}
	}
	body, err := oaicodec.EncodeModel(*found)
	if err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}
