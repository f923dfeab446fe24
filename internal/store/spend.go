package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SpendKey names one budget period's spend: a scope ("key", "team" or
// "tenant"), its ID and the period's first instant. A zero PeriodStart
// is a lifetime budget's single period (period_start_us 0).
type SpendKey struct {
	Scope, ScopeID string
	PeriodStart    time.Time
}

// SpendDelta is spend to add to a period, in micro-dollars.
type SpendDelta struct {
	SpendKey
	Micros int64
}

// Spend is a period's recorded spend: the sum of every delta added to it
// by every process sharing the store.
type Spend struct {
	SpendKey
	Micros    int64
	UpdatedAt time.Time // when a delta was last added (the adder's clock)
}

// spendChunk bounds the rows of one statement (3 or 5 placeholders each).
const spendChunk = 200

// periodUS is a period start as stored: microseconds, 0 for lifetime.
func periodUS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func periodTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// checkSpendKey reports why k cannot be stored, wrapping ErrBadRecord.
func checkSpendKey(k SpendKey) error {
	if err := checkEntityText("scope", k.Scope, true); err != nil {
		return err
	}
	return checkEntityText("scope ID", k.ScopeID, true)
}

// AddSpend adds each delta to its period's recorded spend, creating the
// row when needed, all in one transaction: either every delta is added
// or none is. Deltas are added, never written over, so processes sharing
// the store may add to the same period at once. Deltas for the same
// period are summed first; zero ones are skipped. A delta with an empty
// or invalid scope or ID fails the whole call with an error wrapping
// ErrBadRecord.
func (db *DB) AddSpend(ctx context.Context, deltas []SpendDelta) (err error) {
	type row struct {
		scope, id string
		start     int64
	}
	sums := make(map[row]int64, len(deltas))
	order := make([]row, 0, len(deltas))
	for _, d := range deltas {
		if err := checkSpendKey(d.SpendKey); err != nil {
			return fmt.Errorf("store: add spend: %w", err)
		}
		r := row{d.Scope, d.ScopeID, periodUS(d.PeriodStart)}
		if _, ok := sums[r]; !ok {
			order = append(order, r)
		}
		sums[r] += d.Micros
	}
	// One order for every caller: concurrent transactions then lock the
	// rows they share in the same order, and PostgreSQL never deadlocks.
	slices.SortFunc(order, func(a, b row) int {
		return cmp.Or(strings.Compare(a.scope, b.scope), strings.Compare(a.id, b.id), cmp.Compare(a.start, b.start))
	})
	now := db.now().UnixMicro()
	args := make([]any, 0, 5)
	var stmts []*stmt
	var s *stmt
	n := 0
	for _, r := range order {
		if sums[r] == 0 {
			continue
		}
		if s == nil {
			s = db.d.stmt().sql("INSERT INTO budget_spend (scope, scope_id, period_start_us, micros, updated_us) VALUES ")
		} else {
			s.sql(", ")
		}
		s.list(append(args[:0], r.scope, r.id, r.start, sums[r], now))
		if n++; n == spendChunk {
			stmts, s, n = append(stmts, s), nil, 0
		}
	}
	if s != nil {
		stmts = append(stmts, s)
	}
	if len(stmts) == 0 {
		return nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: add spend: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	for _, s := range stmts {
		s.sql(" ON CONFLICT (scope, scope_id, period_start_us) DO UPDATE SET" +
			" micros = budget_spend.micros + excluded.micros, updated_us = excluded.updated_us")
		if _, err := tx.ExecContext(ctx, s.String(), s.args...); err != nil {
			return fmt.Errorf("store: add spend: %w", markBadRecord(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: add spend: commit: %w", markBadRecord(err))
	}
	return nil
}

// LoadSpend returns the recorded spend of those of keys that have any, in
// no particular order; a period nothing was added to has no row. Each
// key costs a primary-key lookup, so callers ask for the periods they
// hold, not for history.
func (db *DB) LoadSpend(ctx context.Context, keys []SpendKey) ([]Spend, error) {
	var out []Spend
	for start := 0; start < len(keys); start += spendChunk {
		chunk := keys[start:min(start+spendChunk, len(keys))]
		s := db.d.stmt().sql("SELECT scope, scope_id, period_start_us, micros, updated_us FROM budget_spend WHERE ")
		for i, k := range chunk {
			if i > 0 {
				s.sql(" OR ")
			}
			s.sql("(scope = ").arg(k.Scope).sql(" AND scope_id = ").arg(k.ScopeID).
				sql(" AND period_start_us = ").arg(periodUS(k.PeriodStart)).sql(")")
		}
		rows, err := db.r.QueryContext(ctx, s.String(), s.args...)
		if err != nil {
			return nil, fmt.Errorf("store: load spend: %w", err)
		}
		for rows.Next() {
			var (
				sp        Spend
				startUS   int64
				updatedUS int64
			)
			if err := rows.Scan(&sp.Scope, &sp.ScopeID, &startUS, &sp.Micros, &updatedUS); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: load spend: %w", err)
			}
			sp.PeriodStart, sp.UpdatedAt = periodTime(startUS), time.UnixMicro(updatedUS).UTC()
			out = append(out, sp)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: load spend: %w", err)
		}
	}
	return out, nil
}

// GetSpend returns one period's recorded spend, 0 when nothing was added
// to it.
func (db *DB) GetSpend(ctx context.Context, k SpendKey) (int64, error) {
	sp, err := db.LoadSpend(ctx, []SpendKey{k})
	if err != nil {
		return 0, err
	}
	if len(sp) == 0 {
		return 0, nil
	}
	return sp[0].Micros, nil
}
