package limit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestRedisLeaseExpiry(t *testing.T) {
	client, prefix := testRedis(t)
	clock := newFakeClock()
	r := NewRedis(client, prefix, WithLease(time.Minute))
	r.clock = clock.Now
	ctx := context.Background()
	acquire := func(want bool) {
		t.Helper()
		ok, err := r.Acquire(ctx, "c", 2)
		if err != nil || ok != want {
			t.Fatalf("Acquire = %v, %v; want %v", ok, err, want)
		}
	}
	acquire(true)
	acquire(true)
	acquire(false)
	if ttl := client.PTTL(ctx, prefix+"cc:c").Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("lease set TTL = %v, want in (0, 1m]", ttl)
	}
	clock.Advance(time.Minute - time.Microsecond)
	acquire(false) // both leases still live
	clock.Advance(time.Microsecond)
	acquire(true) // both leases expired: crashed holders free their slots
	clock.Advance(time.Second)
	acquire(true)
	acquire(false)
	// Release after an expiry drops the expired lease, never a live one.
	clock.Advance(time.Minute - time.Second)
	if err := r.Release(ctx, "c"); err != nil { // the first live lease expired just now
		t.Fatal(err)
	}
	if n := client.ZCard(ctx, prefix+"cc:c").Val(); n != 0 {
		t.Errorf("after expiry and release %d leases remain, want 0", n)
	}
}

func TestRedisBucketExpiresWhenFull(t *testing.T) {
	client, prefix := testRedis(t)
	r := NewRedis(client, prefix)
	ctx := context.Background()
	d, err := r.Allow(ctx, "b", Rate{Limit: 10, Period: time.Hour}, 3)
	if err != nil || !d.Allowed {
		t.Fatalf("Allow = %+v, %v", d, err)
	}
	ttl := client.PTTL(ctx, prefix+"rl:b").Val()
	if ttl <= 0 || ttl > d.ResetAfter+time.Millisecond {
		t.Errorf("bucket TTL = %v, want in (0, ResetAfter %v + 1ms]", ttl, d.ResetAfter)
	}
}

// TestRedisAccuracyAcrossProcesses stands three gateway processes (three
// clients, three limiters) on one Redis and hammers one key for about three
// seconds of real time, with the server's clock, once with the default burst
// and once with a 2 % burst. A drained bucket refills one unit per emission
// interval T = Period/Limit = 10ms, and an idle one starts full (Burst units),
// so the bucket admits exactly
//
//	Burst + ⌊(last call − first call) / T⌋ (+1 for the partial interval)
//
// and both calls fall between the server times read before the start and
// after the end. Expected = Burst + elapsed/T; the tolerance is 2 % of the
// refill share elapsed/T (≥ 1), which absorbs the start and stop latency.
func TestRedisAccuracyAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 6s of real time; skipped in -short mode")
	}
	for _, rate := range []Rate{
		{Limit: 6000, Period: time.Minute},
		{Limit: 6000, Period: time.Minute, Burst: 120},
	} {
		t.Run(fmt.Sprintf("burst %d", rate.Burst), func(t *testing.T) { redisAccuracy(t, rate) })
	}
}

func redisAccuracy(t *testing.T, rate Rate) {
	client, prefix := testRedis(t)
	const processes, workers = 3, 4
	limiters := make([]*Redis, processes)
	for i := range limiters {
		c := redis.NewClient(client.Options())
		t.Cleanup(func() { c.Close() })
		limiters[i] = NewRedis(c, prefix)
	}
	ctx := context.Background()
	start := make(chan struct{})
	var stop atomic.Bool
	var admitted, calls atomic.Int64
	var wg sync.WaitGroup
	for _, l := range limiters {
		for range workers {
			wg.Go(func() {
				<-start
				for !stop.Load() {
					d, err := l.Allow(ctx, "shared", rate, 1)
					if err != nil {
						t.Error(err)
						return
					}
					calls.Add(1)
					if d.Allowed {
						admitted.Add(1)
					}
				}
			})
		}
	}
	t0 := client.Time(ctx).Val()
	close(start)
	time.Sleep(3 * time.Second)
	stop.Store(true)
	wg.Wait()
	t1 := client.Time(ctx).Val()
	interval := rate.Period / time.Duration(rate.Limit)
	share := float64(t1.Sub(t0)) / float64(interval)
	want := float64(rate.burst()) + share
	tol := max(share/50, 1)
	got := float64(admitted.Load())
	t.Logf("%d calls over %v of server time: admitted %.0f, want %.1f ± %.1f", calls.Load(), t1.Sub(t0), got, want, tol)
	if got < want-tol || got > want+tol+1 {
		t.Errorf("admitted %.0f, want %.1f ± %.1f (burst %d + %.1f refilled)", got, want, tol, rate.burst(), share)
	}
}

// TestRedisDown: with Redis unreachable every method returns an error well
// before the caller's deadline (the limiter's own timeout bounds go-redis's
// retries; a client without retries fails at once with the dial error),
// without the password, and not as ErrInvalid.
func TestRedisDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	opt, err := redis.ParseURL("redis://:s3cret-pass@" + addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	retrying := redis.NewClient(opt) // go-redis defaults: 3 retries, 5 dial attempts
	t.Cleanup(func() { retrying.Close() })
	quick := *opt
	quick.MaxRetries, quick.DialerRetries = -1, 1
	failFast := redis.NewClient(&quick)
	t.Cleanup(func() { failFast.Close() })
	limiters := []struct {
		name    string
		r       *Redis
		wantErr string // in the error text
	}{
		{"default client, limiter timeout", NewRedis(retrying, "down:"), "context deadline exceeded"},
		{"client without retries, no limiter timeout", NewRedis(failFast, "down:", WithTimeout(0)), "connection refused"},
	}
	for _, l := range limiters {
		r := l.r
		calls := []struct {
			name string
			call func(context.Context) error
		}{
			{"allow", func(ctx context.Context) error { _, err := r.Allow(ctx, "k", perSec4, 1); return err }},
			{"adjust", func(ctx context.Context) error { return r.Adjust(ctx, "k", perSec4, 1) }},
			{"acquire", func(ctx context.Context) error { _, err := r.Acquire(ctx, "k", 1); return err }},
			{"release", func(ctx context.Context) error { return r.Release(ctx, "k") }},
		}
		for _, c := range calls {
			t.Run(l.name+"/"+c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				err := c.call(ctx)
				switch {
				case err == nil:
					t.Fatal("got no error with Redis down")
				case ctx.Err() != nil:
					t.Errorf("returned only after the caller's deadline: %v", err)
				case errors.Is(err, ErrInvalid):
					t.Errorf("a backend failure reported as ErrInvalid: %v", err)
				case strings.Contains(err.Error(), "s3cret"):
					t.Errorf("error leaks the password: %v", err)
				case !strings.HasPrefix(err.Error(), "limit: redis "+c.name+": "):
					t.Errorf("error %q lacks the %q prefix", err, "limit: redis "+c.name+": ")
				case !strings.Contains(err.Error(), l.wantErr):
					t.Errorf("error %q does not mention %q", err, l.wantErr)
				}
			})
		}
	}
	t.Run("sub-microsecond period is invalid", func(t *testing.T) {
		_, err := limiters[0].r.Allow(context.Background(), "k", Rate{Limit: 1, Period: 999}, 1)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("got %v, want ErrInvalid", err)
		}
	})
}
