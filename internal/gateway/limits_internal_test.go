package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/limit"
	"github.com/sluicehq/sluice/internal/llm"
)

// steppingClock moves on by step at every reading, so goroutines that
// hammer a limiter see time pass at a fixed rate per call.
type steppingClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *steppingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// testLimits is a memory-backed rateLimits on clock with a 1m window.
func testLimits(clock func() time.Time, burstPercent float64) *rateLimits {
	return &rateLimits{shared: limit.NewMemory(clock), window: time.Minute, burst: burstPercent,
		tokenBurst: burstPercent, replicas: 1, log: slog.New(slog.DiscardHandler), now: clock}
}

func chatExchange(text string, maxTokens int) *Exchange {
	req := &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(text)}}}}
	if maxTokens > 0 {
		req.MaxTokens = &maxTokens
	}
	return &Exchange{Op: OpChat, Request: req, ClientIP: "192.0.2.7"}
}

// TestLimitsStageAccuracy hammers admit from 16 goroutines for one
// simulated minute (the stepping clock moves 1ms per reading, far below
// the 100ms between two requests of 600/min) and counts what passes:
// Limit ± Burst (2 %), the band. With the team limited lower, the
// team's limit is what holds, and the key's counter loses nothing to the
// team's refusals (they are given back).
func TestLimitsStageAccuracy(t *testing.T) {
	for _, tc := range []struct {
		name      string
		p         auth.Principal
		want      int64
		keyUnused bool // the key's own bucket should end (nearly) untouched
	}{
		{"key 600 rpm", auth.Principal{KeyID: "k1", RPM: 600}, 600, false},
		{"team 300 rpm below key 6000 rpm", auth.Principal{KeyID: "k1", RPM: 6000, TeamID: "t1",
			Team: auth.Limits{RPM: 300}}, 300, true},
		{"tenant 600 tpm, 5-token prompts", auth.Principal{KeyID: "k1", TenantID: "n1",
			Tenant: auth.Limits{TPM: 600}}, 120, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &steppingClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: time.Millisecond}
			start := clock.Now()
			rl := testLimits(clock.Now, 2)
			var admitted atomic.Int64
			var wg sync.WaitGroup
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for clock.Now().Sub(start) < time.Minute {
						// 8 bytes: 2 tokens, plus 3 of framing.
						g, err := rl.admit(context.Background(), &tc.p, chatExchange("01234567", 0))
						if err == nil {
							admitted.Add(1)
							g.release()
						} else if e := llm.AsError(err); e.Code != "rate_limit_exceeded" {
							t.Errorf("refusal %v", err)
							return
						}
					}
				}()
			}
			wg.Wait()
			got := admitted.Load()
			band := max(tc.want/50, 1)
			t.Logf("admitted %d requests in one simulated minute, want %d ± %d", got, tc.want, band)
			if got < tc.want-band || got > tc.want+band {
				t.Errorf("admitted %d, want %d ± %d", got, tc.want, band)
			}
			if tc.keyUnused {
				// The key took one unit per admitted request only: its
				// bucket refills 100/s, so a second later it is full.
				d, err := rl.shared.Allow(context.Background(), "rpm:key:k1", rl.rate(kindRequests, 6000), 0)
				if err != nil || d.Remaining < rl.rate(kindRequests, 6000).Burst-2 {
					t.Errorf("the key's counter after the hammer: %+v %v; refusals by the team were not given back", d, err)
				}
			}
		})
	}
}

// TestLimitsRollbackAndHeaders: a refusal by one scope gives back what
// the others took, and the headers report the scope with the least room.
func TestLimitsRollbackAndHeaders(t *testing.T) {
	clock := &steppingClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} // frozen
	rl := testLimits(clock.Now, 100)
	p := &auth.Principal{KeyID: "k1", RPM: 10, TeamID: "t1", Team: auth.Limits{RPM: 2}}
	ctx := context.Background()
	for i := range 2 {
		g, err := rl.admit(ctx, p, chatExchange("hi", 0))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if want := int64(1 - i); g.requests.remaining != want || g.requests.limit != 2 {
			t.Errorf("request %d: headers from %+v, want the team's limit 2 with %d left", i, g.requests, want)
		}
	}
	g, err := rl.admit(ctx, p, chatExchange("hi", 0))
	e := llm.AsError(err)
	if e == nil || e.Status != 429 || e.Code != "rate_limit_exceeded" || e.RetryAfter <= 0 {
		t.Fatalf("third request: %v, want 429 rate_limit_exceeded with a Retry-After", err)
	}
	if e.Message != "rate limit reached: this key's team may send 2 requests per minute; try again in 30s" {
		t.Errorf("message %q", e.Message)
	}
	if g.requests.remaining != 0 || g.requests.limit != 2 {
		t.Errorf("refusal headers from %+v", g.requests)
	}
	d, _ := rl.shared.Allow(ctx, "rpm:key:k1", rl.rate(kindRequests, 10), 0)
	if d.Remaining != 8 {
		t.Errorf("the key has %d requests left, want 8: the refused request was not given back", d.Remaining)
	}
}

