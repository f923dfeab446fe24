package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/testdb"
)

// This file is the three-replica harness: `sluice serve` processes
// sharing one fresh PostgreSQL database, one Redis and one in-test mock
// provider, each named replica-N in its cluster section.

// clusterSize is how many replicas a test cluster runs.
const clusterSize = 3

// cluster is clusterSize gateway processes with the same store, Redis and
// provider. Replica i (0-based) is node "replica-<i+1>".
type cluster struct {
	configs  []string // each replica's config file
	urls     []string // each replica's base URL, once started
	mock     *mock.Server
	adminKey string // SLUICE_ADMIN_KEY of every replica
	client   *http.Client
}

// clusterOptions are what differs between test clusters.
type clusterOptions struct {
	// redisURL is cluster.redis_url: the limits and the cache use it.
	redisURL string
	// prefix starts every Redis key the cluster writes (limits under
	// prefix+"limits:", the cache under prefix+"cache:").
	prefix string
	// limits are extra members of the limits section, YAML flow style
	// ("window: 3s, replicas: 3"); "" adds none.
	limits string
}

// needCluster skips t unless a cluster can run: not -short, and both
// SLUICE_TEST_POSTGRES and SLUICE_TEST_REDIS set.
func needCluster(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts three gateway processes")
	}
	var missing []string
	for _, env := range []string{testdb.PostgresEnv, "SLUICE_TEST_REDIS"} {
		if os.Getenv(env) == "" {
			missing = append(missing, env)
		}
	}
	if len(missing) > 0 {
		t.Skipf("%s unset: the cluster tests need PostgreSQL (e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable) "+
			"and Redis (e.g. SLUICE_TEST_REDIS=redis://127.0.0.1:6379/0)", strings.Join(missing, " and "), testdb.PostgresEnv)
	}
}

// freshPostgres creates a database of its own for t on the server
// SLUICE_TEST_POSTGRES names, drops it when t ends (after the replicas
// are killed: cleanups run last-registered first), and returns its URL.
// A database rather than a schema: LISTEN/NOTIFY channels are per
// database, so other tests' notifications cannot reach the replicas.
func freshPostgres(t *testing.T) string {
	t.Helper()
	base := os.Getenv(testdb.PostgresEnv)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL", testdb.PostgresEnv) // it may hold a password
	}
	name := "sluice_cluster_" + strings.ToLower(rand.Text()[:16])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", testdb.PostgresEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a killed replica's connections may linger a moment.
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// redisPrefix returns a key prefix of t's own on the Redis at rawURL,
// whose keys are deleted when t ends. Redis must answer.
func redisPrefix(t *testing.T, rawURL string) string {
	t.Helper()
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatalf("redis URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() }) // after the keys are deleted
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at %s does not answer: %v", opt.Addr, err)
	}
	prefix := "sluicetest:" + t.Name() + ":" + rand.Text() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// newCluster writes the replicas' configs for a fresh PostgreSQL
// database and an in-test mock provider, and sets SLUICE_ADMIN_KEY for
// the processes start will run. Failed-authentication throttling is off:
// the propagation check's probes of a key not yet known would trip it. Keys made with cliKey before start are
// loaded by every replica when it starts.
func newCluster(t *testing.T, opts clusterOptions) *cluster {
	t.Helper()
	dsn := freshPostgres(t)
	c := &cluster{mock: mock.New(mock.Options{}), adminKey: "sk-admin-" + rand.Text(),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 10 * time.Second}}
	ms := httptest.NewServer(c.mock)
	t.Cleanup(ms.Close)
	t.Cleanup(c.client.CloseIdleConnections)
	t.Setenv("SLUICE_ADMIN_KEY", c.adminKey) // startGateway passes os.Environ() on
	for i := range clusterSize {
		dir := t.TempDir()
		cfg := fmt.Sprintf(`server: { listen: "127.0.0.1:0", data_dir: %q }
store: { driver: postgres, dsn: %q }
cluster: { node_id: %s, redis_url: %q }
auth: { require_keys: true, key_refresh: 1m, failed_per_minute: 0 }
limits: { redis_prefix: %q%s }
cache: { enabled: true, redis_prefix: %q }
request_log: { flush_interval: 10ms }
metrics: { enabled: false }
providers:
  - { name: oai, type: openai, base_url: "%s/v1", api_key: "sk-test" }
models:
  - name: chat-default
    targets: [ { provider: oai, model: gpt-4o-mini } ]
`, dir, dsn, nodeName(i), opts.redisURL, opts.prefix+"limits:", flowMembers(opts.limits), opts.prefix+"cache:", ms.URL)
		path := filepath.Join(dir, "sluice.yaml")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		c.configs = append(c.configs, path)
	}
	return c
}

