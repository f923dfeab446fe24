package gateway_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/mock"
)

// End-to-end tests of the response cache (issue 7): a gateway with the
// cache on in front of the mock provider, whose request counter tells
// whether an answer came from the cache.

// cacheOn switches the response cache on for every model of envConfig.
const cacheOn = "cache: { enabled: true }\n"

// hexCacheKey is the form of an x-sluice-cache-key response header.
var hexCacheKey = regexp.MustCompile(`^[0-9a-f]{64}$`)

// chatRequest is an OpenAI chat body with one user message.
func chatRequest(model, prompt string, stream bool) string {
	return fmt.Sprintf(`{"model":%q,"stream":%v,"messages":[{"role":"user","content":%q}]}`, model, stream, prompt)
}

// upstreamCalls is how many provider-API requests the env's mock has seen.
func (e *testEnv) upstreamCalls() int64 { return e.mock.Stats().Requests }

// sendChat posts an OpenAI chat body and checks that the answer is a 200
// with x-sluice-cache: want ("" for no header at all) and, for a stream,
// complete. It returns the response and the answer's text.
func (e *testEnv) sendChat(body, want string, headers ...string) (*http.Response, string) {
	e.t.Helper()
	resp, b := e.post("/v1/chat/completions", body, headers...)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if got := resp.Header.Get("X-Sluice-Cache"); got != want {
		e.t.Fatalf("x-sluice-cache %q, want %q", got, want)
	}
	stream := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	if stream && !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
		e.t.Fatalf("stream does not end with [DONE]:\n%s", b)
	}
	finish, text := finishOf(e.t, b, stream)
	if finish == "" {
		e.t.Fatalf("answer without a finish reason: %s", b)
	}
	return resp, text
}

// forTest returns the env for use by subtest t: its helpers then fail t.
func (e *testEnv) forTest(t *testing.T) *testEnv {
	c := *e
	c.t = t
	return &c
}

// wantCalls fails the test unless the mock has seen want requests.
func (e *testEnv) wantCalls(want int64, what string) {
	e.t.Helper()
	if got := e.upstreamCalls(); got != want {
		e.t.Fatalf("%s: the mock saw %d requests, want %d", what, got, want)
	}
}

func TestCacheExactHit(t *testing.T) {
	env := newEnvWith(t, cacheOn)
	body := chatRequest("chat-default", "What is the capital of France?", false)
	r1, b1 := env.post("/v1/chat/completions", body)
	if r1.StatusCode != 200 || r1.Header.Get("X-Sluice-Cache") != "MISS" {
		t.Fatalf("first: %d, x-sluice-cache %q: %s", r1.StatusCode, r1.Header.Get("X-Sluice-Cache"), b1)
	}
	key := r1.Header.Get("X-Sluice-Cache-Key")
	if !hexCacheKey.MatchString(key) {
		t.Errorf("x-sluice-cache-key %q: want 64 lower-case hex digits", key)
	}
	if age := r1.Header.Get("Age"); age != "" {
		t.Errorf("a miss has Age %q", age)
	}
	env.wantCalls(1, "after the miss")

	r2, b2 := env.post("/v1/chat/completions", body)
	if r2.StatusCode != 200 || r2.Header.Get("X-Sluice-Cache") != "HIT" {
		t.Fatalf("second: %d, x-sluice-cache %q: %s", r2.StatusCode, r2.Header.Get("X-Sluice-Cache"), b2)
	}
	env.wantCalls(1, "after the hit")
	if got := r2.Header.Get("X-Sluice-Cache-Key"); got != key {
		t.Errorf("hit key %q, miss key %q", got, key)
	}
	if age, err := strconv.Atoi(r2.Header.Get("Age")); err != nil || age < 0 || age > 60 {
		t.Errorf("Age %q: want the entry's age in seconds", r2.Header.Get("Age"))
	}
	var a1, a2 map[string]any
	if err := json.Unmarshal(b1, &a1); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b2, &a2); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a2, a1); diff != "" {
		t.Errorf("hit body differs from the miss (-hit +miss):\n%s", diff)
	}
	if _, text := finishOf(t, b2, false); text != "What is the capital of France?" {
		t.Errorf("hit text %q", text)
	}

	miss := env.record(r1.Header.Get("X-Request-Id"))
	hit := env.record(r2.Header.Get("X-Request-Id"))
	if miss.CacheStatus != "miss" || miss.CostMicros <= 0 || miss.SavedMicros != 0 {
		t.Errorf("miss record: cache %q, cost %d, saved %d", miss.CacheStatus, miss.CostMicros, miss.SavedMicros)
	}
	if hit.CacheStatus != "hit" || hit.CostMicros != 0 || hit.SavedMicros <= 0 || hit.SavedMicros != miss.CostMicros {
		t.Errorf("hit record: cache %q, cost %d, saved %d; want hit, 0, the miss's cost %d",
			hit.CacheStatus, hit.CostMicros, hit.SavedMicros, miss.CostMicros)
	}
	if hit.Provider != "oai" || hit.Model != "gpt-4o-mini" || hit.Status != 200 {
		t.Errorf("hit record: provider %q, model %q, status %d", hit.Provider, hit.Model, hit.Status)
	}
}

