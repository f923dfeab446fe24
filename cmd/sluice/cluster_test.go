package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// The issue-10 checks: three `sluice serve` replicas on one PostgreSQL and
// one Redis behave as one gateway. The harness is in
// cluster_helpers_test.go.

const (
	// propagationLimit is how soon a key change made through one replica
	// must hold on the others; auth.key_refresh is 1m, so only change
	// propagation can meet it.
	propagationLimit = time.Second
	// propagationPoll is how often the other replicas are asked meanwhile.
	propagationPoll = 20 * time.Millisecond

	// sharedLimit requests per sharedWindow is the shared rate limit's
	// key limit (limits.window shortened so the check takes seconds).
	sharedLimit  = 300
	sharedWindow = 3 * time.Second
	// sharedWarmup is spent before the measured window: the burst.
	sharedWarmup = time.Second
)

// TestCluster starts three replicas and runs the checks that share them.
func TestCluster(t *testing.T) {
	needCluster(t)
	redisURL := os.Getenv("SLUICE_TEST_REDIS")
	c := newCluster(t, clusterOptions{redisURL: redisURL, prefix: redisPrefix(t, redisURL),
		limits: "window: " + sharedWindow.String()})
	// Keys made before the replicas start are loaded by each: only the
	// propagation check depends on change propagation.
	plain, _ := c.cliKey(t, "plain", 0)
	logged, loggedID := c.cliKey(t, "logged", 0)
	limited, _ := c.cliKey(t, "limited", sharedLimit)
	revoked, revokedID := c.cliKey(t, "revoked", 0)
	c.start(t)

	t.Run("ReadyzNamesTheNode", func(t *testing.T) { testReadyzNamesTheNode(t, c) })
	t.Run("KeyPropagation", func(t *testing.T) { testKeyPropagation(t, c, revoked, revokedID) })
	t.Run("SharedCache", func(t *testing.T) { testSharedCache(t, c, plain) })
	t.Run("LogsFromEveryNode", func(t *testing.T) { testLogsFromEveryNode(t, c, logged, loggedID) })
	t.Run("SharedRateLimit", func(t *testing.T) { testSharedRateLimit(t, c, limited) })
}

// testReadyzNamesTheNode: each replica is ready, with nothing degraded,
// and names itself.
func testReadyzNamesTheNode(t *testing.T, c *cluster) {
	for i := range c.urls {
		r := c.ready(t, i)
		if r.code != http.StatusOK || r.Status != "ready" || len(r.Degraded) != 0 || r.Node != nodeName(i) {
			t.Errorf("/readyz on %s: %d %+v; want 200 ready, nothing degraded, node %s", nodeName(i), r.code, r, nodeName(i))
		}
	}
}

// testKeyPropagation: a key created through replica 1's admin API works
// on all three within propagationLimit; a key every replica knows (made
// before they started), revoked through replica 1, is refused (401) by
// replicas 2 and 3 within propagationLimit.
func testKeyPropagation(t *testing.T, c *cluster, secret, id string) {
	a := c.admin(t, 0, http.MethodPost, "/keys", `{"name":"propagation"}`)
	if a.status != http.StatusCreated {
		t.Fatalf("POST /keys on replica-1: %d %s", a.status, a.body)
	}
	created := time.Now()
	var k struct{ ID, Key string }
	if err := json.Unmarshal(a.body, &k); err != nil || k.ID == "" || k.Key == "" {
		t.Fatalf("POST /keys answer %s: %v", a.body, err)
	}
	works := c.awaitStatus(t, []int{0, 1, 2}, k.Key, http.StatusOK, created)
	for _, i := range slices.Sorted(maps.Keys(works)) {
		t.Logf("created through replica-1: the key works on %s %v later", nodeName(i), works[i])
	}

	for i := range c.urls {
		// A key a replica never knew would be refused anyway.
		if a, err := c.chat(i, secret, "before the revocation", "Cache-Control", "no-store"); err != nil || a.status != http.StatusOK {
			t.Fatalf("%s before the revocation: %d %v %s", nodeName(i), a.status, err, a.body)
		}
	}
	a = c.admin(t, 0, http.MethodDelete, "/keys/"+id, "")
	if a.status != http.StatusNoContent {
		t.Fatalf("DELETE /keys/%s on replica-1: %d %s", id, a.status, a.body)
	}
	revoked := time.Now()
	if got, err := c.chat(0, secret, "after the revocation"); err != nil || got.status != http.StatusUnauthorized {
		t.Errorf("replica-1 after its own revocation: %d %v, want 401 at once", got.status, err)
	}
	refused := c.awaitStatus(t, []int{1, 2}, secret, http.StatusUnauthorized, revoked)
	for _, i := range slices.Sorted(maps.Keys(refused)) {
		t.Logf("revoked through replica-1: %s refuses the key %v later", nodeName(i), refused[i])
	}
}

