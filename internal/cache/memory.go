package cache

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/maypok86/otter/v2"
)

// memOverhead is the weight Memory adds to each value for its key, its
// bookkeeping and the cache's node, so that many tiny values still count.
const memOverhead = 128

// Memory is a Backend in the process's memory, bounded by the total weight
// of its values (len(val)+len(model)+a fixed overhead each), evicting the
// entries least likely to be used again (otter's W-TinyLFU) and expiring
// each at the ttl given to Set. Values larger than a quarter of the bound
// are refused with ErrTooLarge, so one answer cannot flush the cache.
//
// Once full, a new value enters through a small admission window (about 1%
// of the bound) and then stays only if it is used more often than what it
// would evict: a burst of one-off answers does not flush popular ones.
type Memory struct {
	c        *otter.Cache[Key, *memItem]
	maxEntry int64 // largest weight Set accepts
}

// memItem is a stored value with what the weigher and expiry need.
type memItem struct {
	model string
	val   []byte
	ttl   time.Duration
}

func (it *memItem) weight() int64 { return int64(len(it.val)) + int64(len(it.model)) + memOverhead }

// NewMemory returns a Memory holding at most maxBytes of weight. It panics
// if maxBytes is not positive, a wiring bug (config validation rejects it).
func NewMemory(maxBytes int64) *Memory { return newMemory(maxBytes, nil) }

// newMemory is NewMemory with a clock for tests; nil is the real clock.
func newMemory(maxBytes int64, clock otter.Clock) *Memory {
	if maxBytes <= 0 {
		panic(fmt.Sprintf("cache: NewMemory(%d): the bound must be positive", maxBytes))
	}
	c, err := otter.New(&otter.Options[Key, *memItem]{
		MaximumWeight: uint64(maxBytes),
		Weigher:       func(_ Key, it *memItem) uint32 { return uint32(it.weight()) }, // Set keeps it <= MaxUint32
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[Key, *memItem]) time.Duration {
			return e.Value.ttl
		}),
		Clock: clock,
	})
	if err != nil {
		panic(fmt.Sprintf("cache: otter rejected the memory options: %v", err))
	}
	return &Memory{c: c, maxEntry: min(maxBytes/4, math.MaxUint32)}
}

// Get returns the value under k, or ErrMiss. It never fails otherwise.
func (m *Memory) Get(_ context.Context, k Key) ([]byte, error) {
	it, ok := m.c.GetIfPresent(k)
	if !ok {
		return nil, ErrMiss
	}
	return it.val, nil
}

// Set stores val under k for ttl. A value weighing more than a quarter of
// the bound is refused with an error wrapping ErrTooLarge, leaving any
// older value under k in place; a ttl that is not positive is an error.
func (m *Memory) Set(_ context.Context, k Key, model string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("cache: memory set: ttl %v is not positive", ttl)
	}
	it := &memItem{model: model, val: val, ttl: ttl}
	if w := it.weight(); w > m.maxEntry {
		return fmt.Errorf("cache: memory set: %d bytes over the %d-byte entry limit: %w", w, m.maxEntry, ErrTooLarge)
	}
	m.c.Set(k, it)
	return nil
}

// Delete removes k and reports whether it was there.
func (m *Memory) Delete(_ context.Context, k Key) (bool, error) {
	_, ok := m.c.Invalidate(k)
	return ok, nil
}

// PurgeModel removes every value tagged with model. Each removal checks
// the tag atomically, so a value that replaces one of them meanwhile under
// another model stays. It walks the whole cache.
func (m *Memory) PurgeModel(_ context.Context, model string) (int, error) {
	n := 0
	for k, it := range m.c.All() {
		if it.model != model {
			continue
		}
		removed := false
		m.c.ComputeIfPresent(k, func(old *memItem) (*memItem, otter.ComputeOp) {
			if old.model != model {
				return old, otter.CancelOp
			}
			removed = true
			return nil, otter.InvalidateOp
		})
		if removed {
			n++
		}
	}
	return n, nil
}

// PurgeAll removes every value and returns how many it removed.
func (m *Memory) PurgeAll(_ context.Context) (int, error) {
	n := 0
	for k := range m.c.Keys() {
		if _, ok := m.c.Invalidate(k); ok {
			n++
		}
	}
	return n, nil
}

// Len returns the number of values held. It is approximate: otter applies
// writes and evictions in the background, and expired values count until
// they are cleaned up.
func (m *Memory) Len() int { return m.c.EstimatedSize() }

// Bytes returns the total weight held (len(val)+len(model)+a fixed
// overhead per value). Approximate like Len: it can exceed the bound
// briefly, until the background eviction catches up.
func (m *Memory) Bytes() int64 { return int64(m.c.WeightedSize()) }

// Close drops every value and stops otter's background goroutine.
func (m *Memory) Close() error {
	m.c.InvalidateAll()
	m.c.StopAllGoroutines()
	return nil
}
