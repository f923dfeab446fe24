package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testKey returns a distinct key for each name.
func testKey(name string) Key { return CustomKey("test", "m", name) }

// runBackendContract checks the behaviour every Backend shares; newBackend
// returns a fresh, empty backend.
func runBackendContract(t *testing.T, newBackend func(t *testing.T) Backend) {
	ctx := context.Background()
	t.Run("get set overwrite", func(t *testing.T) {
		b := newBackend(t)
		k := testKey("a")
		if _, err := b.Get(ctx, k); !errors.Is(err, ErrMiss) {
			t.Fatalf("Get of an absent key: err %v, want ErrMiss", err)
		}
		for _, v := range []string{"first", "second"} {
			if err := b.Set(ctx, k, "m", []byte(v), time.Minute); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, err := b.Get(ctx, k)
			if err != nil || string(got) != v {
				t.Fatalf("Get = %q, %v; want %q", got, err, v)
			}
		}
		if _, err := b.Get(ctx, testKey("b")); !errors.Is(err, ErrMiss) {
			t.Errorf("Get of another key: err %v, want ErrMiss", err)
		}
	})
	t.Run("binary value", func(t *testing.T) {
		b := newBackend(t)
		v := encodeEntry(t, richEntry())
		if err := b.Set(ctx, testKey("bin"), "m", bytes.Clone(v), time.Minute); err != nil {
			t.Fatal(err)
		}
		got, err := b.Get(ctx, testKey("bin"))
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("Get = %d bytes, %v; want the %d bytes stored", len(got), err, len(v))
		}
	})
	t.Run("ttl must be positive", func(t *testing.T) {
		b := newBackend(t)
		for _, ttl := range []time.Duration{0, -time.Second} {
			if err := b.Set(ctx, testKey("a"), "m", []byte("v"), ttl); err == nil {
				t.Errorf("Set with ttl %v succeeded", ttl)
			}
		}
		if _, err := b.Get(ctx, testKey("a")); !errors.Is(err, ErrMiss) {
			t.Errorf("a refused Set stored something: err %v", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		b := newBackend(t)
		mustSet(t, b, "a", "m")
		mustSet(t, b, "b", "m")
		if ok, err := b.Delete(ctx, testKey("a")); !ok || err != nil {
			t.Errorf("Delete of a present key = %v, %v; want true", ok, err)
		}
		if ok, err := b.Delete(ctx, testKey("a")); ok || err != nil {
			t.Errorf("second Delete = %v, %v; want false", ok, err)
		}
		wantPresent(t, b, map[string]bool{"a": false, "b": true})
	})
	t.Run("purge model", func(t *testing.T) {
		b := newBackend(t)
		for i := range 5 {
			mustSet(t, b, fmt.Sprint("x", i), "model-x")
		}
		mustSet(t, b, "y", "model-y")
		if n, err := b.PurgeModel(ctx, "model-x"); err != nil || n != 5 {
			t.Errorf("PurgeModel(model-x) = %d, %v; want 5", n, err)
		}
		wantPresent(t, b, map[string]bool{"x0": false, "x4": false, "y": true})
		if n, err := b.PurgeModel(ctx, "model-x"); err != nil || n != 0 {
			t.Errorf("second PurgeModel = %d, %v; want 0", n, err)
		}
		if n, err := b.PurgeModel(ctx, "no-such-model"); err != nil || n != 0 {
			t.Errorf("PurgeModel of an unknown model = %d, %v; want 0", n, err)
		}
	})
	t.Run("purge all", func(t *testing.T) {
		b := newBackend(t)
		for i := range 7 {
			mustSet(t, b, fmt.Sprint("k", i), fmt.Sprint("model-", i%3))
		}
		if n, err := b.PurgeAll(ctx); err != nil || n != 7 {
			t.Errorf("PurgeAll = %d, %v; want 7", n, err)
		}
		wantPresent(t, b, map[string]bool{"k0": false, "k6": false})
		if n, err := b.PurgeModel(ctx, "model-1"); err != nil || n != 0 {
			t.Errorf("PurgeModel after PurgeAll = %d, %v; want 0", n, err)
		}
		mustSet(t, b, "after", "model-1")
		wantPresent(t, b, map[string]bool{"after": true})
	})
	t.Run("concurrent use", func(t *testing.T) {
		b := newBackend(t)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 50 {
					k := testKey(fmt.Sprint(i % 10))
					val := fmt.Sprint("v", i%10)
					if err := b.Set(ctx, k, fmt.Sprint("m", g%2), []byte(val), time.Minute); err != nil {
						t.Error(err)
						return
					}
					if got, err := b.Get(ctx, k); err == nil && string(got) != val {
						t.Errorf("Get = %q, want %q", got, val)
						return
					} else if err != nil && !errors.Is(err, ErrMiss) {
						t.Error(err)
						return
					}
					if i%17 == 0 {
						if _, err := b.PurgeModel(ctx, "m0"); err != nil {
							t.Error(err)
						}
					}
				}
			})
		}
		wg.Wait()
	})
}

func mustSet(t *testing.T, b Backend, name, model string) {
	t.Helper()
	if err := b.Set(context.Background(), testKey(name), model, []byte("value of "+name), time.Minute); err != nil {
		t.Fatalf("Set(%s): %v", name, err)
	}
}

// wantPresent checks which of the named keys are present.
func wantPresent(t *testing.T, b Backend, want map[string]bool) {
	t.Helper()
	for name, present := range want {
		_, err := b.Get(context.Background(), testKey(name))
		if err != nil && !errors.Is(err, ErrMiss) {
			t.Fatalf("Get(%s): %v", name, err)
		}
		if got := err == nil; got != present {
			t.Errorf("%s present = %v, want %v", name, got, present)
		}
	}
}