// awaitStatus asks each of replicas with secret every propagationPoll
// until it answers want, and returns how long after since each did. A
// replica that has not within propagationLimit fails t.
func (c *cluster) awaitStatus(t *testing.T, replicas []int, secret string, want int, since time.Time) map[int]time.Duration {
	t.Helper()
	got := map[int]time.Duration{}
	last := map[int]string{}
	tick := time.NewTicker(propagationPoll)
	defer tick.Stop()
	for {
		for _, i := range replicas {
			if _, ok := got[i]; ok {
				continue
			}
			a, err := c.chat(i, secret, "propagation probe", "Cache-Control", "no-store")
			switch {
			case err != nil:
				last[i] = err.Error()
			case a.status == want:
				got[i] = time.Since(since)
			default:
				last[i] = fmt.Sprintf("%d %s", a.status, clip(a.body))
			}
		}
		if len(got) == len(replicas) {
			return got
		}
		if time.Since(since) > propagationLimit {
			for _, i := range replicas {
				if _, ok := got[i]; !ok {
					t.Errorf("%s did not answer %d within %v; last answer: %s", nodeName(i), want, propagationLimit, last[i])
				}
			}
			return got
		}
		<-tick.C
	}
}

// testSharedCache: an answer cached through replica 2 is a HIT on
// replica 3, which does not call the provider.
func testSharedCache(t *testing.T, c *cluster, secret string) {
	prompt := "Name a river in Egypt, cluster run " + time.Now().Format(time.RFC3339Nano)
	miss, err := c.chat(1, secret, prompt)
	if err != nil || miss.status != http.StatusOK {
		t.Fatalf("replica-2: %d %v %s", miss.status, err, miss.body)
	}
	if s := miss.header.Get("X-Sluice-Cache"); s != "MISS" {
		t.Fatalf("replica-2: x-sluice-cache %q, want MISS for a new prompt", s)
	}
	calls := c.mock.Stats().Requests
	hit, err := c.chat(2, secret, prompt)
	if err != nil || hit.status != http.StatusOK {
		t.Fatalf("replica-3: %d %v %s", hit.status, err, hit.body)
	}
	if s := hit.header.Get("X-Sluice-Cache"); s != "HIT" {
		t.Errorf("replica-3: x-sluice-cache %q, want HIT (cached through replica-2)", s)
	}
	if n := c.mock.Stats().Requests - calls; n != 0 {
		t.Errorf("the provider saw %d requests for replica-3's hit, want none", n)
	}
	if got, want := content(t, hit.body), content(t, miss.body); got != want {
		t.Errorf("replica-3 answered %q, want replica-2's cached %q", got, want)
	}
}

// content is a chat completion's first message text.
func content(t *testing.T, body []byte) string {
	t.Helper()
	var v struct {
		Choices []struct {
			Message struct{ Content string }
		}
	}
	if err := json.Unmarshal(body, &v); err != nil || len(v.Choices) == 0 {
		t.Fatalf("not a chat completion (%v): %s", err, body)
	}
	return v.Choices[0].Message.Content
}

