package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/cache"
	"github.com/sluicehq/sluice/internal/limit"
)

// redisURLCases are URLs of each kind, good and bad; the fuzz target is
// seeded from them.
var redisURLCases = []struct {
	name, url string
	wantKind  string // "single", "failover", "cluster"; "" for an error
}{
	{"one server", "redis://:hunter2@127.0.0.1:6379/0", "single"},
	{"one server over TLS", "rediss://127.0.0.1:6380", "single"},
	{"unix socket", "unix:///run/redis.sock?db=1", "single"},
	{"sentinel", "redis+sentinel://:hunter2@127.0.0.1:26379/2?master_name=mymaster&addr=127.0.0.2:26379", "failover"},
	{"sentinel over TLS", "rediss+sentinel://127.0.0.1:26379?master_name=m", "failover"},
	{"cluster", "redis+cluster://:hunter2@127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002", "cluster"},
	{"cluster over TLS", "rediss+cluster://127.0.0.1:7000", "cluster"},
	{"sentinel without master_name", "redis+sentinel://:hunter2@127.0.0.1:26379", ""},
	{"cluster with an unknown option", "redis+cluster://:hunter2@127.0.0.1:7000?hunter2=1", ""},
	{"cluster with a bad addr", "redis+cluster://127.0.0.1:7000?addr=hunter2", ""},
	{"unknown scheme", "http://:hunter2@127.0.0.1:6379", ""},
	{"unix sentinel", "unix+sentinel:///run/hunter2.sock?master_name=m", ""},
	{"not a URL", "redis://:hunter2@[::1", ""},
}

func redisKind(o *redisOptions) string {
	switch {
	case o.failover != nil:
		return "failover"
	case o.cluster != nil:
		return "cluster"
	}
	return "single"
}

func TestParseRedisURL(t *testing.T) {
	for _, tc := range redisURLCases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseRedisURL(tc.url)
			if tc.wantKind == "" {
				if err == nil {
					t.Fatalf("parseRedisURL succeeded; want an error")
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error %q quotes the URL", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRedisURL: %v", err)
			}
			if got := redisKind(o); got != tc.wantKind {
				t.Fatalf("kind = %s, want %s", got, tc.wantKind)
			}
			if got := *o.knobs().dialerRetries; got != 1 {
				t.Errorf("dialer retries = %d, want 1", got)
			}
		})
	}
}

func TestParseRedisURLAddresses(t *testing.T) {
	o, err := parseRedisURL("redis+sentinel://:pw@10.0.0.1:26379/2?master_name=mymaster&addr=10.0.0.2:26379&password=mpw")
	if err != nil {
		t.Fatal(err)
	}
	f := o.failover
	if got := strings.Join(f.SentinelAddrs, ","); got != "10.0.0.1:26379,10.0.0.2:26379" {
		t.Errorf("sentinels = %s", got)
	}
	if f.MasterName != "mymaster" || f.DB != 2 || f.SentinelPassword != "pw" || f.Password != "mpw" || f.TLSConfig != nil {
		t.Errorf("failover options = master %q db %d sentinel password %q password %q tls %v",
			f.MasterName, f.DB, f.SentinelPassword, f.Password, f.TLSConfig != nil)
	}
	o, err = parseRedisURL("rediss+cluster://:pw@10.0.0.1:7000?addr=10.0.0.2:7000&dialer_retries=3")
	if err != nil {
		t.Fatal(err)
	}
	c := o.cluster
	if got := strings.Join(c.Addrs, ","); got != "10.0.0.1:7000,10.0.0.2:7000" {
		t.Errorf("seeds = %s", got)
	}
	if c.Password != "pw" || c.TLSConfig == nil || c.DialerRetries != 3 {
		t.Errorf("cluster options = password %q tls %v dialer retries %d", c.Password, c.TLSConfig != nil, c.DialerRetries)
	}
}

