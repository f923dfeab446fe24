package gateway

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/admin"
	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/cache"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// Cache statuses, as the request record keeps them; the x-sluice-cache
// response header says the same in capitals (a coalesced answer is a HIT
// there, with x-sluice-cache-coalesced: true).
const (
	cacheHit         = "hit"
	cacheMiss        = "miss"
	cacheBypass      = "bypass"
	cacheSemanticHit = "semantic_hit"
	cacheCoalesced   = "coalesced"
)

// Request-control headers of the cache.
const (
	headerCacheTTL   = "X-Sluice-Cache-Ttl"
	headerSkipCache  = "X-Sluice-Skip-Cache"
	headerCacheKey   = "X-Sluice-Cache-Key"
	headerCacheCtl   = "Cache-Control"
	maxCacheKeyBytes = 256
)

// responseCache is the gateway's response cache: the backend holding
// encoded answers, request coalescing and the semantic index. Its
// defaults come from the config the gateway started with; models and
// routes override them from the current snapshot.
type responseCache struct {
	backend cache.Backend
	memory  *cache.Memory         // the memory backend, for its gauges; nil with Redis
	redis   redis.UniversalClient // to close; nil with the memory backend
	group   *cache.Group          // nil: coalescing off
	index   cache.Index           // nil: the semantic cache is off everywhere
	sem     config.Semantic
	// defaults is the cache: section's policy, before overrides.
	defaults cachePolicy
	metrics  *telemetry.CacheMetrics // nil: metrics off
	log      *slog.Logger
	// downUntil is when a remote backend (Redis) is tried again after a
	// failure (Unix ns; 0 while it is healthy): until then every lookup
	// is a miss and nothing is stored, so an outage costs requests
	// nothing but the cache.
	downUntil atomic.Int64
}

// cacheRetryAfter is how long a failed remote backend is left alone.
const cacheRetryAfter = time.Second

// cachePolicy is what applies to one request: the defaults with its
// model's and route's settings over them.
type cachePolicy struct {
	enabled   bool
	shared    bool
	semantic  bool
	maxEntry  int
	ttl       time.Duration
	threshold float32
	statuses  []int
}

// apply lays one model's or route's settings over p.
func (p *cachePolicy) apply(s *config.CacheSettings) {
	if s.Enabled != nil {
		p.enabled = *s.Enabled
	}
	if s.TTL != nil {
		p.ttl = s.TTL.Std()
	}
	if s.MaxEntryBytes != nil {
		p.maxEntry = *s.MaxEntryBytes
	}
	if s.Statuses != nil {
		p.statuses = s.Statuses
	}
	if s.Shared != nil {
		p.shared = *s.Shared
	}
	if s.Semantic != nil {
		p.semantic = *s.Semantic
	}
	if s.SemanticThreshold != nil {
		p.threshold = float32(*s.SemanticThreshold)
	}
}

// cacheable reports whether an answer with status s is stored.
func (p *cachePolicy) cacheable(s int) bool {
	return slices.Contains(p.statuses, s)
}

// newResponseCache builds the cache of cfg, or returns nil when no model
// or route can switch it on. It does not contact Redis: a Redis that is
// down degrades every lookup to a miss until it is back.
func newResponseCache(cfg *config.Config, m *telemetry.Metrics, log *slog.Logger) (*responseCache, error) {
	if !cacheConfigured(cfg) {
		return nil, nil
	}
	k := &cfg.Cache
	c := &responseCache{sem: k.Semantic, log: log, defaults: cachePolicy{
		enabled: k.Enabled, shared: k.Shared, semantic: k.Semantic.Enabled, maxEntry: k.MaxEntryBytes,
		ttl: k.TTL.Std(), threshold: float32(k.Semantic.Threshold), statuses: k.Statuses,
	}}
	switch k.Backend {
	case config.CacheRedis:
		opt, err := parseRedisURL(k.RedisURL.Value())
		if err != nil {
			return nil, fmt.Errorf("gateway: cache.redis_url: %w", err)
		}
		// A cache that is slow is worse than none: bound each call well
		// below the client's defaults (5s to dial, 3s to read) and do not
		// retry (a failure is a miss) unless the URL sets them.
		opt.boundTimeouts(cacheRedisTimeout)
		c.redis = opt.client(log)
		c.backend = cache.NewRedis(c.redis, k.RedisPrefix)
	default:
		c.memory = cache.NewMemory(k.MaxBytes)
		c.backend = c.memory
	}
	if k.Coalesce.Enabled {
		c.group = cache.NewGroup(k.Coalesce.MaxWaiters, k.Coalesce.Timeout.Std())
	}
	if semanticConfigured(cfg) {
		local := cache.NewMemoryIndex(cache.MemoryIndexOptions{ExactLimit: k.Semantic.ExactLimit})
		if c.redis != nil {
			c.index = cache.NewRedisIndex(c.redis, k.RedisPrefix, local, 0)
		} else {
			c.index = local
		}
	}
	if m != nil {
		c.metrics = telemetry.NewCacheMetrics(m.Registry(), c.gauges)
	}
	return c, nil
}