// testLogsFromEveryNode: requests through each replica are listed by one
// query on replica 1, each record naming the replica that served it, and
// ?node= keeps only that replica's.
func testLogsFromEveryNode(t *testing.T, c *cluster, secret, keyID string) {
	const perReplica = 2
	sentBy := map[string]string{} // request ID → node
	for i := range c.urls {
		for n := range perReplica {
			a, err := c.chat(i, secret, fmt.Sprintf("log me %d", n))
			if err != nil || a.status != http.StatusOK {
				t.Fatalf("%s: %d %v %s", nodeName(i), a.status, err, a.body)
			}
			sentBy[a.header.Get("X-Request-Id")] = nodeName(i)
		}
	}

	all := url.Values{"key_id": {keyID}, "limit": {"100"}}
	var nodes map[string]string
	deadline := time.Now().Add(5 * time.Second)
	for {
		nodes = c.logNodes(t, all)
		if len(nodes) >= len(sentBy) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the writers flush every 10ms
	}
	seen := map[string]bool{}
	for id, want := range sentBy {
		got, ok := nodes[id]
		switch {
		case !ok:
			t.Errorf("request %s (through %s) is not in replica-1's log list", id, want)
		case got != want:
			t.Errorf("request %s went through %s, its record says node %q", id, want, got)
		default:
			seen[got] = true
		}
	}
	if len(nodes) != len(sentBy) {
		t.Errorf("the key's log lists %d records, want %d", len(nodes), len(sentBy))
	}
	if len(seen) != len(c.urls) {
		t.Errorf("records from nodes %v, want all %d replicas", seen, len(c.urls))
	}

	only := url.Values{"key_id": {keyID}, "node": {nodeName(1)}}
	var want []string
	for id, node := range sentBy {
		if node == nodeName(1) {
			want = append(want, id)
		}
	}
	filtered := c.logNodes(t, only)
	var got []string
	for id, node := range filtered {
		got = append(got, id)
		if node != nodeName(1) {
			t.Errorf("?node=%s lists %s of node %q", nodeName(1), id, node)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("?node=%s lists %v, want %v", nodeName(1), got, want)
	}
}

// logNodes lists replica 1's GET /admin/v1/logs?q as request ID → node.
func (c *cluster) logNodes(t *testing.T, q url.Values) map[string]string {
	t.Helper()
	a := c.admin(t, 0, http.MethodGet, "/logs?"+q.Encode(), "")
	if a.status != http.StatusOK {
		t.Fatalf("GET /logs?%s: %d %s", q.Encode(), a.status, a.body)
	}
	var page struct {
		Data []struct {
			ID   string
			Node *string
		}
	}
	if err := json.Unmarshal(a.body, &page); err != nil {
		t.Fatalf("GET /logs: %v: %s", err, a.body)
	}
	out := map[string]string{}
	for _, r := range page.Data {
		if r.Node == nil {
			t.Fatalf("GET /logs: record %s has no node member", r.ID)
		}
		out[r.ID] = *r.Node
	}
	return out
}

// testSharedRateLimit: a key of sharedLimit requests per sharedWindow,
// used round-robin through the three replicas by 12 clients, admits
// sharedLimit ± 2 % in a window once the burst is spent, as one gateway
// would (see TestRateLimitAcrossThreeProcessesSharingRedis).
func testSharedRateLimit(t *testing.T, c *cluster, secret string) {
	start := time.Now()
	stop := start.Add(sharedWarmup + sharedWindow)
	var (
		mu      sync.Mutex
		times   []time.Time
		refused int
		per     = make([]int, len(c.urls))
		wg      sync.WaitGroup
	)
	for n := range 12 {
		wg.Go(func() {
			i := n % len(c.urls)
			for time.Now().Before(stop) {
				a, err := c.chat(i, secret, "count me")
				if err != nil {
					t.Error(err)
					return
				}
				at := time.Now()
				mu.Lock()
				switch a.status {
				case http.StatusOK:
					times = append(times, at)
					per[i]++
				case http.StatusTooManyRequests:
					refused++
				default:
					t.Errorf("%s: %d %s", nodeName(i), a.status, a.body)
				}
				mu.Unlock()
				if a.status == http.StatusTooManyRequests {
					time.Sleep(2 * time.Millisecond) // spare the shared CPU
				}
			}
		})
	}
	wg.Wait()
	from, to := start.Add(sharedWarmup), start.Add(sharedWarmup+sharedWindow)
	n := 0
	for _, at := range times {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	const slack = sharedLimit / 50
	t.Logf("%d admitted in all (per replica %v), %d refused; %d admitted in the %v after the first %v, want %d ± %d",
		len(times), per, refused, n, sharedWindow, sharedWarmup, sharedLimit, slack)
	if n < sharedLimit-slack || n > sharedLimit+slack {
		t.Errorf("admitted %d in %v across three replicas, want %d ± %d", n, sharedWindow, sharedLimit, slack)
	}
	for i, k := range per {
		if k == 0 {
			t.Errorf("%s admitted nothing: the check did not exercise it", nodeName(i))
		}
	}
}

// Constants of the Redis outage check.
const (
	// smallLimit is the limit (requests per minute, burst 100 %) of the
	// keys that show whether limiting is shared: shared, replica 1 may
	// use all of it and the others then refuse.
	smallLimit = 9
	// loadEvery is the steady load's pace: 20 requests a second.
	loadEvery = 50 * time.Millisecond
	// outageSeen and recoverySeen bound how long /readyz may take to say
	// Redis is down, then back.
	outageSeen   = 3 * time.Second
	recoverySeen = 5 * time.Second
)

// TestClusterRedisOutage stops the replicas' Redis (a private
// redis-server) under a steady load: with limits.on_redis_error: local
// every request is still answered 200, limits fall back to each replica's
// share and /readyz lists redis_limits as degraded; once Redis is back on
// the same port, /readyz recovers and limiting is shared again.
func TestClusterRedisOutage(t *testing.T) {
	needCluster(t)
	rs := startRedisServer(t)
	prefix := "sluicetest:" + t.Name() + ":"
	c := newCluster(t, clusterOptions{redisURL: rs.url(), prefix: prefix,
		limits: fmt.Sprintf("on_redis_error: local, replicas: %d, burst_percent: 100", clusterSize)})
	load, _ := c.cliKey(t, "load", 1_000_000)
	before, _ := c.cliKey(t, "before", smallLimit)
	during, _ := c.cliKey(t, "during", smallLimit)
	after, _ := c.cliKey(t, "after", smallLimit)
	c.start(t)
	testReadyzNamesTheNode(t, c)
	c.expectSharedLimit(t, before, "before the outage")

	ld := startLoad(c, load)
	time.Sleep(time.Second)
	rs.stop(t)
	stopped := time.Now()
	d := c.awaitReadiness(t, stopped, outageSeen, func(r readiness) bool {
		return r.Status == "degraded" && slices.Contains(r.Degraded, "redis_limits")
	})
	t.Logf("redis-server stopped: every replica's /readyz listed redis_limits %v later", d)
	// While Redis is down a replica counts its share of a limit only.
	if got := c.admitted(t, 0, during, 2*smallLimit/clusterSize); got != smallLimit/clusterSize {
		t.Errorf("during the outage replica-1 admitted %d of a %d limit's key, want its share %d",
			got, smallLimit, smallLimit/clusterSize)
	}
	time.Sleep(time.Until(stopped.Add(1500 * time.Millisecond)))

	rs.start(t)
	restarted := time.Now()
	d = c.awaitReadiness(t, restarted, recoverySeen, func(r readiness) bool {
		return r.Status == "ready" && len(r.Degraded) == 0
	})
	t.Logf("redis-server restarted: every replica's /readyz was ready again %v later", d)
	time.Sleep(500 * time.Millisecond)
	ld.stop()

	ld.check(t, stopped, restarted)
	c.expectSharedLimit(t, after, "after the restart")
	if n := keyCount(t, rs.url(), prefix+"limits:"); n == 0 {
		t.Errorf("the restarted Redis holds no limit counters under %s", prefix+"limits:")
	}
}

// expectSharedLimit checks that a fresh key of smallLimit is shared:
// replica 1 alone admits all of it (a replica's share would be a third),
// and then replicas 2 and 3 refuse it (a limit of their own would not).
func (c *cluster) expectSharedLimit(t *testing.T, secret, when string) {
	t.Helper()
	if got := c.admitted(t, 0, secret, smallLimit); got != smallLimit {
		t.Errorf("%s: replica-1 admitted %d of %d requests of a key of %d, want all", when, got, smallLimit, smallLimit)
	}
	for i := 1; i < len(c.urls); i++ {
		if got := c.admitted(t, i, secret, 1); got != 0 {
			t.Errorf("%s: %s admitted a request of a key replica-1 has spent: limits are not shared", when, nodeName(i))
		}
	}
}

// admitted sends n requests with secret to replica i, one after
// another, and returns how many were answered 200; anything but 200 and
// 429 fails t.
func (c *cluster) admitted(t *testing.T, i int, secret string, n int) int {
	t.Helper()
	ok := 0
	for k := range n {
		a, err := c.chat(i, secret, fmt.Sprintf("limit probe %d %d", i, k), "Cache-Control", "no-store")
		switch {
		case err != nil:
			t.Fatalf("%s: %v", nodeName(i), err)
		case a.status == http.StatusOK:
			ok++
		case a.status != http.StatusTooManyRequests:
			t.Errorf("%s: %d %s, want 200 or 429", nodeName(i), a.status, a.body)
		}
	}
	return ok
}

// awaitReadiness polls every replica's /readyz every 50ms until each has
// met cond, and returns how long after since the last one did; past
// limit it reports the replicas' last answers as errors and returns.
func (c *cluster) awaitReadiness(t *testing.T, since time.Time, limit time.Duration, cond func(readiness) bool) time.Duration {
	t.Helper()
	met := make([]bool, len(c.urls))
	last := make([]readiness, len(c.urls))
	for {
		all := true
		for i := range c.urls {
			if !met[i] {
				last[i] = c.ready(t, i)
				met[i] = cond(last[i])
			}
			all = all && met[i]
		}
		if all {
			return time.Since(since)
		}
		if time.Since(since) > limit {
			for i, ok := range met {
				if !ok {
					t.Errorf("%s's /readyz after %v: %d %+v", nodeName(i), limit, last[i].code, last[i])
				}
			}
			return time.Since(since)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// steadyLoad sends a request every loadEvery, round-robin through the
// replicas, each with a new prompt, and notes how each ended.
type steadyLoad struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	sent []sentRequest
}

// sentRequest is one request of the load: when it was sent, through
// which replica, and its status or transport error.
type sentRequest struct {
	at      time.Time
	replica int
	status  int
	err     error
}

// startLoad starts the load with secret on c.
func startLoad(c *cluster, secret string) *steadyLoad {
	ctx, cancel := context.WithCancel(context.Background())
	ld := &steadyLoad{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(ld.done)
		var wg sync.WaitGroup
		defer wg.Wait()
		tick := time.NewTicker(loadEvery)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			wg.Go(func() {
				r := sentRequest{at: time.Now(), replica: n % len(c.urls)}
				a, err := c.chat(r.replica, secret, fmt.Sprintf("steady load %d", n))
				r.status, r.err = a.status, err
				ld.mu.Lock()
				ld.sent = append(ld.sent, r)
				ld.mu.Unlock()
			})
		}
	}()
	return ld
}

// stop ends the load and waits for its requests to finish.
func (ld *steadyLoad) stop() {
	ld.cancel()
	<-ld.done
}

// check fails t for every request not answered 200, and when the load
// did not reach every replica before, during and after the outage
// (stopped to restarted).
func (ld *steadyLoad) check(t *testing.T, stopped, restarted time.Time) {
	t.Helper()
	var phases [3][clusterSize]int // sent before, during, after × replica
	bad := 0
	for _, r := range ld.sent {
		p := 0
		if !r.at.Before(stopped) {
			p = 1
		}
		if !r.at.Before(restarted) {
			p = 2
		}
		phases[p][r.replica]++
		if r.err != nil || r.status != http.StatusOK {
			if bad++; bad <= 5 {
				t.Errorf("load request through %s at %v into the outage: %d %v; want 200 (on_redis_error: local)",
					nodeName(r.replica), r.at.Sub(stopped).Round(time.Millisecond), r.status, r.err)
			}
		}
	}
	t.Logf("load: %d requests, %d not 200; sent per replica before the outage %v, during %v, after %v",
		len(ld.sent), bad, phases[0], phases[1], phases[2])
	if bad > 0 {
		t.Errorf("%d of %d load requests were not answered 200", bad, len(ld.sent))
	}
	for p, name := range []string{"before", "during", "after"} {
		for i, n := range phases[p] {
			if n == 0 {
				t.Errorf("no request went through %s %s the outage: the check did not exercise it", nodeName(i), name)
			}
		}
	}
}