// TestCacheAbandonedStreamIsNotStored: a stream the client leaves before
// its end is not stored: the same request afterwards is a MISS.
func TestCacheAbandonedStreamIsNotStored(t *testing.T) {
	env := newEnvMock(t, mock.Options{StreamChunks: 10, ChunkInterval: 30 * time.Millisecond}, cacheOn)
	body := chatRequest("chat-default", "a long answer that nobody waits for to the end", true)
	req, err := http.NewRequest(http.MethodPost, env.url+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Sluice-Cache") != "MISS" {
		t.Errorf("x-sluice-cache %q, want MISS", resp.Header.Get("X-Sluice-Cache"))
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && !strings.Contains(sc.Text(), `"content":"`) {
	}
	resp.Body.Close() // mid-stream: the connection goes
	rec := env.record(resp.Header.Get("X-Request-Id"))
	if rec.Status != 499 || rec.CacheStatus != "miss" {
		t.Errorf("abandoned stream's record: status %d (%s), cache %q; want 499, miss", rec.Status, rec.ErrorCode, rec.CacheStatus)
	}
	calls := env.upstreamCalls()
	env.sendChat(body, "MISS")
	env.wantCalls(calls+1, "the request after the abandoned stream")
}

// TestCacheTenantsAreKeptApart: the same prompt from keys of two tenants
// reaches the provider twice; under a route whose cache is shared it does
// once.
func TestCacheTenantsAreKeptApart(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true }\n"+cacheOn+
		"routes:\n  - { name: shared-cache, when: 'metadata.share == \"yes\"', model: chat-default, cache: { shared: true } }\n")
	tenA := env.createOrg("/admin/v1/tenants", `{"name":"acme"}`)
	tenB := env.createOrg("/admin/v1/tenants", `{"name":"globex"}`)
	_, keyA := env.createKey(`{"name":"a","tenant_id":"` + tenA + `"}`)
	_, keyB := env.createKey(`{"name":"b","tenant_id":"` + tenB + `"}`)

	body := chatRequest("chat-default", "our quarterly numbers", false)
	env.sendChat(body, "MISS", bearer(keyA)...)
	env.sendChat(body, "MISS", bearer(keyB)...)
	env.wantCalls(2, "one prompt from two tenants")
	env.sendChat(body, "HIT", bearer(keyA)...)
	env.sendChat(body, "HIT", bearer(keyB)...)
	env.wantCalls(2, "each tenant asking again")

	shared := chatRequest("chat-default", "a public question", false)
	md := []string{"X-Sluice-Metadata", `{"share":"yes"}`}
	env.sendChat(shared, "MISS", append(bearer(keyA), md...)...)
	_, text := env.sendChat(shared, "HIT", append(bearer(keyB), md...)...)
	env.wantCalls(3, "a shared cache")
	if text != "a public question" {
		t.Errorf("shared hit text %q", text)
	}
}

