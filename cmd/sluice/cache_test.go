package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/mock"
)

// TestCacheSharedByTwoProcessesThroughRedis: two `sluice serve` processes
// with the same Redis cache (backend and prefix) in front of one mock: an
// answer cached through one is a HIT on the other, and a paraphrase of a
// prompt cached through one is a SEMANTIC_HIT on the other (the semantic
// index is shared through Redis too).
func TestCacheSharedByTwoProcessesThroughRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two gateway processes")
	}
	url := os.Getenv("SLUICE_TEST_REDIS")
	if url == "" {
		t.Skip("SLUICE_TEST_REDIS is unset (e.g. redis://127.0.0.1:6379/0): skipping the shared-Redis cache test")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("SLUICE_TEST_REDIS: %v", err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() }) // after the keys are deleted
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("SLUICE_TEST_REDIS is set but Redis does not answer: %v", err)
	}
	prefix := "sluicetest:" + t.Name() + ":" + rand.Text() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})

	m := mock.New(mock.Options{})
	ms := httptest.NewServer(m)
	defer ms.Close()
	// At 64 dimensions the mock's vectors put the two France prompts at
	// 0.816, above the threshold of 0.8; the exact-match prompt shares no
	// word with them.
	var urls []string
	for i := range 2 {
		dir := t.TempDir()
		cfg := fmt.Sprintf(`server: { listen: "127.0.0.1:0", data_dir: %q }
request_log: { enabled: false }
metrics: { enabled: false }
auth: { require_keys: false }
providers:
  - { name: oai, type: openai, base_url: "%s/v1", api_key: "sk-test" }
models:
  - name: chat-default
    targets: [ { provider: oai, model: gpt-4o-mini } ]
cache:
  enabled: true
  backend: redis
  redis_url: %q
  redis_prefix: %q
  semantic: { enabled: true, embedding_model: oai/text-embedding-3-small, dimensions: 64, threshold: 0.8 }
`, dir, ms.URL, url, prefix)
		path := filepath.Join(dir, "sluice.yaml")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		urls = append(urls, startGateway(t, path).url)
		t.Logf("gateway %d at %s", i, urls[i])
	}
	a, b := urls[0], urls[1]

	chat := func(base, prompt string) (status, text string) {
		t.Helper()
		body := fmt.Sprintf(`{"model":"chat-default","messages":[{"role":"user","content":%q}]}`, prompt)
		resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v: %s", base, resp.StatusCode, err, out)
		}
		if !strings.Contains(string(out), `"content":`+fmt.Sprintf("%q", prompt)) && resp.Header.Get("X-Sluice-Cache") == "MISS" {
			t.Errorf("a miss should echo the prompt: %s", out)
		}
		return resp.Header.Get("X-Sluice-Cache"), string(out)
	}
	calls := func() int64 { return m.Stats().Requests }

	// Exact: cached through A (an embedding and a chat call), a HIT on B.
	if s, _ := chat(a, "Name a river in Egypt"); s != "MISS" {
		t.Fatalf("A: x-sluice-cache %q, want MISS", s)
	}
	before := calls()
	if s, _ := chat(b, "Name a river in Egypt"); s != "HIT" {
		t.Errorf("B: x-sluice-cache %q, want HIT (cached through A)", s)
	}
	if n := calls(); n != before {
		t.Errorf("the mock saw %d more requests for B's hit, want none", n-before)
	}

	// Semantic: a paraphrase on B of a prompt cached through A.
	if s, _ := chat(a, "What is the capital of France?"); s != "MISS" {
		t.Fatalf("A: x-sluice-cache %q, want MISS", s)
	}
	before = calls()
	s, out := chat(b, "Tell me the capital of France")
	if s != "SEMANTIC_HIT" || !strings.Contains(out, `"What is the capital of France?"`) {
		t.Errorf("B: x-sluice-cache %q, answer %s; want SEMANTIC_HIT with A's answer", s, out)
	}
	if n := calls(); n != before+1 {
		t.Errorf("the mock saw %d more requests for B's semantic hit, want 1 (the embedding)", n-before)
	}
}
