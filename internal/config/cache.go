package config

import "time"

// Cache configures the response cache: where entries live, the defaults
// every virtual model gets (a model or conditional route overrides them
// key by key with its own cache: section), request coalescing and the
// semantic cache.
type Cache struct {
	// Enabled switches caching on for every model that does not say
	// otherwise. Default false: a model or route opts in.
	Enabled bool `yaml:"enabled"`
	// TTL is how long an answer is served from the cache. Default 1h,
	// from 1s to 30 days; a request's x-sluice-cache-ttl (seconds) may
	// shorten or lengthen it within the same bounds.
	TTL Duration `yaml:"ttl"`
	// MaxEntryBytes bounds one cached answer (its text and tool-call
	// arguments); bigger answers are served but not stored. Default
	// 1 MiB (1048576).
	MaxEntryBytes int `yaml:"max_entry_bytes"`
	// Statuses are the statuses whose answers are stored. Default [200]
	// (successes only). A 4xx the provider answered for the request's
	// content (400, 404, 413, 422) may be added, so that a bad request
	// repeated is refused without calling the provider again; statuses
	// that depend on the caller, credentials or time (401, 403, 408, 409,
	// 429) and 5xx are refused here.
	Statuses []int `yaml:"statuses"`
	// Shared makes one cache for every tenant. Default false: each tenant
	// (keys of no tenant share one namespace) has its own entries, and
	// never receives another's cached answer.
	Shared bool `yaml:"shared"`

	// Backend keeps entries in "memory" (default: this process only,
	// bounded by max_bytes, least useful entries evicted first) or in
	// "redis" (shared by every replica using the same redis_url and
	// redis_prefix).
	Backend string `yaml:"backend"`
	// MaxBytes bounds the memory backend. Default 256 MiB (268435456).
	MaxBytes int64 `yaml:"max_bytes"`
	// RedisURL is the redis backend's server (see limits.redis_url for the
	// form). Default: limits.redis_url. Redacted when printed.
	RedisURL Secret `yaml:"redis_url"`
	// RedisPrefix starts every Redis key of the cache. Default
	// "sluice:cache:". Replicas sharing a cache must use the same one.
	RedisPrefix string `yaml:"redis_prefix"`

	// Coalesce makes identical concurrent misses share one upstream call.
	Coalesce Coalesce `yaml:"coalesce"`
	// Semantic serves answers to similar (not only identical) prompts.
	Semantic Semantic `yaml:"semantic"`
}

// Coalesce configures request coalescing: while one request for a key
// is on its way upstream, identical requests wait for its answer (streams
// included: they receive its chunks as they arrive) instead of calling the
// provider again.
type Coalesce struct {
	// Enabled turns coalescing on wherever caching is on. Default true.
	Enabled bool `yaml:"enabled"`
	// MaxWaiters caps the requests waiting on one leader; more go
	// upstream on their own. Default 100.
	MaxWaiters int `yaml:"max_waiters"`
	// Timeout bounds a wait: a follower that received nothing from its
	// leader within it goes upstream on its own. Default 30s.
	Timeout Duration `yaml:"timeout"`
}

// Semantic configures the semantic cache: a request whose prompt embeds
// close enough to a cached one's gets that answer (x-sluice-cache:
// SEMANTIC_HIT). Vectors are kept in memory; with the redis backend
// replicas share them through Redis.
type Semantic struct {
	// Enabled switches the semantic cache on for every model where caching
	// is on and that does not say otherwise. Default false.
	Enabled bool `yaml:"enabled"`
	// EmbeddingModel is the model prompts are embedded with, called
	// through the gateway's own providers: a virtual model or
	// "provider/model". Required when the semantic cache is on anywhere.
	EmbeddingModel string `yaml:"embedding_model"`
	// Input is what is embedded: "last_user" (default: the last user
	// message) or "conversation" (every message).
	Input string `yaml:"input"`
	// Threshold is the cosine similarity (0 to 1) a cached prompt needs
	// to be served. Default 0.95.
	Threshold float64 `yaml:"threshold"`
	// MaxTemperature keeps requests sampling above it (temperature set
	// higher) from semantic hits: they want variety. Default 1. A request
	// that sets no temperature is eligible.
	MaxTemperature float64 `yaml:"max_temperature"`
	// AllowTools lets requests that carry tools have semantic hits.
	// Default false: similar words rarely mean the same tool calls.
	AllowTools bool `yaml:"allow_tools"`
	// Dimensions asks the embedding model for vectors of this size (the
	// OpenAI "dimensions" parameter; models that cannot shorten their
	// vectors refuse it). Default 0: the model's own size.
	Dimensions int `yaml:"dimensions"`
	// Timeout bounds the embedding call; past it the request is a miss.
	// Default 2s.
	Timeout Duration `yaml:"timeout"`
	// ExactLimit is how many vectors of one tenant and model are searched
	// exactly; past it an approximate (HNSW) index is used. Default 10000.
	ExactLimit int `yaml:"exact_limit"`
}

