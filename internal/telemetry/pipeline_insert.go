package telemetry

import (
	"context"
	"errors"

	"github.com/sluicehq/sluice/internal/store"
)

// inserted says what insert did with a batch.
type inserted struct {
	stored   int   // records stored: recs[:stored]
	unstored int   // records not stored because err stopped it: recs[stored:stored+unstored]
	rejected int   // records the store refused alone; dropped
	err      error // the failure that stopped it (not ErrBadRecord); nil if none
}

// insert stores recs, first all in one InsertLogs call. When the store
// refuses that batch's data (an error wrapping store.ErrBadRecord) it
// stores them one at a time, in order, each with its own WriteTimeout:
// a record refused alone is rejected — logged by ID only (never its
// contents, nor the database's message, which may quote them), not kept,
// and left to the caller to count — and the others go in. Any other error
// stops it: that record and those after it are unstored, to be kept for
// later.
//
// It compacts recs in place, keeping their order, as inserted describes;
// recs[stored+unstored:] is left holding stale copies.
func (p *Pipeline) insert(ctx context.Context, recs []store.Record) inserted {
	if len(recs) == 0 {
		return inserted{}
	}
	wctx, cancel := context.WithTimeout(ctx, p.cfg.WriteTimeout)
	err := p.logs.InsertLogs(wctx, recs)
	cancel()
	if err == nil {
		return inserted{stored: len(recs)}
	}
	if !errors.Is(err, store.ErrBadRecord) {
		return inserted{unstored: len(recs), err: err}
	}
	var res inserted
	for i := range recs {
		wctx, cancel := context.WithTimeout(ctx, p.cfg.WriteTimeout)
		err := p.logs.InsertLogs(wctx, recs[i:i+1])
		cancel()
		switch {
		case err == nil:
			recs[res.stored] = recs[i]
			res.stored++
		case errors.Is(err, store.ErrBadRecord):
			res.rejected++
			p.log.Error("telemetry: request log record rejected: the store refuses its data", "id", recs[i].ID)
		default:
			res.unstored = copy(recs[res.stored:], recs[i:])
			res.err = err
			return res
		}
	}
	return res
}