// TestLimitsTokens: the estimate (prompt bytes/4 + framing + capped
// max_tokens) is taken before, reconciled with the real usage after;
// a failed request gives it all back; a prompt larger than the limit is
// refused at once.
func TestLimitsTokens(t *testing.T) {
	clock := &steppingClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} // frozen
	rl := testLimits(clock.Now, 100)
	p := &auth.Principal{KeyID: "k1", TPM: 10000}
	ctx := context.Background()
	remaining := func() int64 {
		d, err := rl.shared.Allow(ctx, "tpm:key:k1", rl.rate(kindTokens, 10000), 0)
		if err != nil {
			t.Fatal(err)
		}
		return d.Remaining
	}
	ex := chatExchange(string(make([]byte, 400)), 50000) // 100 + 3 + 4096 (capped)
	g, err := rl.admit(ctx, p, ex)
	if err != nil {
		t.Fatal(err)
	}
	if got := remaining(); got != 10000-4199 {
		t.Fatalf("after admit: %d left, want %d", got, 10000-4199)
	}
	ex.Usage = llm.Usage{InputTokens: 100, OutputTokens: 20}
	g.settle(ex)
	g.settle(ex) // once only
	if got := remaining(); got != 10000-120 {
		t.Errorf("after settle: %d left, want %d", got, 10000-120)
	}

	// A failure gives the estimate back (the stage settles with no usage).
	failing := rl.stageFor(HandlerFunc(func(context.Context, *Exchange) error { return errors.New("boom") }))
	if err := failing.Serve(callerCtx(p), chatExchange(string(make([]byte, 400)), 0)); err == nil {
		t.Fatal("the failing request passed")
	}
	if got := remaining(); got != 10000-120 {
		t.Errorf("after a failed request: %d left, want %d", got, 10000-120)
	}

	// Larger than the limit: never admissible.
	_, err = rl.admit(ctx, p, chatExchange(string(make([]byte, 40100)), 0))
	if e := llm.AsError(err); e == nil || e.Status != 429 || e.RetryAfter != 0 ||
		e.Message != "request too large: its prompt is estimated at 10028 tokens, more than the 10000 tokens per minute that this key may use" {
		t.Errorf("a prompt over the limit: %v", err)
	}
}

// stageFor builds the limits stage of rl around next.
func (rl *rateLimits) stageFor(next Handler) Handler {
	return (&Gateway{limits: rl}).limitsStage(next)
}

// callerCtx is a request context whose caller is p.
func callerCtx(p *auth.Principal) context.Context {
	return context.WithValue(context.Background(), infoKey{}, &requestInfo{principal: p})
}

// fakeStream is a stream of nothing that records Close.
type fakeStream struct{ closed atomic.Bool }

func (s *fakeStream) Recv() (*llm.Chunk, error) { return nil, io.EOF }
func (s *fakeStream) Close() error              { s.closed.Store(true); return nil }

// TestLimitsConcurrencyNeverLeaks: a slot is freed when the stage
// returns an answer or an error, when the next stage panics, and for a
// stream only when the stream is closed (once, however often Close is
// called).
func TestLimitsConcurrencyNeverLeaks(t *testing.T) {
	rl := testLimits(time.Now, 2)
	p := &auth.Principal{KeyID: "k1", MaxConcurrent: 1}
	ctx := callerCtx(p)
	free := func() bool {
		t.Helper()
		ok, err := rl.shared.Acquire(context.Background(), "key:k1", 1)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			rl.shared.Release(context.Background(), "key:k1") //nolint:errcheck
		}
		return ok
	}
	run := func(next HandlerFunc) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = errors.New("panicked")
			}
		}()
		return rl.stageFor(next).Serve(ctx, chatExchange("hi", 0))
	}
	for _, tc := range []struct {
		name string
		next HandlerFunc
	}{
		{"answer", func(context.Context, *Exchange) error { return nil }},
		{"error", func(context.Context, *Exchange) error { return &llm.Error{Status: 502, Message: "x"} }},
		{"panic", func(context.Context, *Exchange) error { panic("boom") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			held := false
			run(func(ctx context.Context, ex *Exchange) error { //nolint:errcheck
				held = !free()
				return tc.next(ctx, ex)
			})
			if !held {
				t.Error("the slot was not held while the request ran")
			}
			if !free() {
				t.Error("the slot leaked")
			}
		})
	}
	t.Run("stream", func(t *testing.T) {
		fs := &fakeStream{}
		ex := chatExchange("hi", 0)
		err := rl.stageFor(HandlerFunc(func(_ context.Context, ex *Exchange) error {
			ex.Stream = fs
			return nil
		})).Serve(ctx, ex)
		if err != nil {
			t.Fatal(err)
		}
		if free() {
			t.Fatal("the slot was freed before the stream ended")
		}
		if err := rl.stageFor(HandlerFunc(func(context.Context, *Exchange) error { return nil })).Serve(ctx, chatExchange("hi", 0)); llm.AsError(err) == nil || llm.AsError(err).Status != 429 {
			t.Errorf("a second request while the stream runs: %v, want 429", err)
		}
		ex.Stream.Close()
		ex.Stream.Close()
		if !fs.closed.Load() || !free() {
			t.Error("closing the stream did not close the upstream or free the slot")
		}
		if ok, _ := rl.shared.Acquire(context.Background(), "key:k1", 1); !ok {
			t.Error("a double Close released twice")
		}
	})
}