func TestRedisBoundTimeouts(t *testing.T) {
	for _, base := range []string{"redis://127.0.0.1:6379", "redis+sentinel://127.0.0.1:26379?master_name=m",
		"redis+cluster://127.0.0.1:7000"} {
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		t.Run(base, func(t *testing.T) {
			o, err := parseRedisURL(base)
			if err != nil {
				t.Fatal(err)
			}
			o.boundTimeouts(250 * time.Millisecond)
			k := o.knobs()
			if *k.dialTimeout != 250*time.Millisecond || *k.readTimeout != 250*time.Millisecond ||
				*k.writeTimeout != 250*time.Millisecond || *k.maxRetries != -1 {
				t.Errorf("defaults: dial %v read %v write %v retries %d", *k.dialTimeout, *k.readTimeout, *k.writeTimeout, *k.maxRetries)
			}
			o, err = parseRedisURL(base + sep + "dial_timeout=2s&read_timeout=3s&write_timeout=4s&max_retries=2")
			if err != nil {
				t.Fatal(err)
			}
			o.boundTimeouts(250 * time.Millisecond)
			k = o.knobs()
			if *k.dialTimeout != 2*time.Second || *k.readTimeout != 3*time.Second ||
				*k.writeTimeout != 4*time.Second || *k.maxRetries != 2 {
				t.Errorf("from the URL: dial %v read %v write %v retries %d", *k.dialTimeout, *k.readTimeout, *k.writeTimeout, *k.maxRetries)
			}
		})
	}
}

func FuzzParseRedisURL(f *testing.F) {
	for _, tc := range redisURLCases {
		f.Add(tc.url)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		o, err := parseRedisURL(raw)
		if err != nil {
			if len(raw) > 8 && strings.Contains(err.Error(), raw) {
				t.Fatalf("error %q quotes the URL", err)
			}
			return
		}
		if n := btoi(o.single != nil) + btoi(o.failover != nil) + btoi(o.cluster != nil); n != 1 {
			t.Fatalf("%d kinds of options set, want 1", n)
		}
		if o.failover != nil && o.failover.MasterName == "" {
			t.Fatal("a sentinel URL parsed without master_name")
		}
		o.boundTimeouts(time.Second)
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// needRedisServer skips the test unless redis-server and redis-cli are on
// PATH.
func needRedisServer(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not on PATH: skipping the test that starts Redis servers", bin)
		}
	}
}

// freeRedisPort returns a free port on 127.0.0.1 whose cluster bus port
// (port+10000) is free too.
func freeRedisPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		if p+10000 > 65535 {
			l.Close()
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		l.Close()
		if err != nil {
			continue
		}
		bus.Close()
		return p
	}
	t.Fatal("no free port pair for a Redis server")
	return 0
}

// startRedisServer runs redis-server with args (bound to 127.0.0.1, no
// persistence, in dir) on port, waits until it answers PING, and stops it
// at cleanup.
func startRedisServer(t *testing.T, dir string, port int, args ...string) {
	t.Helper()
	args = append(args, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(dir, fmt.Sprintf("redis-%d.log", port)))
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), DialerRetries: 1, MaxRetries: -1})
	defer c.Close()
	waitFor(t, "redis-server on port "+strconv.Itoa(port), func(ctx context.Context) error {
		return c.Ping(ctx).Err()
	})
}

// waitFor polls ok every 50ms for up to 10s.
func waitFor(t *testing.T, what string, ok func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := ok(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startRedisCluster starts three masters, joins them with redis-cli
// --cluster create and returns a newRedisClient URL for them.
func startRedisCluster(t *testing.T) string {
	needRedisServer(t)
	dir := t.TempDir()
	var addrs []string
	for range 3 {
		p := freeRedisPort(t)
		startRedisServer(t, dir, p, "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", p)),
			"--cluster-node-timeout", "5000")
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(p))
	}
	create := append([]string{"--cluster", "create"}, addrs...)
	create = append(create, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", create...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		waitFor(t, "cluster_state:ok on "+a, func(ctx context.Context) error {
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") {
				return errors.New("cluster_state is not ok yet")
			}
			return nil
		})
		c.Close()
	}
	return "redis+cluster://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]
}

func TestRedisClusterCacheAndLimits(t *testing.T) {
	raw := startRedisCluster(t)
	client, err := newRedisClient(raw, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	cc, ok := client.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("newRedisClient(redis+cluster://…) = %T, want *redis.ClusterClient", client)
	}
	ctx := context.Background()
	waitFor(t, "the cluster client's slot map", func(ctx context.Context) error {
		return cc.Set(ctx, "sluicetest:probe", "1", time.Minute).Err()
	})
	t.Run("cache", func(t *testing.T) { testClusterCache(t, ctx, cc) })
	t.Run("limits", func(t *testing.T) { testClusterLimits(t, ctx, cc) })
}