func TestCacheRequestControls(t *testing.T) {
	env := newEnvWith(t, cacheOn)
	prompt := func(t *testing.T) string { return chatRequest("chat-default", "controls: "+t.Name(), false) }

	t.Run("skip", func(t *testing.T) {
		env := env.forTest(t)
		body := prompt(t)
		env.sendChat(body, "MISS")
		calls := env.upstreamCalls()
		env.sendChat(body, "BYPASS", "X-Sluice-Skip-Cache", "true")
		env.wantCalls(calls+1, "x-sluice-skip-cache: true")
	})
	t.Run("no-store", func(t *testing.T) {
		env := env.forTest(t)
		body := prompt(t)
		calls := env.upstreamCalls()
		env.sendChat(body, "BYPASS", "Cache-Control", "no-store")
		env.sendChat(body, "MISS")
		env.wantCalls(calls+2, "no-store, then a plain request")
	})
	t.Run("no-cache", func(t *testing.T) {
		env := env.forTest(t)
		body := prompt(t)
		calls := env.upstreamCalls()
		env.sendChat(body, "BYPASS", "Cache-Control", "no-cache")
		env.sendChat(body, "HIT")
		env.wantCalls(calls+1, "no-cache stores its answer")
		env.sendChat(body, "BYPASS", "Cache-Control", "max-age=0, no-cache")
		env.wantCalls(calls+2, "no-cache is not served from the cache")
	})
	t.Run("ttl", func(t *testing.T) {
		env := env.forTest(t)
		body := prompt(t)
		env.sendChat(body, "MISS", "X-Sluice-Cache-Ttl", "1")
		env.sendChat(body, "HIT")
		time.Sleep(1100 * time.Millisecond)
		calls := env.upstreamCalls()
		env.sendChat(body, "MISS")
		env.wantCalls(calls+1, "after the 1s TTL")
	})
	t.Run("custom key", func(t *testing.T) {
		env := env.forTest(t)
		_, first := env.sendChat(chatRequest("chat-default", "first wording", false), "MISS", "X-Sluice-Cache-Key", "faq-42")
		calls := env.upstreamCalls()
		r, text := env.sendChat(chatRequest("chat-default", "second wording", false), "HIT", "X-Sluice-Cache-Key", "faq-42")
		env.wantCalls(calls, "a custom key")
		if text != first || first != "first wording" {
			t.Errorf("custom-key hit %q, want the first answer %q", text, first)
		}
		if k := r.Header.Get("X-Sluice-Cache-Key"); !hexCacheKey.MatchString(k) {
			t.Errorf("x-sluice-cache-key %q", k)
		}
	})
	t.Run("bad values", func(t *testing.T) {
		env := env.forTest(t)
		for _, tc := range []struct{ header, value string }{
			{"X-Sluice-Cache-Ttl", "abc"},
			{"X-Sluice-Cache-Ttl", "0"},
			{"X-Sluice-Cache-Ttl", "99999999999"},
			{"X-Sluice-Cache-Ttl", "-5"},
			{"X-Sluice-Skip-Cache", "maybe"},
			{"X-Sluice-Cache-Key", strings.Repeat("k", 300)},
		} {
			t.Run(tc.header+"="+tc.value[:min(len(tc.value), 12)], func(t *testing.T) {
				env := env.forTest(t)
				calls := env.upstreamCalls()
				resp, b := env.post("/v1/chat/completions", prompt(t), tc.header, tc.value)
				e := decodeAPIError(t, b)
				name := strings.ToLower(tc.header)
				if resp.StatusCode != 400 || deref(e.Error.Code) != "invalid_header" || deref(e.Error.Param) != name ||
					!strings.Contains(e.Error.Message, name) {
					t.Errorf("%d %s: want 400 invalid_header naming %s", resp.StatusCode, b, name)
				}
				env.wantCalls(calls, "a refused request")
			})
		}
	})
}

// cachePolicyConfig has a model without cache settings, cached ones (one
// storing errors, one only answers of up to 16 bytes), and
// a route that switches the cache off; cache.enabled stays false.
const cachePolicyConfig = `
providers:
  - { name: oai, type: openai, base_url: "MOCK/v1", api_key: "sk-test" }
models:
  - name: plain
    targets: [ { provider: oai, model: gpt-4o-mini } ]
  - name: cached
    targets: [ { provider: oai, model: gpt-4o-mini } ]
    cache: { enabled: true }
  - name: cached-errors
    targets: [ { provider: oai, model: gpt-4o-mini } ]
    cache: { enabled: true, statuses: [200, 400] }
  - name: cached-small
    targets: [ { provider: oai, model: gpt-4o-mini } ]
    cache: { enabled: true, max_entry_bytes: 16 }
routes:
  - { name: uncached, when: 'metadata.cache == "off"', model: cached, cache: { enabled: false } }
`

