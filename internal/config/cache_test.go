package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCacheDefaults(t *testing.T) {
	c := mustParse(t, "cache: {enabled: true}\n").Cache
	if !c.Enabled || c.TTL != Duration(time.Hour) || c.MaxEntryBytes != 1<<20 || c.Backend != CacheMemory ||
		c.MaxBytes != 256<<20 || c.RedisPrefix != "sluice:cache:" || !cmp.Equal(c.Statuses, []int{200}) {
		t.Errorf("cache defaults = %+v", c)
	}
	if !c.Coalesce.Enabled || c.Coalesce.MaxWaiters != 100 || c.Coalesce.Timeout != Duration(30*time.Second) {
		t.Errorf("coalesce defaults = %+v", c.Coalesce)
	}
	if s := c.Semantic; s.Enabled || s.Input != SemanticLastUser || s.Threshold != 0.95 || s.MaxTemperature != 1 ||
		s.Timeout != Duration(2*time.Second) || s.ExactLimit != 10000 {
		t.Errorf("semantic defaults = %+v", s)
	}
	off := mustParse(t, "cache: {coalesce: {enabled: false}}\n").Cache
	if off.Coalesce.Enabled {
		t.Error("coalesce.enabled: false was not kept")
	}
	// The redis backend takes limits.redis_url when it has none.
	r := mustParse(t, "limits: {backend: redis, redis_url: \"redis://127.0.0.1:6379/0\"}\ncache: {backend: redis}\n").Cache
	if r.RedisURL.Value() != "redis://127.0.0.1:6379/0" {
		t.Errorf("cache.redis_url = %q; want limits.redis_url", r.RedisURL.Value())
	}
}

func TestCacheValidation(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"ttl too short", "cache:\n  ttl: 10ms\n", []string{"sluice.yaml:2: cache.ttl: must be from 1s to 720h0m0s"}},
		{"status not cacheable", "cache:\n  statuses: [200, 429]\n",
			[]string{"sluice.yaml:2: cache.statuses: 429 cannot be cached: use 200, 400, 404, 413 or 422"}},
		{"no statuses", "cache:\n  statuses: []\n",
			[]string{"sluice.yaml:2: cache.statuses: must list at least one status (200 caches successes)"}},
		{"unknown backend", "cache:\n  backend: disk\n", []string{`sluice.yaml:2: cache.backend: must be memory or redis, got "disk"`}},
		{"redis without url", "cache:\n  backend: redis\n",
			[]string{`sluice.yaml:1: cache.redis_url: required for the redis backend (or set limits.redis_url): a URL such as "${SLUICE_REDIS_URL}"`}},
		{"tiny memory", "cache:\n  max_bytes: 1000\n", []string{"sluice.yaml:2: cache.max_bytes: must be at least 1 MiB (1048576)"}},
		{"threshold above 1", "cache:\n  semantic: {threshold: 1.5}\n",
			[]string{"sluice.yaml:2: cache.semantic.threshold: must be more than 0 and at most 1"}},
		{"bad input", "cache:\n  semantic: {input: everything}\n",
			[]string{`sluice.yaml:2: cache.semantic.input: must be last_user or conversation, got "everything"`}},
		{"semantic without an embedding model", "models:\n  - name: m\n    targets: [{provider: mock, model: echo}]\n    cache: {enabled: true, semantic: true}\nmock: {enabled: true}\n",
			[]string{"sluice.yaml: cache.semantic.embedding_model: required when the semantic cache is on: a virtual model or provider/model that serves embeddings"}},
		{"model ttl", "models:\n  - name: m\n    targets: [{provider: mock, model: echo}]\n    cache: {ttl: 0s}\nmock: {enabled: true}\n",
			[]string{"sluice.yaml:4: models[0].cache.ttl: must be from 1s to 720h0m0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.src), "sluice.yaml", lookupIn(testEnv))
			if diff := cmp.Diff(tc.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
