package cache

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisForCacheTest returns a client for SLUICE_TEST_REDIS and a key base
// unique to the test, whose keys are deleted when the test ends; it skips
// when the variable is unset. The server is shared: stay under the base.
func redisForCacheTest(t *testing.T) (*redis.Client, string) {
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
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("SLUICE_TEST_REDIS is set but Redis does not answer: %v", err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	base := "sluicetest:cache:" + hex.EncodeToString(rnd[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, escapeGlob(base)+"*", 500).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("clean up %s*: %v", base, err)
		}
		client.Close()
	})
	return client, base
}

func TestRedisContract(t *testing.T) {
	runBackendContract(t, func(t *testing.T) Backend {
		client, base := redisForCacheTest(t)
		return NewRedis(client, base)
	})
}

func TestRedisLayout(t *testing.T) {
	client, base := redisForCacheTest(t)
	ctx := context.Background()
	r := NewRedis(client, base)
	k := testKey("a")
	if err := r.Set(ctx, k, "gpt", []byte("v"), 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	entry, set := base+"e:"+k.String(), r.modelKey("gpt")
	sum := sha256.Sum256([]byte("gpt"))
	if want := base + "m:" + hex.EncodeToString(sum[:])[:32]; set != want {
		t.Errorf("model set key %q, want %q", set, want)
	}
	if got, err := client.Get(ctx, entry).Result(); err != nil || got != "v" {
		t.Errorf("GET %s = %q, %v", entry, got, err)
	}
	if ok, err := client.SIsMember(ctx, set, k.String()).Result(); err != nil || !ok {
		t.Errorf("%s is not in %s: %v", k, set, err)
	}
	pttl := func(key string) time.Duration {
		d, err := client.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := pttl(entry); d <= 9*time.Minute || d > 10*time.Minute {
		t.Errorf("entry PTTL = %v, want about 10m", d)
	}
	if d := pttl(set); d <= 9*time.Minute || d > 10*time.Minute {
		t.Errorf("model set PTTL = %v, want about 10m", d)
	}
	// a shorter-lived value must not shorten the set's life, a longer one extends it
	if err := r.Set(ctx, testKey("b"), "gpt", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if d := pttl(set); d <= 9*time.Minute {
		t.Errorf("after a 1m value the model set PTTL = %v, want still about 10m", d)
	}
	if err := r.Set(ctx, testKey("c"), "gpt", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if d := pttl(set); d <= 59*time.Minute {
		t.Errorf("after a 1h value the model set PTTL = %v, want about 1h", d)
	}
}

func TestRedisExpiry(t *testing.T) {
	client, base := redisForCacheTest(t)
	ctx := context.Background()
	r := NewRedis(client, base)
	if err := r.Set(ctx, testKey("a"), "m", []byte("v"), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	wantPresent(t, r, map[string]bool{"a": true})
	time.Sleep(80 * time.Millisecond)
	wantPresent(t, r, map[string]bool{"a": false})
	// a sub-millisecond ttl is rounded up, not sent as PX 0 (an error)
	if err := r.Set(ctx, testKey("b"), "m", []byte("v"), time.Microsecond); err != nil {
		t.Errorf("Set with a 1µs ttl: %v", err)
	}
}

// TestRedisPurgeStaysUnderItsPrefix puts glob characters in the prefix and
// keys beside it that an unescaped MATCH would catch: purges must leave
// them, and other data under the same prefix, alone.
func TestRedisPurgeStaysUnderItsPrefix(t *testing.T) {
	client, base := redisForCacheTest(t)
	ctx := context.Background()
	r := NewRedis(client, base+"c[a]*?\\-^:")
	sibling := NewRedis(client, base+"ca-x\\-^:") // matched by the unescaped glob
	for _, b := range []*Redis{r, sibling} {
		mustSet(t, b, "k1", "model")
		mustSet(t, b, "k2", "other")
	}
	foreign := r.prefix + "rl:limit-bucket" // other Sluice data under the same prefix
	if err := client.Set(ctx, foreign, "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := r.PurgeModel(ctx, "model"); err != nil || n != 1 {
		t.Errorf("PurgeModel = %d, %v; want 1", n, err)
	}
	wantPresent(t, r, map[string]bool{"k1": false, "k2": true})
	if n, err := r.PurgeAll(ctx); err != nil || n != 1 {
		t.Errorf("PurgeAll = %d, %v; want 1", n, err)
	}
	wantPresent(t, r, map[string]bool{"k2": false})
	if n, err := client.Exists(ctx, r.modelKey("other"), r.modelKey("model")).Result(); err != nil || n != 0 {
		t.Errorf("%d model sets left after PurgeAll (%v)", n, err)
	}
	wantPresent(t, sibling, map[string]bool{"k1": true, "k2": true})
	if n, err := client.Exists(ctx, foreign, sibling.modelKey("model")).Result(); err != nil || n != 2 {
		t.Errorf("%d of the foreign key and the sibling's set survived (%v), want 2", n, err)
	}
}

// TestRedisPurgeInBatches stores more values than one batch holds.
func TestRedisPurgeInBatches(t *testing.T) {
	client, base := redisForCacheTest(t)
	ctx := context.Background()
	r := NewRedis(client, base)
	const n = redisBatch*2 + 7
	for _, model := range []string{"a", "b"} {
		pipe := client.Pipeline() // seed quickly in Set's layout
		for i := range n {
			h := testKey(fmt.Sprint(model, i)).String()
			pipe.Set(ctx, r.entryKey(h), "v", time.Minute)
			pipe.SAdd(ctx, r.modelKey(model), h)
		}
		pipe.Expire(ctx, r.modelKey(model), time.Minute)
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := r.PurgeModel(ctx, "a"); err != nil || got != n {
		t.Errorf("PurgeModel = %d, %v; want %d", got, err, n)
	}
	wantPresent(t, r, map[string]bool{"a0": false, fmt.Sprint("a", n-1): false, "b0": true})
	if got, err := r.PurgeAll(ctx); err != nil || got != n {
		t.Errorf("PurgeAll = %d, %v; want %d", got, err, n)
	}
	wantPresent(t, r, map[string]bool{"b0": false, fmt.Sprint("b", n-1): false})
}

// TestRedisUnreachable points a client at a closed port: every call must
// return an error (Get one that is not ErrMiss), none may panic.
func TestRedisUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond, DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	defer client.Close()
	r := NewRedis(client, "sluicetest:unreachable:")
	ctx := context.Background()
	if _, err := r.Get(ctx, testKey("a")); err == nil || errors.Is(err, ErrMiss) {
		t.Errorf("Get: err %v, want a connection error", err)
	}
	if err := r.Set(ctx, testKey("a"), "m", []byte("v"), time.Minute); err == nil {
		t.Error("Set succeeded")
	}
	if _, err := r.Delete(ctx, testKey("a")); err == nil {
		t.Error("Delete succeeded")
	}
	if _, err := r.PurgeModel(ctx, "m"); err == nil {
		t.Error("PurgeModel succeeded")
	}
	if _, err := r.PurgeAll(ctx); err == nil {
		t.Error("PurgeAll succeeded")
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestEscapeGlob(t *testing.T) {
	cases := map[string]string{
		"":               "",
		"sluice:cache:":  "sluice:cache:",
		"a*b?c":          `a\*b\?c`,
		"[x]":            `\[x\]`,
		`back\slash`:     `back\\slash`,
		"^-":             `\^\-`,
		"plain:ünïcode:": "plain:ünïcode:",
	}
	for in, want := range cases {
		if got := escapeGlob(in); got != want {
			t.Errorf("escapeGlob(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewRedisPanicsOnNilClient(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewRedis(nil) did not panic")
		}
	}()
	NewRedis(nil, "x:")
}