func TestCachePolicy(t *testing.T) {
	m, url := startMock(t, mock.Options{})
	env := startEnv(t, strings.ReplaceAll(cachePolicyConfig, "MOCK", url))
	env.mock, env.mockURL = m, url

	t.Run("no cache configured", func(t *testing.T) {
		bare := newEnv(t)
		body := chatRequest("chat-default", "no cache here", false)
		bare.sendChat(body, "")
		bare.sendChat(body, "")
		bare.wantCalls(2, "no cache")
	})
	t.Run("model without settings", func(t *testing.T) {
		env := env.forTest(t)
		body := chatRequest("plain", "plain model", false)
		calls := env.upstreamCalls()
		env.sendChat(body, "")
		env.sendChat(body, "")
		env.wantCalls(calls+2, "a model the cache is off for")
	})
	t.Run("model enabled", func(t *testing.T) {
		env := env.forTest(t)
		body := chatRequest("cached", "cached model", false)
		calls := env.upstreamCalls()
		env.sendChat(body, "MISS")
		env.sendChat(body, "HIT")
		env.wantCalls(calls+1, "a cached model")
	})
	t.Run("route disables", func(t *testing.T) {
		env := env.forTest(t)
		body := chatRequest("cached", "routed around the cache", false)
		md := []string{"X-Sluice-Metadata", `{"cache":"off"}`}
		calls := env.upstreamCalls()
		env.sendChat(body, "", md...)
		env.sendChat(body, "", md...)
		env.wantCalls(calls+2, "a route with the cache off")
	})
	t.Run("max entry bytes", func(t *testing.T) {
		env := env.forTest(t)
		calls := env.upstreamCalls()
		for _, stream := range []bool{false, false, true, true} {
			env.sendChat(chatRequest("cached-small", "an answer longer than sixteen bytes", stream), "MISS")
		}
		env.wantCalls(calls+4, "answers too big to store")
		small := chatRequest("cached-small", "short", false)
		env.sendChat(small, "MISS")
		env.sendChat(small, "HIT")
	})
	t.Run("error statuses cached", func(t *testing.T) {
		env := env.forTest(t)
		body := chatRequest("cached-errors", "a request the provider refuses", false)
		calls := env.upstreamCalls()
		env.fault(`{"status":400}`)
		r1, b1 := env.post("/v1/chat/completions", body)
		r2, b2 := env.post("/v1/chat/completions", body)
		env.wantCalls(calls+1, "a cached 400")
		if r1.StatusCode != 400 || r1.Header.Get("X-Sluice-Cache") != "MISS" {
			t.Errorf("first: %d, x-sluice-cache %q: %s", r1.StatusCode, r1.Header.Get("X-Sluice-Cache"), b1)
		}
		if r2.StatusCode != 400 || r2.Header.Get("X-Sluice-Cache") != "HIT" {
			t.Errorf("second: %d, x-sluice-cache %q: %s", r2.StatusCode, r2.Header.Get("X-Sluice-Cache"), b2)
		}
		if e1, e2 := decodeAPIError(t, b1), decodeAPIError(t, b2); e1.Error.Message != e2.Error.Message || e1.Error.Type != e2.Error.Type {
			t.Errorf("replayed error %+v, want %+v", e2.Error, e1.Error)
		}
	})
	t.Run("error statuses not cached by default", func(t *testing.T) {
		env := env.forTest(t)
		body := chatRequest("cached", "another refused request", false)
		calls := env.upstreamCalls()
		env.fault(`{"status":400}`)
		if r, b := env.post("/v1/chat/completions", body); r.StatusCode != 400 || r.Header.Get("X-Sluice-Cache") != "MISS" {
			t.Errorf("first: %d, x-sluice-cache %q: %s", r.StatusCode, r.Header.Get("X-Sluice-Cache"), b)
		}
		env.sendChat(body, "MISS")
		env.wantCalls(calls+2, "an uncached 400, then the same request")
	})
}

