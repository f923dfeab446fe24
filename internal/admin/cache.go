package admin

import (
	"context"
	"net/http"
	"strconv"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/llm"
)

// CachePurger removes answers from the gateway's response cache.
type CachePurger interface {
	// PurgeKey removes the answer stored under key (the 64 hex digits of
	// an x-sluice-cache-key response header); it reports whether there
	// was one. A key that is not 64 hex digits is an *llm.Error (400).
	PurgeKey(ctx context.Context, key string) (bool, error)
	// PurgeModel removes every answer of a (virtual) model.
	PurgeModel(ctx context.Context, model string) (int, error)
	// PurgeAll empties the cache.
	PurgeAll(ctx context.Context) (int, error)
}

// purgeCache serves DELETE /admin/v1/cache (everything) and DELETE
// /admin/v1/cache?model=M (one model's answers):
//
//	{"object":"cache.purge","deleted":N}
//
// Owners and admins of no tenant only: the cache serves every tenant.
func (s *server) purgeCache(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needPurge(c); err != nil {
		return err
	}
	q := r.URL.Query()
	for name := range q {
		if name != "model" {
			return unknownParam(name, "")
		}
	}
	var n int
	var err error
	if model := q.Get("model"); model != "" {
		n, err = s.cache.PurgeModel(r.Context(), model)
	} else if q.Has("model") {
		return llm.BadRequest("model", "model: must not be empty (leave it out to purge everything)")
	} else {
		n, err = s.cache.PurgeAll(r.Context())
	}
	if err != nil {
		return cacheError(err)
	}
	c.reply(http.StatusOK, []byte(`{"object":"cache.purge","deleted":`+strconv.Itoa(n)+`}`))
	return nil
}

// purgeCacheKey serves DELETE /admin/v1/cache/{key}: 200 with
// {"object":"cache.purge","deleted":1}, or 404 when nothing was stored
// under the key.
func (s *server) purgeCacheKey(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needPurge(c); err != nil {
		return err
	}
	ok, err := s.cache.PurgeKey(r.Context(), r.PathValue("id"))
	if err != nil {
		return cacheError(err)
	}
	if !ok {
		return &llm.Error{Status: http.StatusNotFound, Type: llm.TypeNotFound, Code: "not_found",
			Message: "no cached answer is stored under this key"}
	}
	c.reply(http.StatusOK, []byte(`{"object":"cache.purge","deleted":1}`))
	return nil
}

// needPurge refuses all but owners and admins of no tenant.
func needPurge(c *call) *llm.Error {
	if !c.p.Can(auth.PurgeCache) {
		return forbidden("", "role %q may not purge the cache", c.p.Role)
	}
	if c.scope.byTenant {
		return forbidden("", "the cache serves every tenant: only a key of no tenant may purge it")
	}
	return nil
}

// cacheError passes a purger's *llm.Error on and makes anything else a
// 503: the backend (Redis) is unreachable.
func cacheError(err error) error {
	if e, ok := err.(*llm.Error); ok {
		return e
	}
	return &llm.Error{Status: http.StatusServiceUnavailable, Type: llm.TypeAPI, Code: "cache_unavailable",
		Message: "the cache backend could not be reached", Err: err}
}