func testClusterCache(t *testing.T, ctx context.Context, cc *redis.ClusterClient) {
	prefix := "sluicetest:" + t.Name() + ":"
	b := cache.NewRedis(cc, prefix)
	const n = 60
	keys := make([]cache.Key, n)
	for i := range keys {
		keys[i] = cache.CustomKey("*", "m", strconv.Itoa(i))
		model := []string{"model-a", "model-b"}[i%2]
		if err := b.Set(ctx, keys[i], model, []byte("v"+strconv.Itoa(i)), time.Minute); err != nil {
			t.Fatalf("set %d: %v", i, err)
		}
	}
	var nodesWithEntries atomic.Int32
	err := cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		found, _, err := node.Scan(ctx, 0, prefix+"e:*", 1000).Result()
		if len(found) > 0 {
			nodesWithEntries.Add(1)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := nodesWithEntries.Load(); got < 2 {
		t.Fatalf("entries landed on %d nodes; the test needs several", got)
	}
	for i, k := range keys {
		v, err := b.Get(ctx, k)
		if err != nil || string(v) != "v"+strconv.Itoa(i) {
			t.Fatalf("get %d = %q, %v", i, v, err)
		}
	}
	purged, err := b.PurgeModel(ctx, "model-a")
	if err != nil || purged != n/2 {
		t.Fatalf("PurgeModel = %d, %v; want %d", purged, err, n/2)
	}
	for i, k := range keys {
		_, err := b.Get(ctx, k)
		if wantMiss := i%2 == 0; wantMiss != errors.Is(err, cache.ErrMiss) {
			t.Fatalf("after PurgeModel, get %d: %v (want miss: %v)", i, err, wantMiss)
		}
	}
	purged, err = b.PurgeAll(ctx)
	if err != nil || purged != n/2 {
		t.Fatalf("PurgeAll = %d, %v; want %d", purged, err, n/2)
	}
	for i, k := range keys {
		if _, err := b.Get(ctx, k); !errors.Is(err, cache.ErrMiss) {
			t.Fatalf("after PurgeAll, get %d: %v, want a miss", i, err)
		}
	}
	err = cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		left, _, err := node.Scan(ctx, 0, prefix+"*", 1000).Result()
		if err == nil && len(left) > 0 {
			err = fmt.Errorf("node %s still holds %v", node.Options().Addr, left)
		}
		return err
	})
	if err != nil {
		t.Fatalf("after PurgeAll: %v", err)
	}
}

func testClusterLimits(t *testing.T, ctx context.Context, cc *redis.ClusterClient) {
	l := limit.NewRedis(cc, "sluicetest:"+t.Name()+":")
	rate := limit.Rate{Limit: 3, Period: time.Minute, Burst: 3}
	for k := range 8 { // keys spread over the slots of every node
		key := "rpm:key:" + strconv.Itoa(k)
		for i := range 4 {
			d, err := l.Allow(ctx, key, rate, 1)
			if err != nil {
				t.Fatalf("allow %s #%d: %v", key, i, err)
			}
			if want := i < 3; d.Allowed != want {
				t.Fatalf("allow %s #%d: allowed = %v, want %v", key, i, d.Allowed, want)
			}
		}
	}
}

func TestRedisSentinelClient(t *testing.T) {
	needRedisServer(t)
	dir := t.TempDir()
	master := freeRedisPort(t)
	startRedisServer(t, dir, master)
	sentinel := freeRedisPort(t)
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("sentinel monitor mymaster 127.0.0.1 %d 1\nsentinel down-after-milliseconds mymaster 5000\n", master)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	startRedisServer(t, dir, sentinel, conf, "--sentinel")

	client, err := newRedisClient(fmt.Sprintf("redis+sentinel://127.0.0.1:%d?master_name=mymaster", sentinel), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	key := "sluicetest:" + t.Name()
	waitFor(t, "a write through the sentinel", func(ctx context.Context) error {
		return client.Set(ctx, key, "through-sentinel", time.Minute).Err()
	})
	ctx := context.Background()
	if v, err := client.Get(ctx, key).Result(); err != nil || v != "through-sentinel" {
		t.Fatalf("get through the sentinel = %q, %v", v, err)
	}
	direct := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(master)})
	defer direct.Close()
	if v, err := direct.Get(ctx, key).Result(); err != nil || v != "through-sentinel" {
		t.Fatalf("the key is not on the master the sentinel monitors: %q, %v", v, err)
	}
}