// cacheConfigured reports whether caching is on by default or for any
// model or route. Models and routes added by a reload can switch caching
// on only if the gateway started with a cache.
func cacheConfigured(cfg *config.Config) bool {
	return cfg.Cache.Enabled || anyCacheSetting(cfg, func(s *config.CacheSettings) *bool { return s.Enabled })
}

// semanticConfigured reports whether the semantic cache is on anywhere.
func semanticConfigured(cfg *config.Config) bool {
	return cfg.Cache.Semantic.Enabled || anyCacheSetting(cfg, func(s *config.CacheSettings) *bool { return s.Semantic })
}

// anyCacheSetting reports whether a model's or route's cache settings
// switch on the setting field picks.
func anyCacheSetting(cfg *config.Config, field func(*config.CacheSettings) *bool) bool {
	on := func(s *config.CacheSettings) bool { return s != nil && field(s) != nil && *field(s) }
	for i := range cfg.Models {
		if on(cfg.Models[i].Cache) {
			return true
		}
	}
	for i := range cfg.Routes {
		if on(cfg.Routes[i].Cache) {
			return true
		}
	}
	return false
}

// gauges reports the memory backend's size for the metrics; -1 when the
// backend is Redis.
func (c *responseCache) gauges() (entries, bytes int64) {
	if c.memory == nil {
		return -1, -1
	}
	return int64(c.memory.Len()), c.memory.Bytes()
}

// close releases the Redis client and the semantic index.
func (c *responseCache) close() {
	if c == nil {
		return
	}
	if c.index != nil {
		c.index.Close()
	}
	c.backend.Close()
	if c.redis != nil {
		c.redis.Close()
	}
}

// cacheRedisTimeout bounds a dial, read or write of the Redis backend.
const cacheRedisTimeout = 250 * time.Millisecond

// failed counts a cache error (the request goes on as a miss) and logs
// it. A failure of the remote backend (Redis) also leaves it alone for
// cacheRetryAfter.
func (c *responseCache) failed(op string, err error) {
	if c.metrics != nil {
		c.metrics.Error(op)
	}
	if c.redis != nil && remoteOp(op) && c.downUntil.Swap(time.Now().Add(cacheRetryAfter).UnixNano()) == 0 {
		c.log.Warn("cache backend failed; serving without it for now", "op", op, "error", err)
		return
	}
	c.log.Debug("cache error; treated as a miss", "op", op, "error", err)
}

// remoteOp reports whether a failed op was a call to the backend.
func remoteOp(op string) bool {
	switch op {
	case "get", "set", "delete", "search", "index":
		return true
	}
	return false
}

// up reports whether the backend may be called: always for memory, and
// for Redis unless it failed within cacheRetryAfter.
func (c *responseCache) up() bool {
	until := c.downUntil.Load()
	if until == 0 {
		return true
	}
	if time.Now().UnixNano() < until {
		if c.metrics != nil {
			c.metrics.Error("skipped")
		}
		return false
	}
	c.downUntil.CompareAndSwap(until, 0)
	return true
}

// get returns the entry stored under k; nil and false on a clean miss
// (or an entry that did not decode, which is dropped), nil and true when
// the backend failed (the caller must not conclude the entry is gone).
func (c *responseCache) get(ctx context.Context, k cache.Key) (e *cache.Entry, failed bool) {
	if !c.up() {
		return nil, true
	}
	b, err := c.backend.Get(ctx, k)
	if err != nil {
		if !errors.Is(err, cache.ErrMiss) {
			c.failed("get", err)
			return nil, true
		}
		return nil, false
	}
	e, err = cache.DecodeEntry(b)
	if err != nil {
		c.failed("decode", err)
		if _, err := c.backend.Delete(ctx, k); err != nil {
			c.failed("delete", err)
		}
		return nil, false
	}
	return e, false
}