// purgeCache sends an admin DELETE to path, checks that it answers want,
// and returns the body.
func (e *testEnv) purgeCache(path string, want int) []byte {
	e.t.Helper()
	resp, b := e.adminDo(http.MethodDelete, path, "")
	if resp.StatusCode != want {
		e.t.Fatalf("DELETE %s: %d %s, want %d", path, resp.StatusCode, b, want)
	}
	return b
}

// purged is the deleted count of a purge answer.
func purged(t *testing.T, b []byte) int {
	t.Helper()
	var p struct {
		Object  string
		Deleted int
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Object != "cache.purge" {
		t.Fatalf("purge answer (%v): %s", err, b)
	}
	return p.Deleted
}

// TestCachePurge: the admin API purges one key, one model or everything;
// only owners and admins may.
func TestCachePurge(t *testing.T) {
	env := newEnvWith(t, cacheOn)
	t.Run("key", func(t *testing.T) {
		env := env.forTest(t)
		body := chatRequest("chat-default", "purge me by key", false)
		r, _ := env.sendChat(body, "MISS")
		env.sendChat(body, "HIT")
		key := r.Header.Get("X-Sluice-Cache-Key")
		if n := purged(t, env.purgeCache("/admin/v1/cache/"+key, 200)); n != 1 {
			t.Errorf("deleted %d, want 1", n)
		}
		env.sendChat(body, "MISS")
		env.purgeCache("/admin/v1/cache/"+strings.Repeat("0", 64), 404)
	})
	t.Run("bad key", func(t *testing.T) {
		env := env.forTest(t)
		for _, k := range []string{"not-a-key", strings.Repeat("A", 64), strings.Repeat("0", 63)} {
			env.purgeCache("/admin/v1/cache/"+k, 400)
		}
	})
	t.Run("model", func(t *testing.T) {
		env := env.forTest(t)
		a := chatRequest("chat-default", "purge by model", false)
		b := chatRequest("oai/gpt-4o-mini", "purge by model", false)
		env.sendChat(a, "MISS")
		env.sendChat(b, "MISS")
		if n := purged(t, env.purgeCache("/admin/v1/cache?model=chat-default", 200)); n < 1 {
			t.Errorf("deleted %d, want at least 1", n)
		}
		env.sendChat(a, "MISS")
		env.sendChat(b, "HIT")
	})
	t.Run("all", func(t *testing.T) {
		env := env.forTest(t)
		a := chatRequest("chat-default", "purge everything", false)
		b := chatRequest("oai/gpt-4o-mini", "purge everything", false)
		env.sendChat(a, "MISS")
		env.sendChat(b, "MISS")
		if n := purged(t, env.purgeCache("/admin/v1/cache", 200)); n < 2 {
			t.Errorf("deleted %d, want at least 2", n)
		}
		env.sendChat(a, "MISS")
		env.sendChat(b, "MISS")
	})
	t.Run("refused", func(t *testing.T) {
		env := env.forTest(t)
		_, viewer := env.createKey(`{"name":"v","role":"viewer"}`)
		ten := env.createOrg("/admin/v1/tenants", `{"name":"acme"}`)
		_, tenantAdmin := env.createKey(`{"name":"ta","role":"admin","tenant_id":"` + ten + `"}`)
		body := chatRequest("chat-default", "a viewer cannot purge this", false)
		r, _ := env.sendChat(body, "MISS")
		for _, secret := range []string{viewer, tenantAdmin} {
			for _, path := range []string{"/admin/v1/cache", "/admin/v1/cache?model=chat-default", "/admin/v1/cache/" + r.Header.Get("X-Sluice-Cache-Key")} {
				req, _ := http.NewRequest(http.MethodDelete, env.url+path, nil)
				req.Header.Set("Authorization", "Bearer "+secret)
				if resp, b := env.do(req); resp.StatusCode != 403 {
					t.Errorf("DELETE %s by a viewer or a tenant's admin: %d %s, want 403", path, resp.StatusCode, b)
				}
			}
		}
		env.sendChat(body, "HIT")
	})
}

// concurrentChats sends n identical chat requests at once (released
// together) and returns each one's x-sluice-cache and
// x-sluice-cache-coalesced headers, answer text and request id.
func (e *testEnv) concurrentChats(n int, body string) (statuses, coalesced, texts, ids []string) {
	return e.concurrentMixed(n, func(int) string { return body })
}

// concurrentMixed is concurrentChats with request i's body from body(i).
func (e *testEnv) concurrentMixed(n int, body func(i int) string) (statuses, coalesced, texts, ids []string) {
	e.t.Helper()
	statuses, coalesced, texts, ids = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	bodies, streams := make([][]byte, n), make([]bool, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			resp, err := http.Post(e.url+"/v1/chat/completions", "application/json", strings.NewReader(body(i)))
			if err != nil {
				e.t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 {
				e.t.Errorf("request %d: %d %v: %s", i, resp.StatusCode, err, b)
				return
			}
			bodies[i] = b
			streams[i] = strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
			statuses[i] = resp.Header.Get("X-Sluice-Cache")
			coalesced[i] = resp.Header.Get("X-Sluice-Cache-Coalesced")
			ids[i] = resp.Header.Get("X-Request-Id")
		})
	}
	close(start)
	wg.Wait()
	for i, b := range bodies {
		if b == nil {
			continue // failed above
		}
		if streams[i] && !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
			e.t.Errorf("request %d: stream cut short:\n%s", i, b)
		}
		_, texts[i] = finishOf(e.t, b, streams[i]) // here: it may call Fatal
	}
	return statuses, coalesced, texts, ids
}