// CacheSettings override the cache defaults for one virtual model or
// conditional route, key by key; absent keys inherit. A route's settings
// win over its model's.
type CacheSettings struct {
	Enabled       *bool     `yaml:"enabled,omitempty" json:",omitempty"`
	TTL           *Duration `yaml:"ttl,omitempty" json:",omitempty"`
	MaxEntryBytes *int      `yaml:"max_entry_bytes,omitempty" json:",omitempty"`
	Statuses      []int     `yaml:"statuses,omitempty" json:",omitempty"`
	Shared        *bool     `yaml:"shared,omitempty" json:",omitempty"`
	// Semantic switches the semantic cache for this model or route;
	// SemanticThreshold overrides cache.semantic.threshold.
	Semantic          *bool    `yaml:"semantic,omitempty" json:",omitempty"`
	SemanticThreshold *float64 `yaml:"semantic_threshold,omitempty" json:",omitempty"`
}

// Cache backends and semantic inputs.
const (
	CacheMemory = "memory"
	CacheRedis  = "redis"

	SemanticLastUser     = "last_user"
	SemanticConversation = "conversation"
)

const (
	defaultCacheTTL           = Duration(time.Hour)
	minCacheTTL               = Duration(time.Second)
	maxCacheTTL               = Duration(30 * 24 * time.Hour)
	defaultCacheMaxEntryBytes = 1 << 20
	defaultCacheMaxBytes      = 256 << 20
	defaultCacheRedisPrefix   = "sluice:cache:"
	defaultCoalesceWaiters    = 100
	defaultCoalesceTimeout    = Duration(30 * time.Second)
	defaultSemanticThreshold  = 0.95
	defaultSemanticMaxTemp    = 1
	defaultSemanticTimeout    = Duration(2 * time.Second)
	defaultSemanticExactLimit = 10000
)

// MinCacheTTL and MaxCacheTTL bound every cache TTL, the request header's
// included.
const (
	MinCacheTTL = time.Duration(minCacheTTL)
	MaxCacheTTL = time.Duration(maxCacheTTL)
)

// cacheDefaults fills the cache section.
func (c *Config) cacheDefaults() {
	k := &c.Cache
	c.defaultDuration(&k.TTL, "cache.ttl", defaultCacheTTL)
	c.defaultInt(&k.MaxEntryBytes, "cache.max_entry_bytes", defaultCacheMaxEntryBytes)
	if k.Statuses == nil {
		k.Statuses = []int{200}
	}
	if k.Backend == "" {
		k.Backend = CacheMemory
	}
	if k.MaxBytes == 0 && !c.src.explicit("cache.max_bytes") {
		k.MaxBytes = defaultCacheMaxBytes
	}
	if k.RedisURL == "" {
		k.RedisURL = c.Limits.RedisURL
	}
	if k.RedisPrefix == "" && !c.src.explicit("cache.redis_prefix") {
		k.RedisPrefix = defaultCacheRedisPrefix
	}
	c.defaultTrue(&k.Coalesce.Enabled, "cache.coalesce.enabled")
	c.defaultInt(&k.Coalesce.MaxWaiters, "cache.coalesce.max_waiters", defaultCoalesceWaiters)
	c.defaultDuration(&k.Coalesce.Timeout, "cache.coalesce.timeout", defaultCoalesceTimeout)
	s := &k.Semantic
	if s.Input == "" {
		s.Input = SemanticLastUser
	}
	c.defaultFloat(&s.Threshold, "cache.semantic.threshold", defaultSemanticThreshold)
	c.defaultFloat(&s.MaxTemperature, "cache.semantic.max_temperature", defaultSemanticMaxTemp)
	c.defaultDuration(&s.Timeout, "cache.semantic.timeout", defaultSemanticTimeout)
	c.defaultInt(&s.ExactLimit, "cache.semantic.exact_limit", defaultSemanticExactLimit)
}