func TestMemoryContract(t *testing.T) {
	runBackendContract(t, func(t *testing.T) Backend {
		m := NewMemory(1 << 20)
		t.Cleanup(func() { m.Close() })
		return m
	})
}

// fakeOtterClock is a settable clock for otter; it never ticks, so only
// reads see expiry (no background clean-up).
type fakeOtterClock struct{ nanos atomic.Int64 }

func (c *fakeOtterClock) NowNano() int64                      { return c.nanos.Load() }
func (c *fakeOtterClock) Tick(time.Duration) <-chan time.Time { return nil }
func (c *fakeOtterClock) Advance(d time.Duration)             { c.nanos.Add(int64(d)) }

func newFakeOtterClock() *fakeOtterClock {
	c := &fakeOtterClock{}
	c.nanos.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func TestMemoryExpiresEachEntryAtItsTTL(t *testing.T) {
	ctx := context.Background()
	clock := newFakeOtterClock()
	m := newMemory(1<<20, clock)
	defer m.Close()
	if err := m.Set(ctx, testKey("short"), "m", []byte("s"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, testKey("long"), "m", []byte("l"), time.Hour); err != nil {
		t.Fatal(err)
	}
	clock.Advance(9 * time.Second)
	wantPresent(t, m, map[string]bool{"short": true, "long": true})
	clock.Advance(2 * time.Second)
	wantPresent(t, m, map[string]bool{"short": false, "long": true})
	// a Set restarts the ttl with the new value's
	if err := m.Set(ctx, testKey("long"), "m", []byte("l2"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	clock.Advance(6 * time.Second)
	wantPresent(t, m, map[string]bool{"long": false})
}

// TestMemoryExpiresWithTheRealClock checks the default wiring: a 30 ms ttl.
func TestMemoryExpiresWithTheRealClock(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(1 << 20)
	defer m.Close()
	if err := m.Set(ctx, testKey("a"), "m", []byte("v"), 30*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	wantPresent(t, m, map[string]bool{"a": true})
	time.Sleep(60 * time.Millisecond)
	wantPresent(t, m, map[string]bool{"a": false})
}

func TestMemoryRefusesLargeValues(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(4096) // entries up to 1024 bytes of weight
	defer m.Close()
	small := make([]byte, 1024-memOverhead-1)
	if err := m.Set(ctx, testKey("a"), "m", small, time.Minute); err != nil {
		t.Fatalf("Set of %d bytes (+1 of model) at the limit: %v", len(small), err)
	}
	err := m.Set(ctx, testKey("a"), "m", make([]byte, len(small)+1), time.Minute)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Set over the limit: err %v, want ErrTooLarge", err)
	}
	if got, err := m.Get(ctx, testKey("a")); err != nil || len(got) != len(small) {
		t.Errorf("the refused Set changed the old value: %d bytes, %v", len(got), err)
	}
}

// TestMemoryPurgeModelSparesRetaggedValues: a value stored again under
// another model is no longer the first model's (Redis may still purge it).
func TestMemoryPurgeModelSparesRetaggedValues(t *testing.T) {
	m := NewMemory(1 << 20)
	defer m.Close()
	mustSet(t, m, "x", "model-x")
	mustSet(t, m, "x-then-y", "model-x")
	mustSet(t, m, "x-then-y", "model-y")
	if n, err := m.PurgeModel(context.Background(), "model-x"); err != nil || n != 1 {
		t.Errorf("PurgeModel = %d, %v; want 1", n, err)
	}
	wantPresent(t, m, map[string]bool{"x": false, "x-then-y": true})
}

// TestMemoryEvictsWithinTheBound writes ten times the bound. Only the
// newest few entries are sure to stay: they sit in otter's admission
// window (1% of the bound), and older ones compete by frequency.
func TestMemoryEvictsWithinTheBound(t *testing.T) {
	ctx := context.Background()
	const bound = 1 << 20
	m := NewMemory(bound)
	defer m.Close()
	val := make([]byte, 1000)
	per := int64(len(val)) + 1 + memOverhead
	n := int(10 * bound / per)
	for i := range n {
		if err := m.Set(ctx, testKey(fmt.Sprint(i)), "m", val, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	m.c.CleanUp() // apply the pending writes and evictions
	if got := m.Bytes(); got > bound || got < bound/2 {
		t.Errorf("Bytes() = %d after %d bytes written, want within (%d, %d]", got, int64(n)*per, bound/2, bound)
	}
	if got := m.Len(); int64(got) > bound/per || got == 0 {
		t.Errorf("Len() = %d, want 1..%d", got, bound/per)
	}
	for i := n - 3; i < n; i++ {
		if _, err := m.Get(ctx, testKey(fmt.Sprint(i))); err != nil {
			t.Errorf("recent entry %d of %d: %v", i, n, err)
		}
	}
}

func TestMemoryLenBytesAndClose(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(1 << 20)
	mustSet(t, m, "a", "model")
	mustSet(t, m, "b", "model")
	m.c.CleanUp()
	want := int64(2 * (len("value of a") + len("model") + memOverhead))
	if m.Len() != 2 || m.Bytes() != want {
		t.Errorf("Len, Bytes = %d, %d; want 2, %d", m.Len(), m.Bytes(), want)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, testKey("a")); !errors.Is(err, ErrMiss) {
		t.Errorf("Get after Close: %v, want ErrMiss", err)
	}
}

func TestNewMemoryPanicsOnNoBound(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewMemory(0) did not panic")
		}
	}()
	NewMemory(0)
}
