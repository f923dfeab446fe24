package limit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// fakeClock is a settable clock for tests; safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// withinMicro compares durations to within a microsecond, the Redis
// backend's tick, so one expectation fits both backends.
var withinMicro = cmp.Comparer(func(a, b time.Duration) bool {
	d := a - b
	return d <= time.Microsecond && d >= -time.Microsecond
})

// backend builds a fresh, isolated limiter that reads time from clock.
type backend struct {
	name string
	new  func(t *testing.T, clock func() time.Time, opts ...RedisOption) Limiter
}

// backends returns memory always and Redis when SLUICE_TEST_REDIS is set.
func backends(t *testing.T) []backend {
	bs := []backend{{"memory", func(t *testing.T, c func() time.Time, _ ...RedisOption) Limiter { return NewMemory(c) }}}
	if os.Getenv("SLUICE_TEST_REDIS") == "" {
		t.Log("SLUICE_TEST_REDIS is unset: running the memory backend only")
		return bs
	}
	return append(bs, backend{"redis", func(t *testing.T, c func() time.Time, opts ...RedisOption) Limiter {
		client, prefix := testRedis(t)
		r := NewRedis(client, prefix, opts...)
		r.clock = c
		return r
	}})
}

// testRedis returns a client for SLUICE_TEST_REDIS and a random key prefix
// whose keys are deleted when the test ends; it skips when the variable is
// unset. The server is shared, so tests must stay under their prefix.
func testRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv("SLUICE_TEST_REDIS")
	if url == "" {
		t.Skip("SLUICE_TEST_REDIS is unset (e.g. redis://127.0.0.1:6379/0): skipping Redis test")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse SLUICE_TEST_REDIS: %v", err)
	}
	client := redis.NewClient(opt)
	ctx := context.Background()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("SLUICE_TEST_REDIS is set but Redis does not answer: %v", err)
	}
	prefix := "sluice-test:limit:" + randomHex(t) + ":"
	t.Cleanup(func() {
		cleanRedis(t, client, prefix)
		client.Close()
	})
	return client, prefix
}

func cleanRedis(t testing.TB, client *redis.Client, prefix string) {
	ctx := context.Background()
	iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		client.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("clean up %s*: %v", prefix, err)
	}
}

func randomHex(t testing.TB) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}