// cache checks the cache section and every model's and route's cache
// settings.
func (v *validator) cache(known map[string]bool) {
	k := &v.c.Cache
	v.cacheTTL("cache.ttl", k.TTL)
	v.positive("cache.max_entry_bytes", k.MaxEntryBytes)
	v.cacheStatuses("cache.statuses", k.Statuses)
	switch k.Backend {
	case CacheMemory:
		if k.MaxBytes < 1<<20 {
			v.bad("cache.max_bytes", "must be at least 1 MiB (1048576)")
		}
	case CacheRedis:
		if k.RedisURL == "" {
			v.missing("cache.redis_url", `required for the redis backend (or set limits.redis_url): a URL such as "${SLUICE_REDIS_URL}"`)
		} else if !validRedisURL(k.RedisURL.Value()) {
			v.bad("cache.redis_url", badRedisURL)
		}
	default:
		v.bad("cache.backend", "must be memory or redis%s", v.show("cache.backend", k.Backend))
	}
	v.positive("cache.coalesce.max_waiters", k.Coalesce.MaxWaiters)
	if k.Coalesce.Timeout <= 0 {
		v.bad("cache.coalesce.timeout", "must be more than 0")
	}
	s := &k.Semantic
	switch s.Input {
	case SemanticLastUser, SemanticConversation:
	default:
		v.bad("cache.semantic.input", "must be last_user or conversation%s", v.show("cache.semantic.input", s.Input))
	}
	v.threshold("cache.semantic.threshold", s.Threshold)
	if !(s.MaxTemperature >= 0 && s.MaxTemperature <= 2) {
		v.bad("cache.semantic.max_temperature", "must be from 0 to 2")
	}
	if s.Timeout <= 0 {
		v.bad("cache.semantic.timeout", "must be more than 0")
	}
	v.positive("cache.semantic.exact_limit", s.ExactLimit)
	semantic := s.Enabled
	for i := range v.c.Models {
		semantic = v.cacheSettings(v.c.Models[i].Cache, fieldPath(indexPath("models", i), "cache")) || semantic
	}
	for i := range v.c.Routes {
		semantic = v.cacheSettings(v.c.Routes[i].Cache, fieldPath(indexPath("routes", i), "cache")) || semantic
	}
	if semantic && s.EmbeddingModel == "" {
		v.missing("cache.semantic.embedding_model", "required when the semantic cache is on: a virtual model or provider/model that serves embeddings")
	} else if s.EmbeddingModel != "" {
		v.routeModel("cache.semantic.embedding_model", s.EmbeddingModel, known)
	}
	if s.Dimensions < 0 {
		v.bad("cache.semantic.dimensions", "must not be negative (0 takes the model's own size)")
	}
}

// cacheSettings checks one model's or route's overrides and reports
// whether they switch the semantic cache on.
func (v *validator) cacheSettings(s *CacheSettings, path string) bool {
	if s == nil {
		return false
	}
	if s.TTL != nil {
		v.cacheTTL(path+".ttl", *s.TTL)
	}
	if s.MaxEntryBytes != nil {
		v.positive(path+".max_entry_bytes", *s.MaxEntryBytes)
	}
	if s.Statuses != nil {
		v.cacheStatuses(path+".statuses", s.Statuses)
	}
	if s.SemanticThreshold != nil {
		v.threshold(path+".semantic_threshold", *s.SemanticThreshold)
	}
	return s.Semantic != nil && *s.Semantic
}

func (v *validator) cacheTTL(path string, d Duration) {
	if d < minCacheTTL || d > maxCacheTTL {
		v.bad(path, "must be from %s to %s", time.Duration(minCacheTTL), time.Duration(maxCacheTTL))
	}
}

func (v *validator) threshold(path string, f float64) {
	if !(f > 0 && f <= 1) {
		v.bad(path, "must be more than 0 and at most 1")
	}
}

// cacheStatuses checks a list of cacheable statuses.
func (v *validator) cacheStatuses(path string, statuses []int) {
	if len(statuses) == 0 {
		v.bad(path, "must list at least one status (200 caches successes)")
	}
	for _, s := range statuses {
		if !CacheableStatus(s) {
			v.bad(path, "%d cannot be cached: use 200, 400, 404, 413 or 422", s)
		}
	}
}

// CacheableStatus reports whether answers with status s may be stored:
// successes, and the 4xx a provider gives for the request's own content.
func CacheableStatus(s int) bool {
	switch s {
	case 200, 400, 404, 413, 422:
		return true
	}
	return false
}
