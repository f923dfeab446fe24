package telemetry

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retention says which request-log records to delete. The zero value
// keeps everything.
type Retention struct {
	// MaxAge deletes records older than now − MaxAge (0: no age limit).
	MaxAge time.Duration
	// MaxRecords then deletes the oldest records beyond this many (0: no
	// count limit).
	MaxRecords int
	// Interval is how often the pruning runs (default 10m); the first run
	// is one Interval after start.
	Interval time.Duration
}

func (r Retention) enabled() bool { return r.MaxAge > 0 || r.MaxRecords > 0 }

func (r *Retention) defaults() error {
	var errs []error
	if r.MaxAge < 0 {
		errs = append(errs, errors.New("retention.max_age: must not be negative"))
	}
	if r.MaxRecords < 0 {
		errs = append(errs, errors.New("retention.max_records: must not be negative"))
	}
	if r.Interval < 0 {
		errs = append(errs, errors.New("retention.interval: must not be negative"))
	}
	if r.Interval <= 0 {
		r.Interval = 10 * time.Minute
	}
	return errors.Join(errs...)
}

// runRetention prunes every Retention.Interval until Close.
func (p *Pipeline) runRetention() {
	t := time.NewTicker(p.cfg.Retention.Interval)
	defer t.Stop()
	for {
		select {
		case <-p.loopCtx.Done():
			return
		case <-t.C:
			if _, err := p.prune(p.loopCtx); err != nil && p.loopCtx.Err() == nil {
				p.log.Warn("telemetry: request log retention failed", "err", err)
			}
		}
	}
}

// prune deletes what Retention says, with the cutoff taken from the
// pipeline's clock, and returns how many records went.
func (p *Pipeline) prune(ctx context.Context) (int64, error) {
	ret := p.cfg.Retention
	var before time.Time
	if ret.MaxAge > 0 {
		before = p.now().Add(-ret.MaxAge)
	}
	n, err := p.logs.PruneLogs(ctx, before, ret.MaxRecords)
	if err != nil {
		return n, fmt.Errorf("telemetry: prune: %w", err)
	}
	if n > 0 {
		p.log.Info("telemetry: request log records pruned", "records", n)
	}
	return n, nil
}
