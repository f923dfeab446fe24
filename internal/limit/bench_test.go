package limit

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

var benchRate = Rate{Limit: 1 << 40, Period: time.Second} // never refuses

func BenchmarkMemoryAllow(b *testing.B) {
	m := NewMemory(nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Allow(ctx, "key:42:rpm", benchRate, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryAllowParallel(b *testing.B) {
	m := NewMemory(nil)
	ctx := context.Background()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i) + ":rpm"
	}
	var worker atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(worker.Add(1)) * 97
		for pb.Next() {
			if _, err := m.Allow(ctx, keys[i%len(keys)], benchRate, 1); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func BenchmarkMemoryAcquireRelease(b *testing.B) {
	m := NewMemory(nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := m.Acquire(ctx, "key:42:conc", 10); !ok || err != nil {
			b.Fatal(ok, err)
		}
		if err := m.Release(ctx, "key:42:conc"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedisAllow(b *testing.B) {
	client, prefix := testRedis(b)
	r := NewRedis(client, prefix)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Allow(ctx, "key:42:rpm", benchRate, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedisAllowParallel(b *testing.B) {
	client, prefix := testRedis(b)
	r := NewRedis(client, prefix)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Allow(ctx, "key:42:rpm", benchRate, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
