package budget

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/store"
)

// Preload reads the store's spend for the current period of every scope
// of scopes that has a budget, so that a restarted process refuses an
// exhausted budget from its first request. Thresholds already past are
// not alerted again. Call it before serving.
func (t *Tracker) Preload(ctx context.Context, scopes []auth.Scope) error {
	now := t.now()
	var (
		keys []store.SpendKey
		es   []*entry
	)
	for i := range scopes {
		sc := &scopes[i]
		if sc.Limits.BudgetMicros <= 0 {
			continue
		}
		e := t.entry(sc)
		e.mu.Lock()
		e.current(&sc.Limits, now, t)
		e.lastUsed = now
		if !e.loaded {
			keys, es = append(keys, e.spendKey()), append(es, e)
		}
		e.mu.Unlock()
	}
	if len(keys) == 0 {
		return nil
	}
	spends, err := t.store.LoadSpend(ctx, keys)
	if err != nil {
		return fmt.Errorf("budget: preload: %w", err)
	}
	totals := make(map[periodKey]int64, len(spends))
	for _, sp := range spends {
		totals[keyOf(sp.SpendKey)] = sp.Micros
	}
	for i, e := range es {
		e.mu.Lock()
		if !e.loaded && e.start.Equal(keys[i].PeriodStart) {
			e.stored, e.loaded = totals[keyOf(keys[i])], true
			e.markAt(e.spent(), t.percent)
		}
		e.mu.Unlock()
	}
	return nil
}

// periodKey is a store.SpendKey as a map key (the instant, not its zone).
type periodKey struct {
	scope, id string
	us        int64 // 0 for lifetime
}

func keyOf(k store.SpendKey) periodKey {
	pk := periodKey{scope: k.Scope, id: k.ScopeID}
	if !k.PeriodStart.IsZero() {
		pk.us = k.PeriodStart.UnixMicro()
	}
	return pk
}

// taken is spend a Sync took from an entry to write.
type taken struct {
	e      *entry
	key    store.SpendKey
	micros int64
}

// Sync writes the spend counted since the last Sync to the store (one
// transaction) and reads back the totals of every period held, which
// then include what other processes wrote. On a write failure the spend
// is kept for the next Sync; on a read failure the local view is kept.
// Soft-limit and budget crossings seen in the new totals are alerted.
// Periods unused here for idleTTL are not read back until they are used
// again: until then their last known total applies.
func (t *Tracker) Sync(ctx context.Context) error {
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	t.mu.RLock()
	es := make([]*entry, 0, len(t.entries))
	for _, e := range t.entries {
		es = append(es, e)
	}
	t.mu.RUnlock()

	var (
		took   []taken
		keys   []store.SpendKey
		held   []*entry
		deltas []store.SpendDelta
	)
	idleSince := t.now().Add(-idleTTL)
	for _, e := range es {
		e.mu.Lock()
		k := e.spendKey()
		if e.pending != 0 {
			took = append(took, taken{e, k, e.pending})
			deltas = append(deltas, store.SpendDelta{SpendKey: k, Micros: e.pending})
			e.inflight += e.pending
			e.pending = 0
		}
		if e.inflight != 0 || !e.loaded || !e.lastUsed.Before(idleSince) {
			keys, held = append(keys, k), append(held, e)
		}
		e.mu.Unlock()
	}
	t.carryMu.Lock()
	carried := t.carry
	t.carry = nil
	t.carryMu.Unlock()
	deltas = append(deltas, carried...)

	var werr error
	if len(deltas) > 0 {
		werr = t.store.AddSpend(ctx, deltas)
	}
	if werr != nil {
		for _, tk := range took {
			tk.e.mu.Lock()
			if tk.e.start.Equal(tk.key.PeriodStart) {
				tk.e.inflight -= tk.micros
				tk.e.pending += tk.micros
			} else {
				t.carryOver(store.SpendDelta{SpendKey: tk.key, Micros: tk.micros})
			}
			tk.e.mu.Unlock()
		}
		for _, d := range carried {
			t.carryOver(d)
		}
		took = nil // nothing of ours is in the totals read below
	}
	// What was written, by entry (one taken each).
	written := make(map[*entry]taken, len(took))
	for _, tk := range took {
		written[tk.e] = tk
	}

	var rerr error
	var spends []store.Spend
	if len(keys) > 0 {
		spends, rerr = t.store.LoadSpend(ctx, keys)
	}
	if rerr != nil {
		// Keep counting what was written: the totals will catch up.
		for e, tk := range written {
			e.mu.Lock()
			if e.start.Equal(tk.key.PeriodStart) { // else the period ended, dropping its inflight
				e.inflight -= tk.micros
				e.stored += tk.micros
			}
			e.mu.Unlock()
		}
	} else {
		totals := make(map[periodKey]int64, len(spends))
		for _, sp := range spends {
			totals[keyOf(sp.SpendKey)] = sp.Micros
		}
		for i, e := range held {
			t.apply(e, keys[i], totals[keyOf(keys[i])], written[e].micros)
		}
	}
	if err := errors.Join(werr, rerr); err != nil {
		return fmt.Errorf("budget: sync: %w", err)
	}
	return nil
}

// apply takes a period's total from the store into e, of which ours is
// what this Sync wrote for e. The first total read for a period alerts
// only the crossings of this process's own spend.
func (t *Tracker) apply(e *entry, k store.SpendKey, total, ours int64) {
	e.mu.Lock()
	if !e.start.Equal(k.PeriodStart) {
		// The period ended meanwhile: what was written for it stays
		// written, and the entry starts the new one from the store.
		e.mu.Unlock()
		return
	}
	before := e.spent()
	e.inflight -= ours
	e.stored = total
	if !e.loaded {
		e.loaded = true
		// Spend in the store before this process wrote any is history:
		// its thresholds were alerted by whoever crossed them.
		before = total - ours
		e.markAt(before, t.percent)
	}
	alerts := e.crossed(before, t.percent)
	s := e.status()
	e.mu.Unlock()
	t.send(alerts, s)
}

func (t *Tracker) carryOver(d store.SpendDelta) {
	t.carryMu.Lock()
	t.carry = append(t.carry, d)
	t.carryMu.Unlock()
}

// Run calls Sync every interval until ctx ends, logging failures (the
// first, then one a minute while they last).
func (t *Tracker) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var lastLog time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sctx, cancel := context.WithTimeout(ctx, max(interval, 5*time.Second))
		err := t.Sync(sctx)
		cancel()
		if err != nil && ctx.Err() == nil && time.Since(lastLog) > time.Minute {
			lastLog = time.Now()
			t.log.Error("budget spend not synced with the store; counting locally meanwhile", "err", err)
		}
	}
}