// countOf counts the elements of ss equal to s.
func countOf(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

// TestCacheCoalescing: identical requests arriving together share one
// upstream call, whole or streamed; past max_waiters the rest go alone.
func TestCacheCoalescing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		stream bool
	}{{"whole", 50, false}, {"streamed", 10, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newEnvMock(t, mock.Options{Latency: 300 * time.Millisecond, StreamChunks: 4, ChunkInterval: 20 * time.Millisecond}, cacheOn)
			prompt := "one upstream call for " + tc.name
			statuses, coalesced, texts, ids := env.concurrentChats(tc.n, chatRequest("chat-default", prompt, tc.stream))
			env.wantCalls(1, fmt.Sprintf("%d identical requests at once", tc.n))
			for i, text := range texts {
				if text != prompt {
					t.Errorf("answer %d: %q, want %q", i, text, prompt)
				}
			}
			misses, hits, joined := countOf(statuses, "MISS"), countOf(statuses, "HIT"), countOf(coalesced, "true")
			t.Logf("%d MISS, %d HIT of which %d coalesced", misses, hits, joined)
			if misses != 1 || hits != tc.n-1 || joined == 0 {
				t.Errorf("%d MISS, %d HIT, %d coalesced: want 1 MISS, %d HIT, most of them coalesced", misses, hits, joined, tc.n-1)
			}
			if i := slices.Index(coalesced, "true"); i >= 0 {
				rec := env.record(ids[i])
				if rec.CacheStatus != "coalesced" || rec.CostMicros != 0 || rec.SavedMicros <= 0 || rec.Provider != "oai" {
					t.Errorf("coalesced record: cache %q, cost %d, saved %d, provider %q; want coalesced, 0, > 0, oai",
						rec.CacheStatus, rec.CostMicros, rec.SavedMicros, rec.Provider)
				}
			}
		})
	}
	t.Run("whole and streamed together", func(t *testing.T) {
		t.Parallel()
		env := newEnvMock(t, mock.Options{Latency: 300 * time.Millisecond, StreamChunks: 4}, cacheOn)
		const prompt = "streams and whole answers share a call"
		statuses, _, texts, _ := env.concurrentMixed(8, func(i int) string { return chatRequest("chat-default", prompt, i%2 == 1) })
		env.wantCalls(1, "4 whole and 4 streamed identical requests")
		if countOf(statuses, "MISS") != 1 || countOf(texts, prompt) != 8 {
			t.Errorf("statuses %v, texts %q", statuses, texts)
		}
	})
	t.Run("max waiters", func(t *testing.T) {
		t.Parallel()
		env := newEnvMock(t, mock.Options{Latency: 300 * time.Millisecond},
			"cache: { enabled: true, coalesce: { max_waiters: 2 } }\n")
		const prompt = "more callers than waiters"
		_, coalesced, texts, _ := env.concurrentChats(6, chatRequest("chat-default", prompt, false))
		if n := env.upstreamCalls(); n < 2 {
			t.Errorf("6 requests with max_waiters 2: %d upstream calls, want more than one", n)
		}
		if n := countOf(coalesced, "true"); n > 2 {
			t.Errorf("%d requests coalesced, want at most 2", n)
		}
		for i, text := range texts {
			if text != prompt {
				t.Errorf("answer %d: %q", i, text)
			}
		}
	})
}