// put stores e under k for ttl. It runs after the answer arrived and
// before (or, for streams, as) it is sent; a failure is counted, never
// the request's.
func (c *responseCache) put(ctx context.Context, k cache.Key, e *cache.Entry, ttl time.Duration) bool {
	if !c.up() {
		return false
	}
	b, err := e.AppendBinary(nil)
	if err != nil {
		c.failed("encode", err)
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cacheWriteTimeout)
	defer cancel()
	if err := c.backend.Set(ctx, k, e.Model, b, ttl); err != nil {
		c.failed("set", err)
		return false
	}
	return true
}

// cacheWriteTimeout bounds one write to the backend (and to the semantic
// index), which the client's answer waits for.
const cacheWriteTimeout = time.Second

// cacheControls are a request's cache headers.
type cacheControls struct {
	// skip: not served from the cache; noStore: its answer is not
	// stored either.
	skip, noStore bool
	ttl           time.Duration // 0: the policy's
	key           string        // a custom key; "" computes one
}

// readCacheControls reads x-sluice-skip-cache, x-sluice-cache-ttl,
// x-sluice-cache-key and Cache-Control (no-store: neither read nor store;
// no-cache: store a fresh answer but do not serve a cached one).
func readCacheControls(h http.Header) (cacheControls, error) {
	var c cacheControls
	skip, _, err := parseBoolHeader(h, headerSkipCache)
	if err != nil {
		return c, err
	}
	c.skip, c.noStore = skip, skip
	for _, v := range h.Values(headerCacheCtl) {
		for d := range strings.SplitSeq(v, ",") {
			switch strings.ToLower(strings.TrimSpace(d)) {
			case "no-store":
				c.skip, c.noStore = true, true
			case "no-cache":
				c.skip = true
			}
		}
	}
	if v := headerValue(h, headerCacheTTL); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < int64(config.MinCacheTTL/time.Second) || n > int64(config.MaxCacheTTL/time.Second) {
			return c, badControl(headerCacheTTL, fmt.Sprintf("must be a whole number of seconds from %d to %d",
				int64(config.MinCacheTTL/time.Second), int64(config.MaxCacheTTL/time.Second)))
		}
		c.ttl = time.Duration(n) * time.Second
	}
	if v := headerValue(h, headerCacheKey); v != "" {
		if len(v) > maxCacheKeyBytes {
			return c, badControl(headerCacheKey, fmt.Sprintf("must be at most %d bytes", maxCacheKeyBytes))
		}
		c.key = v
	}
	return c, nil
}

// cacheNamespace keeps tenants apart: each tenant's answers (and those of
// callers of no tenant) live in their own namespace unless the policy
// shares one cache among all.
func cacheNamespace(p *auth.Principal, shared bool) string {
	switch {
	case shared:
		return "*"
	case p == nil:
		return "t:"
	}
	return "t:" + p.TenantID
}

// policyFor resolves the cache policy of an exchange: the defaults, its
// (virtual) model's settings, then its route's.
func (c *responseCache) policyFor(s *snapshot, ex *Exchange) cachePolicy {
	p := c.defaults
	if ms := s.cacheModels[ex.Request.Model]; ms != nil {
		p.apply(ms)
	}
	if ex.Route != "" {
		if rs := s.cacheRoutes[ex.Route]; rs != nil {
			p.apply(rs)
		}
	}
	return p
}

// cacheSettings indexes the models' and routes' cache settings of cfg by
// name, for the snapshot.
func cacheSettings(cfg *config.Config) (models, routes map[string]*config.CacheSettings) {
	for i := range cfg.Models {
		if s := cfg.Models[i].Cache; s != nil {
			if models == nil {
				models = make(map[string]*config.CacheSettings)
			}
			models[cfg.Models[i].Name] = s
		}
	}
	for i := range cfg.Routes {
		if s := cfg.Routes[i].Cache; s != nil {
			if routes == nil {
				routes = make(map[string]*config.CacheSettings)
			}
			routes[cfg.Routes[i].Name] = s
		}
	}
	return models, routes
}