// deadRedis is a limiter whose Redis is a closed loopback port.
func deadRedis(t *testing.T) *limit.Redis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { c.Close() })
	return limit.NewRedis(c, "test:")
}

// TestLimitsRedisDown: with on_redis_error local, requests are counted in
// the process against its share of the limit (limit / replicas), and
// Redis is left alone for a second after it failed; with closed they get
// 503 rate_limit_unavailable.
func TestLimitsRedisDown(t *testing.T) {
	p := &auth.Principal{KeyID: "k1", RPM: 300, MaxConcurrent: 3}
	ctx := context.Background()
	t.Run("local", func(t *testing.T) {
		clock := &steppingClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} // frozen
		rl := testLimits(clock.Now, 100)
		rl.shared, rl.local, rl.replicas = deadRedis(t), limit.NewMemory(clock.Now), 3
		first, err := rl.admit(ctx, p, chatExchange("hi", 0))
		if err != nil {
			t.Fatal(err)
		}
		if first.requests.limit != 100 || first.requests.remaining != 99 {
			t.Errorf("headers from %+v, want the share: limit 100, 99 left", first.requests)
		}
		// The share of max_concurrent 3 over 3 replicas is 1.
		if _, err := rl.admit(ctx, p, chatExchange("hi", 0)); llm.AsError(err) == nil || llm.AsError(err).Status != 429 {
			t.Fatalf("a second request in flight: %v, want 429", err)
		}
		first.release()
		for i := 1; i < 100; i++ {
			g, err := rl.admit(ctx, p, chatExchange("hi", 0))
			if err != nil {
				t.Fatalf("request %d of a share of 100: %v", i+1, err)
			}
			g.release()
		}
		if _, err := rl.admit(ctx, p, chatExchange("hi", 0)); llm.AsError(err) == nil || llm.AsError(err).Status != 429 {
			t.Errorf("request 101 of a share of 100: %v, want 429", err)
		}
		if !rl.down.Load() || rl.downUntil.Load() == 0 {
			t.Error("the failure was not noted")
		}
	})
	t.Run("closed", func(t *testing.T) {
		rl := testLimits(time.Now, 2)
		rl.shared = deadRedis(t)
		for i := range 2 { // the second is refused without asking Redis
			_, err := rl.admit(ctx, p, chatExchange("hi", 0))
			if e := llm.AsError(err); e == nil || e.Status != 503 || e.Code != "rate_limit_unavailable" || e.RetryAfter <= 0 {
				t.Fatalf("request %d: %v, want 503 rate_limit_unavailable", i, err)
			}
		}
	})
}

// TestLimitsRate: the burst is burst_percent of a request limit and
// token_burst_percent of a token limit, rounded up, within [1, limit].
func TestLimitsRate(t *testing.T) {
	rl := testLimits(time.Now, 2)
	rl.tokenBurst = 25
	for _, tc := range []struct {
		kind     int
		n, burst int64
	}{{kindRequests, 1, 1}, {kindRequests, 49, 1}, {kindRequests, 50, 1}, {kindRequests, 51, 2},
		{kindRequests, 600, 12}, {kindRequests, 100000, 2000}, {kindTokens, 3, 1}, {kindTokens, 100000, 25000}} {
		if r := rl.rate(tc.kind, tc.n); r.Limit != tc.n || r.Burst != tc.burst || r.Period != time.Minute {
			t.Errorf("rate(%d, %d) = %+v, want burst %d", tc.kind, tc.n, r, tc.burst)
		}
	}
}