// semanticOn switches the cache and its semantic part on, embedding with
// the mock's bag-of-words embeddings at 64 dimensions, where "What is the
// capital of France?" and "Tell me the capital of France" are 0.816
// similar: above the threshold of 0.8.
const semanticOn = `cache:
  enabled: true
  semantic: { enabled: true, embedding_model: oai/text-embedding-3-small, dimensions: 64, threshold: 0.8, max_temperature: 1 }
`

// TestCacheSemantic: a paraphrase gets the cached answer (SEMANTIC_HIT);
// an unrelated prompt, a request with tools or sampling hotter than
// max_temperature, and another tenant do not.
func TestCacheSemantic(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true }\n"+semanticOn)
	tenA := env.createOrg("/admin/v1/tenants", `{"name":"acme"}`)
	tenB := env.createOrg("/admin/v1/tenants", `{"name":"globex"}`)
	_, keyA := env.createKey(`{"name":"a","tenant_id":"` + tenA + `"}`)
	_, keyB := env.createKey(`{"name":"b","tenant_id":"` + tenB + `"}`)
	a, b := bearer(keyA), bearer(keyB)

	// Each eligible miss costs an embedding and a chat call.
	_, first := env.sendChat(chatRequest("chat-default", "What is the capital of France?", false), "MISS", a...)
	env.wantCalls(2, "an eligible miss")
	r, text := env.sendChat(chatRequest("chat-default", "Tell me the capital of France", false), "SEMANTIC_HIT", a...)
	env.wantCalls(3, "a semantic hit (one embedding)")
	if text != first {
		t.Errorf("semantic hit %q, want the cached answer %q", text, first)
	}
	if sim, err := strconv.ParseFloat(r.Header.Get("X-Sluice-Cache-Similarity"), 64); err != nil || sim < 0.8 || sim > 1 {
		t.Errorf("x-sluice-cache-similarity %q: want 0.8 to 1", r.Header.Get("X-Sluice-Cache-Similarity"))
	}
	if r.Header.Get("Age") == "" {
		t.Error("a semantic hit has no Age")
	}
	rec := env.record(r.Header.Get("X-Request-Id"))
	if rec.CacheStatus != "semantic_hit" || rec.CostMicros != 0 || rec.SavedMicros <= 0 {
		t.Errorf("semantic hit record: cache %q, cost %d, saved %d", rec.CacheStatus, rec.CostMicros, rec.SavedMicros)
	}

	if _, text := env.sendChat(chatRequest("chat-default", "Tell me the capital of France", true), "SEMANTIC_HIT", a...); text != first {
		t.Errorf("streamed semantic hit %q, want %q", text, first)
	}
	env.wantCalls(4, "a streamed semantic hit")

	env.sendChat(chatRequest("chat-default", "How do I bake bread?", false), "MISS", a...)
	env.wantCalls(6, "an unrelated prompt")

	tools := `{"model":"chat-default","messages":[{"role":"user","content":"Tell me the capital of France"}],` +
		`"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]}`
	if resp, body := env.post("/v1/chat/completions", tools, a...); resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != "MISS" {
		t.Errorf("with tools: %d, x-sluice-cache %q: %s", resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), body)
	}
	env.wantCalls(7, "a request with tools (not embedded)")

	hot := `{"model":"chat-default","temperature":1.5,"messages":[{"role":"user","content":"Tell me the capital of France"}]}`
	env.sendChat(hot, "MISS", a...)
	env.wantCalls(8, "temperature above max_temperature (not embedded)")

	env.sendChat(chatRequest("chat-default", "Tell me the capital of France", false), "MISS", b...)
	env.wantCalls(10, "another tenant's paraphrase")

	if resp, body := env.adminDo(http.MethodDelete, "/admin/v1/cache", ""); resp.StatusCode != 200 {
		t.Fatalf("purge: %d %s", resp.StatusCode, body)
	}
	env.sendChat(chatRequest("chat-default", "Tell me the capital of France", false), "MISS", a...)
	env.wantCalls(12, "a paraphrase after purging everything")
}