// semanticEligible reports whether a request may get (and give) a
// semantic hit: no tools unless allowed, and no sampling hotter than the
// configured ceiling.
func (c *responseCache) semanticEligible(req *llm.Request) bool {
	if len(req.Tools) > 0 && !c.sem.AllowTools {
		return false
	}
	return req.Temperature == nil || *req.Temperature <= c.sem.MaxTemperature
}

// embed embeds text with the semantic cache's embedding model, through
// the gateway's own router and providers (its cost is not recorded).
func (g *Gateway) embed(ctx context.Context, text string) ([]float32, error) {
	c := g.cache
	ctx, cancel := context.WithTimeout(ctx, c.sem.Timeout.Std())
	defer cancel()
	ex := &Exchange{Op: OpEmbeddings, Start: time.Now(),
		Embeddings: &llm.EmbeddingsRequest{Model: c.sem.EmbeddingModel, Inputs: []llm.EmbeddingInput{{Text: text}}}}
	if d := c.sem.Dimensions; d > 0 {
		ex.Embeddings.Dimensions = &d
	}
	if err := g.dispatch(ctx, ex); err != nil {
		return nil, err
	}
	r := ex.EmbeddingsResponse
	if r == nil || len(r.Data) == 0 {
		return nil, errors.New("the embedding model returned no vector")
	}
	if v := r.Data[0].Vector; len(v) > 0 {
		return v, nil
	}
	return decodeBase64Vector(r.Data[0].Base64)
}

// decodeBase64Vector reads an embedding sent as base64 little-endian
// float32s.
func decodeBase64Vector(s string) ([]float32, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) == 0 || len(b)%4 != 0 {
		return nil, errors.New("the embedding model returned an unreadable vector")
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// setCacheHeaders sets x-sluice-cache and its companions from what the
// cache stage noted.
func setCacheHeaders(h http.Header, ri *requestInfo) {
	var v string
	switch ri.cacheStatus {
	case "":
		return
	case cacheHit:
		v = "HIT"
	case cacheCoalesced:
		v = "HIT"
		h["X-Sluice-Cache-Coalesced"] = trueValue
	case cacheSemanticHit:
		v = "SEMANTIC_HIT"
		h.Set("X-Sluice-Cache-Similarity", strconv.FormatFloat(float64(ri.cacheSimilarity), 'f', 4, 32))
	case cacheMiss:
		v = "MISS"
	default:
		v = "BYPASS"
	}
	h.Set("X-Sluice-Cache", v)
	if ri.cacheKey != "" {
		h.Set("X-Sluice-Cache-Key", ri.cacheKey)
	}
	if ri.cacheStatus == cacheHit || ri.cacheStatus == cacheSemanticHit {
		h.Set("Age", strconv.FormatInt(max(ri.cacheAge, 0), 10))
	}
}

var trueValue = []string{"true"}

// cacheServedStatus reports whether a cache status means no provider was
// paid for the answer (its cost counts as saved).
func cacheServedStatus(s string) bool {
	return s == cacheHit || s == cacheSemanticHit || s == cacheCoalesced
}

// cachePurger is the admin API's way into the cache; nil (an untyped nil,
// which leaves the endpoints out) when there is no cache.
func (g *Gateway) cachePurger() admin.CachePurger {
	if g.cache == nil {
		return nil
	}
	return g.cache
}

// PurgeKey removes the answer stored under a hex key (admin API).
func (c *responseCache) PurgeKey(ctx context.Context, key string) (bool, error) {
	k, err := cache.ParseKey(key)
	if err != nil {
		return false, llm.BadRequest("key", "key: must be the 64 hex digits of an x-sluice-cache-key header")
	}
	return c.backend.Delete(ctx, k)
}

// PurgeModel removes every answer of a model (admin API).
func (c *responseCache) PurgeModel(ctx context.Context, model string) (int, error) {
	return c.backend.PurgeModel(ctx, model)
}

// PurgeAll empties the cache and the semantic index (admin API).
func (c *responseCache) PurgeAll(ctx context.Context) (int, error) {
	n, err := c.backend.PurgeAll(ctx)
	if err == nil && c.index != nil {
		err = c.index.Purge(ctx)
	}
	return n, err
}
