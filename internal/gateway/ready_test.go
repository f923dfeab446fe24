package gateway_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// readyBody is the /readyz answer.
type readyBody struct {
	Status   string   `json:"status"`
	Node     string   `json:"node"`
	Degraded []string `json:"degraded"`
}

// ready fetches /readyz, which must answer 200, and decodes it strictly.
func (e *testEnv) ready() readyBody {
	e.t.Helper()
	resp, b := e.get("/readyz")
	if resp.StatusCode != 200 {
		e.t.Fatalf("/readyz: %d %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Errorf("/readyz Content-Type %q", ct)
	}
	var r readyBody
	if err := json.Unmarshal(b, &r); err != nil || r.Degraded == nil {
		e.t.Fatalf("/readyz body (%v): %s", err, b)
	}
	return r
}

// wantReady fails the test unless /readyz says want.
func (e *testEnv) wantReady(what string, want readyBody) {
	e.t.Helper()
	if d := cmp.Diff(e.ready(), want); d != "" {
		e.t.Errorf("/readyz %s (-got +want):\n%s", what, d)
	}
}

// sendOK sends one chat that must succeed.
func (e *testEnv) sendOK() {
	e.t.Helper()
	if resp, body := e.post("/v1/chat/completions", chatBody); resp.StatusCode != 200 {
		e.t.Fatalf("chat: %d %s", resp.StatusCode, body)
	}
}

// TestReadyzSaysWhatIsDegraded: a replica is ready until a Redis it
// uses fails a request, then degraded (still 200) with that Redis listed.
func TestReadyzSaysWhatIsDegraded(t *testing.T) {
	const node = "cluster: { node_id: ready-1 }\n"
	for _, tc := range []struct {
		name  string
		extra string
		// after is /readyz's degraded list once one chat has been sent.
		after []string
	}{
		{name: "memory backends", extra: node + "limits: { per_ip: { rpm: 1000 } }\n", after: []string{}},
		{name: "limits' Redis down, local fallback",
			extra: node + "limits: { backend: redis, redis_url: \"redis://" + closedPort(t) + "/0\", per_ip: { rpm: 1000 } }\n",
			after: []string{"redis_limits"}},
		{name: "limits' Redis down, closed", // the chat is refused with 503
			extra: node + "limits: { backend: redis, redis_url: \"redis://" + closedPort(t) + "/0\", on_redis_error: closed, per_ip: { rpm: 1000 } }\n",
			after: []string{"redis_limits"}},
		{name: "cache's Redis down",
			extra: node + "cache: { enabled: true, backend: redis, redis_url: \"redis://" + closedPort(t) + "/0\" }\n",
			after: []string{"redis_cache"}},
		{name: "both Redis down (cluster.redis_url)",
			extra: "cluster: { node_id: ready-1, redis_url: \"redis://" + closedPort(t) + "/0\" }\n" +
				"cache: { enabled: true }\nlimits: { per_ip: { rpm: 1000 } }\n",
			after: []string{"redis_limits", "redis_cache"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnvWith(t, tc.extra)
			env.wantReady("before any request", readyBody{Status: "ready", Node: "ready-1", Degraded: []string{}})
			env.post("/v1/chat/completions", chatBody)
			want := readyBody{Status: "degraded", Node: "ready-1", Degraded: tc.after}
			if len(tc.after) == 0 {
				want.Status = "ready"
			}
			env.wantReady("after one request", want)
		})
	}
}

// TestReadyzHealthyRedis: limits and cache on a Redis that answers (set
// through cluster.redis_url) leave the replica ready.
func TestReadyzHealthyRedis(t *testing.T) {
	url := os.Getenv("SLUICE_TEST_REDIS")
	if url == "" {
		t.Skip("SLUICE_TEST_REDIS is unset (e.g. redis://127.0.0.1:6379/0): skipping the healthy-Redis /readyz test")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("SLUICE_TEST_REDIS: %v", err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "sluicetest:" + t.Name() + ":" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	env := newEnvWith(t, fmt.Sprintf("cluster: { node_id: ready-2, redis_url: %q }\n"+
		"limits: { redis_prefix: %q, per_ip: { rpm: 1000 } }\ncache: { enabled: true, redis_prefix: %q }\n",
		url, prefix+"limits:", prefix+"cache:"))
	env.sendOK()
	env.sendOK() // the second is a cache hit out of Redis
	env.wantReady("with Redis answering", readyBody{Status: "ready", Node: "ready-2", Degraded: []string{}})
	n, err := rdb.Keys(context.Background(), prefix+"*").Result()
	if err != nil || len(n) == 0 {
		t.Errorf("no key under %s in Redis (%v): the test did not use it", prefix, err)
	}
}

// TestReadyzStoreDown: with PostgreSQL cut off, /readyz lists "store"
// (a failed ping, and records spooling) while the replica serves; once it
// is back the replica is ready again.
func TestReadyzStoreDown(t *testing.T) {
	direct := postgresSchema(t)
	sw := newTCPSwitch(t, direct.Host)
	viaSwitch := *direct
	viaSwitch.Host = sw.ln.Addr().String()
	env := newEnvWith(t, "cluster: { node_id: ready-3 }\n"+
		"store: { driver: postgres, dsn: \""+viaSwitch.String()+"\" }\n"+
		"request_log: { flush_interval: 10ms, write_timeout: 300ms, retry_interval: 100ms }\n")
	env.sendOK()
	env.wantReady("with the store up", readyBody{Status: "ready", Node: "ready-3", Degraded: []string{}})

	sw.set(true)
	env.sendOK()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := env.ready()
		if cmp.Equal(r, readyBody{Status: "degraded", Node: "ready-3", Degraded: []string{"store"}}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with the store cut off: %+v after 5s, want degraded [store]", r)
		}
		time.Sleep(50 * time.Millisecond)
	}

	sw.set(false)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if r := env.ready(); r.Status == "ready" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("/readyz after the store came back: %+v after 10s, want ready", r)
		}
	}
}