// redisCache returns a cache: section on the redis backend of
// SLUICE_TEST_REDIS, under a prefix of this test's own whose keys are
// deleted when it ends; it skips the test when the variable is unset.
func redisCache(t *testing.T) string {
	t.Helper()
	url := os.Getenv("SLUICE_TEST_REDIS")
	if url == "" {
		t.Skip("SLUICE_TEST_REDIS is unset (e.g. redis://127.0.0.1:6379/0): skipping the Redis cache backend test")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("SLUICE_TEST_REDIS: %v", err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(t.Context()).Err(); err != nil {
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
	return fmt.Sprintf("cache: { enabled: true, backend: redis, redis_url: %q, redis_prefix: %q }\n", url, prefix)
}

func TestCacheRedisBackend(t *testing.T) {
	env := newEnvWith(t, redisCache(t))
	body := chatRequest("chat-default", "kept in Redis", false)
	r1, text1 := env.sendChat(body, "MISS")
	r2, text2 := env.sendChat(body, "HIT")
	env.wantCalls(1, "a Redis hit")
	if text1 != text2 || r1.Header.Get("X-Sluice-Cache-Key") != r2.Header.Get("X-Sluice-Cache-Key") {
		t.Errorf("hit %q (key %s), miss %q (key %s)", text2, r2.Header.Get("X-Sluice-Cache-Key"), text1, r1.Header.Get("X-Sluice-Cache-Key"))
	}
	rec := env.record(r2.Header.Get("X-Request-Id"))
	if rec.CacheStatus != "hit" || rec.CostMicros != 0 || rec.SavedMicros <= 0 || rec.Provider != "oai" {
		t.Errorf("hit record: cache %q, cost %d, saved %d, provider %q", rec.CacheStatus, rec.CostMicros, rec.SavedMicros, rec.Provider)
	}
	// A streamed replay out of Redis, then a purge of the model.
	env.sendChat(chatRequest("chat-default", "kept in Redis", true), "HIT")
	if resp, b := env.adminDo(http.MethodDelete, "/admin/v1/cache?model=chat-default", ""); resp.StatusCode != 200 ||
		!strings.Contains(string(b), `"deleted":1`) {
		t.Errorf("purge: %d %s", resp.StatusCode, b)
	}
	env.sendChat(body, "MISS")
}

// TestCacheRedisDown: with the cache's Redis unreachable requests are
// served (as misses) and the failures counted.
func TestCacheRedisDown(t *testing.T) {
	env := newEnvWith(t, fmt.Sprintf("cache: { enabled: true, backend: redis, redis_url: \"redis://%s/0\" }\n", closedPort(t)))
	body := chatRequest("chat-default", "Redis is down", false)
	for range 2 {
		// A dead Redis must not hold requests for the client's default
		// timeouts and retries (5s to dial, 3s to read, 3 retries).
		start := time.Now()
		env.sendChat(body, "MISS")
		if d := time.Since(start); d > time.Second {
			t.Errorf("a request took %v with Redis down", d)
		}
	}
	env.wantCalls(2, "no cache to serve from")
	_, m := env.get("/metrics")
	lines := metricLines(string(m), "sluice_cache_errors_total")
	n := 0.0
	for _, l := range strings.Split(lines, "\n") {
		if f := strings.Fields(l); len(f) == 2 && strings.HasPrefix(l, "sluice_cache_errors_total{") {
			v, _ := strconv.ParseFloat(f[1], 64)
			n += v
		}
	}
	if n < 2 {
		t.Errorf("sluice_cache_errors_total sums to %v, want at least 2 (a get and a set per request):\n%s", n, lines)
	}
}