// flowMembers puts s after a flow mapping's members: ", s", or "" for "".
func flowMembers(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

// nodeName is replica i's cluster.node_id.
func nodeName(i int) string { return "replica-" + strconv.Itoa(i+1) }

// start runs the replicas one after another, so they never race to
// migrate the database, and waits until each listens.
func (c *cluster) start(t *testing.T) {
	t.Helper()
	began := time.Now()
	for _, path := range c.configs {
		c.urls = append(c.urls, startGateway(t, path).url)
	}
	t.Logf("%d replicas listening after %v: %v", clusterSize, time.Since(began).Round(time.Millisecond), c.urls)
}

var createdKeyRE = regexp.MustCompile(`created gateway key (key_\w+)`)

// cliKey creates a gateway key with `sluice keys create` (in this
// process, on the cluster's store) and returns its secret and ID. rpm 0
// is no limit.
func (c *cluster) cliKey(t *testing.T, name string, rpm int64) (secret, id string) {
	t.Helper()
	out, errOut, err := runArgs(t, "keys", "create", "--config", c.configs[0], "--name", name, "--rpm", strconv.FormatInt(rpm, 10))
	if err != nil {
		t.Fatalf("keys create %s: %v\n%s", name, err, errOut)
	}
	m := createdKeyRE.FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("keys create %s: no key ID in %q", name, errOut)
	}
	return strings.TrimSpace(out), m[1]
}

// answer is a drained response: its status, headers and body.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// chat sends a chat completion for prompt to replica i with secret; hdr
// are extra header name, value pairs. A transport error is returned, not
// reported, so load generators can count it.
func (c *cluster) chat(i int, secret, prompt string, hdr ...string) (answer, error) {
	body := fmt.Sprintf(`{"model":"chat-default","messages":[{"role":"user","content":%q}]}`, prompt)
	req, err := http.NewRequest(http.MethodPost, c.urls[i]+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	for j := 0; j+1 < len(hdr); j += 2 {
		req.Header.Set(hdr[j], hdr[j+1])
	}
	return c.do(req)
}

// admin calls replica i's admin API (path relative to /admin/v1) with
// the admin key; body "" sends none.
func (c *cluster) admin(t *testing.T, i int, method, path, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.urls[i]+"/admin/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.adminKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	a, err := c.do(req)
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, nodeName(i), err)
	}
	return a
}

// do sends req and reads the whole answer.
func (c *cluster) do(req *http.Request) (answer, error) {
	resp, err := c.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, fmt.Errorf("read the answer: %w", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// clip shortens an answer body for a failure message.
func clip(b []byte) string {
	const most = 200
	if len(b) > most {
		return string(b[:most]) + "…"
	}
	return string(b)
}

// readiness is a /readyz answer.
type readiness struct {
	code     int
	Status   string   `json:"status"`
	Node     string   `json:"node"`
	Degraded []string `json:"degraded"`
}

// ready asks replica i's /readyz.
func (c *cluster) ready(t *testing.T, i int) readiness {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.urls[i]+"/readyz", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.do(req)
	if err != nil {
		t.Fatalf("/readyz on %s: %v", nodeName(i), err)
	}
	r := readiness{code: a.status}
	if err := json.Unmarshal(a.body, &r); err != nil {
		t.Fatalf("/readyz on %s: %d %q: %v", nodeName(i), a.status, a.body, err)
	}
	return r
}

// redisServer is a redis-server process of a test's own, on a loopback
// port that stays the same across stop and start.
type redisServer struct {
	port int
	dir  string
	cmd  *exec.Cmd // nil while stopped
}

// startRedisServer runs a private redis-server (no persistence) on a free
// loopback port, skipping t when the binary is not installed; t's cleanup
// stops it.
func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed: the Redis outage test starts and stops one of its own")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &redisServer{port: ln.Addr().(*net.TCPAddr).Port, dir: t.TempDir()}
	ln.Close()
	r.start(t)
	t.Cleanup(func() { r.stop(t) })
	return r
}

// url is the server's Redis URL.
func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// start runs redis-server on r's port and waits until it answers PING.
func (r *redisServer) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	r.cmd = cmd
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := rdb.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d does not answer: %v", r.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends redis-server (SIGTERM: it closes its clients' connections)
// and waits for it; stopping a stopped server does nothing.
func (r *redisServer) stop(t *testing.T) {
	t.Helper()
	if r.cmd == nil {
		return
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("stop redis-server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill() //nolint:errcheck // it ignored SIGTERM
		<-done
	}
	r.cmd = nil
}

// keyCount is how many keys start with prefix on the Redis at rawURL.
func keyCount(t *testing.T, rawURL, prefix string) int {
	t.Helper()
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatalf("KEYS %s*: %v", prefix, err)
	}
	return len(keys)
}
