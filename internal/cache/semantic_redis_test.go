package cache

import (
	"context"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// semReplica is one RedisIndex with its own local index and clock.
type semReplica struct {
	*RedisIndex
	local *MemoryIndex
	clock *semClock
}

func newSemReplica(t *testing.T, client *redis.Client, prefix string) semReplica {
	t.Helper()
	clock := newSemClock()
	local := NewMemoryIndex(MemoryIndexOptions{Now: clock.Now})
	r := NewRedisIndex(client, prefix, local, 0)
	t.Cleanup(func() { r.Close() })
	return semReplica{r, local, clock}
}

// tick moves the replica's clock past SyncEvery, so its next Search syncs.
func (r semReplica) tick() { r.clock.Advance(defaultSemSyncEvery) }

func TestRedisIndexSharesAddsRemovesAndPurges(t *testing.T) {
	client, prefix := redisForCacheTest(t)
	a, b := newSemReplica(t, client, prefix), newSemReplica(t, client, prefix)
	ctx := context.Background()
	scope := Scope("team", "gpt")
	v, w := []float32{1, 2, 3}, []float32{-3, 0, 1}

	mustAdd(t, a, scope, v, semKey("v"), time.Hour)
	if got, sim := search(t, b, scope, v, 0.99); got != (semHit{semKey("v"), true}) || sim < 0.9999 {
		t.Fatalf("b's first search: %+v (similarity %v), want a's vector", got, sim)
	}
	if got, _ := search(t, b, Scope("other", "gpt"), v, 0.5); got.OK {
		t.Errorf("another scope found %+v", got)
	}

	if err := a.Remove(ctx, scope, semKey("v")); err != nil {
		t.Fatal(err)
	}
	b.tick()
	if got, _ := search(t, b, scope, v, 0.5); got.OK {
		t.Errorf("after a removed it, b still finds %+v", got)
	}

	mustAdd(t, b, scope, w, semKey("w"), time.Hour)
	a.tick()
	if got, _ := search(t, a, scope, w, 0.99); got != (semHit{semKey("w"), true}) {
		t.Fatalf("a does not see b's vector: %+v", got)
	}
	if err := b.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	a.tick()
	if got, _ := search(t, a, scope, w, 0.5); got.OK {
		t.Errorf("after b purged, a still finds %+v", got)
	}
	if a.Failures() != 0 || b.Failures() != 0 {
		t.Errorf("failures: a %d (%v), b %d (%v)", a.Failures(), a.LastError(), b.Failures(), b.LastError())
	}
}

func TestRedisIndexSyncsAtMostOncePerSyncEvery(t *testing.T) {
	client, prefix := redisForCacheTest(t)
	a, b := newSemReplica(t, client, prefix), newSemReplica(t, client, prefix)
	v := []float32{0, 1}
	search(t, b, "s", v, 0) // the first search syncs: nothing yet
	mustAdd(t, a, "s", v, semKey("v"), time.Hour)
	b.clock.Advance(defaultSemSyncEvery - time.Millisecond)
	if got, _ := search(t, b, "s", v, 0.9); got.OK {
		t.Errorf("b synced again before SyncEvery passed: %+v", got)
	}
	b.clock.Advance(time.Millisecond)
	if got, _ := search(t, b, "s", v, 0.9); !got.OK {
		t.Errorf("b did not sync after SyncEvery passed")
	}
}

func TestRedisIndexLateReplicaWarmsUpWithLiveVectors(t *testing.T) {
	client, prefix := redisForCacheTest(t)
	a := newSemReplica(t, client, prefix)
	live, short := []float32{1, 0, 0}, []float32{0, 1, 0}
	mustAdd(t, a, "s", live, semKey("live"), time.Hour)
	mustAdd(t, a, "s", short, semKey("short"), time.Second)

	late := newSemReplica(t, client, prefix)
	late.clock.Advance(2 * time.Second) // short has expired by now
	if got, _ := search(t, late, "s", live, 0.99); got != (semHit{semKey("live"), true}) {
		t.Errorf("late replica: %+v, want the live vector", got)
	}
	if got, _ := search(t, late, "s", short, 0.99); got.OK {
		t.Errorf("late replica found the expired vector %+v", got)
	}
	if n := late.local.Len("s"); n != 1 {
		t.Errorf("late replica holds %d vectors, want 1", n)
	}
}

// TestRedisIndexReplaysItsOwnEntries: a replica reading back its own
// entries skips its adds and ends where the stream order says.
func TestRedisIndexReplaysItsOwnEntries(t *testing.T) {
	client, prefix := redisForCacheTest(t)
	a := newSemReplica(t, client, prefix)
	ctx := context.Background()
	v := []float32{1, 1}
	mustAdd(t, a, "s", v, semKey("kept"), time.Hour)
	mustAdd(t, a, "s", []float32{1, -1}, semKey("gone"), time.Hour)
	if err := a.Remove(ctx, "s", semKey("gone")); err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := a.local.Len("s"); n != 1 {
		t.Errorf("after replaying its own entries a holds %d vectors, want 1", n)
	}
	if got, _ := search(t, a, "s", []float32{1, -1}, 0.9); got.OK {
		t.Errorf("replay brought back a removed vector: %+v", got)
	}
}

// TestRedisIndexStreamLayout pins the documented stream format.
func TestRedisIndexStreamLayout(t *testing.T) {
	client, prefix := redisForCacheTest(t)
	a := newSemReplica(t, client, prefix)
	ctx := context.Background()
	k := semKey("k")
	mustAdd(t, a, "s", []float32{0.5, -2}, k, time.Minute)
	a.Remove(ctx, "s", k)
	a.Purge(ctx)

	msgs, err := client.XRange(ctx, prefix+"sem", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	vec := binary.LittleEndian.AppendUint32(nil, math.Float32bits(0.5))
	vec = binary.LittleEndian.AppendUint32(vec, math.Float32bits(-2))
	expires := strconv.FormatInt(a.clock.Now().Add(time.Minute).UnixMilli(), 10)
	want := []map[string]any{
		{"scope": "s", "key": k.String(), "vec": string(vec), "expires": expires},
		{"op": "del", "scope": "s", "key": k.String()},
		{"op": "purge"},
	}
	var got []map[string]any
	for _, m := range msgs {
		got = append(got, m.Values)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stream entries (-want +got):\n%s", diff)
	}
}

func TestRedisIndexSkipsMalformedEntries(t *testing.T) {
	client, prefix := redisForCacheTest(t)
	ctx := context.Background()
	for _, values := range [][]any{
		{"op", "explode"},
		{"scope", "s", "key", "xyz", "vec", "abcd", "expires", "1"},
		{"scope", "s", "key", semKey("k").String(), "vec", "abc", "expires", "99999999999999"},
	} {
		if err := client.XAdd(ctx, &redis.XAddArgs{Stream: prefix + "sem", Values: values}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	a := newSemReplica(t, client, prefix)
	mustAdd(t, a, "s", []float32{1}, semKey("good"), time.Hour)
	b := newSemReplica(t, client, prefix)
	if got, _ := search(t, b, "s", []float32{1}, 0.9); got != (semHit{semKey("good"), true}) {
		t.Errorf("the good entry after bad ones: %+v", got)
	}
	if n := b.Failures(); n != 3 || b.LastError() == nil {
		t.Errorf("Failures = %d (last %v), want 3 malformed entries counted", n, b.LastError())
	}
}

// TestRedisIndexWithoutRedis: a dead Redis never fails a Search, which
// answers from the local index; the failures are counted and syncs back
// off. Needs no Redis.
func TestRedisIndexWithoutRedis(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: 100 * time.Millisecond})
	defer client.Close()
	r := newSemReplica(t, client, "sluicetest:nowhere:")
	v := []float32{1, 2}
	err := r.Add(context.Background(), "s", v, semKey("v"), time.Hour)
	if err == nil {
		t.Fatal("Add with Redis down returned no error")
	}
	if r.Failures() != 1 {
		t.Errorf("Failures after the failed publish = %d, want 1", r.Failures())
	}
	got, _ := search(t, r, "s", v, 0.9) // fails if Search returns an error
	if got != (semHit{semKey("v"), true}) {
		t.Errorf("Search with Redis down: %+v, want the local vector", got)
	}
	if r.Failures() != 2 || r.LastError() == nil || !strings.Contains(r.LastError().Error(), "semantic sync") {
		t.Errorf("Failures after the failed sync = %d (last %v), want 2", r.Failures(), r.LastError())
	}
	r.clock.Advance(semSyncBackoff - time.Millisecond)
	search(t, r, "s", v, 0.9)
	if r.Failures() != 2 {
		t.Errorf("a sync was tried again within the back-off: %d failures", r.Failures())
	}
	r.clock.Advance(time.Millisecond)
	search(t, r, "s", v, 0.9)
	if r.Failures() != 3 {
		t.Errorf("no sync after the back-off: %d failures, want 3", r.Failures())
	}
}

func TestNewRedisIndexPanicsOnNil(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	NewRedisIndex(nil, "p:", NewMemoryIndex(MemoryIndexOptions{}), 0)
}
