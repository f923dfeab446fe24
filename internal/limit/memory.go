package limit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const (
	memShards  = 64
	memMaxDebt = int64(1) << 60 // ns, ~36 years
	// sweepMin is the least number of operations a shard sees between two
	// sweeps; a shard also waits for as many operations as it holds buckets,
	// so sweeping costs O(1) amortised per call.
	sweepMin = 1024
)

// Memory is a Limiter for a single process: sharded maps guarded by mutexes,
// nanosecond ticks from an injectable clock. Buckets that have filled up
// again are indistinguishable from absent ones and are evicted by periodic
// sweeps; concurrency counters are deleted when they reach zero. The zero
// value is not usable; call NewMemory.
type Memory struct {
	now    func() time.Time
	base   time.Time
	seed   maphash.Seed
	shards [memShards]memShard
}

type memShard struct {
	mu      sync.Mutex
	buckets map[string]cell
	held    map[string]int64
	ops     int
	_       [64]byte // keep neighbouring shards' locks off one cache line
}

// NewMemory returns an empty in-memory limiter reading time from now (nil
// means time.Now). Time is measured from the first reading through
// time.Time.Sub, so time.Now's monotonic clock makes wall-clock jumps
// harmless. The context arguments of its methods are ignored: nothing blocks.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now, base: now(), seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].buckets = make(map[string]cell)
		m.shards[i].held = make(map[string]int64)
	}
	return m
}

func (m *Memory) ticks() int64 { return int64(m.now().Sub(m.base)) }

func (m *Memory) shard(key string) *memShard {
	return &m.shards[maphash.String(m.seed, key)%memShards]
}

func memGCRA(rate Rate) gcra {
	return newGCRA(int64(rate.Period), rate, memMaxDebt)
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string, rate Rate, cost int64) (Decision, error) {
	if err := checkRate(key, rate); err != nil {
		return Decision{}, err
	}
	if err := checkCost(cost); err != nil {
		return Decision{}, err
	}
	g := memGCRA(rate)
	q, r := g.span(uint64(cost))
	tooBig := cost > rate.burst()
	now := m.ticks()
	s := m.shard(key)
	s.mu.Lock()
	c, found := s.buckets[key]
	if !found {
		c = cell{tat: now}
	}
	c = g.norm(c, now)
	next := g.add(c, q, r, now)
	allowed := !tooBig && g.fits(next, now)
	if allowed && (q != 0 || r != 0) {
		s.buckets[key] = next
	}
	s.maybeSweep(now)
	s.mu.Unlock()
	if allowed {
		return g.decision(true, false, next, now, q, r, time.Nanosecond), nil
	}
	return g.decision(false, tooBig, c, now, q, r, time.Nanosecond), nil
}

// Adjust implements Limiter.
func (m *Memory) Adjust(_ context.Context, key string, rate Rate, delta int64) error {
	if err := checkRate(key, rate); err != nil {
		return err
	}
	if delta == 0 {
		return nil
	}
	g := memGCRA(rate)
	now := m.ticks()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, found := s.buckets[key]
	if !found {
		if delta < 0 {
			return nil // a full bucket stays full
		}
		c = cell{tat: now}
	}
	c = g.norm(c, now)
	if delta > 0 {
		q, r := g.span(uint64(delta))
		c = g.add(c, q, r, now)
	} else {
		q, r := g.span(uint64(-delta)) // also right for MinInt64: 2⁶³
		c = g.sub(c, q, r, now)
	}
	if c.tat > now || c.frac > 0 {
		s.buckets[key] = c
	} else {
		delete(s.buckets, key)
	}
	s.maybeSweep(now)
	return nil
}

// Acquire implements Limiter.
func (m *Memory) Acquire(_ context.Context, key string, max int64) (bool, error) {
	if err := checkMax(key, max); err != nil {
		return false, err
	}
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.held[key]
	if n >= max {
		return false, nil
	}
	s.held[key] = n + 1
	return true, nil
}

// Release implements Limiter.
func (m *Memory) Release(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch n := s.held[key]; {
	case n > 1:
		s.held[key] = n - 1
	case n == 1:
		delete(s.held, key)
	}
	return nil
}

// maybeSweep deletes the shard's full buckets once enough operations have
// passed; s.mu must be held.
func (s *memShard) maybeSweep(now int64) {
	s.ops++
	if s.ops < sweepMin+len(s.buckets) {
		return
	}
	s.ops = 0
	for k, c := range s.buckets {
		if c.tat < now {
			delete(s.buckets, k)
		}
	}
}

// bucketCount returns how many rate buckets m holds (for tests).
func (m *Memory) bucketCount() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}
