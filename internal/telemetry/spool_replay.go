package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// runReplay replays the spool at start-up and then every RetryInterval
// until Close.
func (p *Pipeline) runReplay() {
	_ = p.replay(p.loopCtx)
	t := time.NewTicker(p.cfg.RetryInterval)
	defer t.Stop()
	for {
		select {
		case <-p.loopCtx.Done():
			return
		case <-t.C:
			_ = p.replay(p.loopCtx)
		}
	}
}

// replay makes one pass over the spool: first the sealed files, oldest
// first; then, only if all of those made it, the current files, which it
// seals first. It stops at the first store failure and leaves that file
// and the later ones for the next pass. A pass with no failure clears
// storeDown, so the writer tries the store again. It returns the failure,
// for tests.
func (p *Pipeline) replay(ctx context.Context) error {
	p.replayMu.Lock()
	defer p.replayMu.Unlock()
	if n := p.overflow.Load(); n != p.lastOver {
		p.log.Warn("telemetry: request log queue full; records spooled", "records", n-p.lastOver)
		p.lastOver = n
	}
	for _, withCurrent := range []bool{false, true} {
		files, err := p.spool.claim(withCurrent)
		if err != nil {
			p.log.Error("telemetry: spool replay", "err", err)
			return err
		}
		for _, e := range files {
			if err := p.replayFile(ctx, e); err != nil {
				if ctx.Err() == nil {
					p.log.Warn("telemetry: spool replay failed; retrying later", "err", err)
				}
				return err
			}
		}
	}
	if p.storeDown.Swap(false) {
		p.log.Info("telemetry: request log store recovered")
	}
	return nil
}

// replayFile inserts the records of one sealed file in batches and removes
// the file once all are in, or rejected: a record the store refuses (see
// insert) is dropped, so one bad record never holds a file back. Inserts
// are idempotent by ID, so a file that fails halfway is simply replayed
// whole next time. Records of overflow files are exported after they are
// stored (so a file replayed twice may export some records twice).
// Replayed, Rejected and SpoolCorrupt count a file only once it is done.
func (p *Pipeline) replayFile(ctx context.Context, e spoolEntry) error {
	f, err := os.Open(e.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("telemetry: spool open: %w", err)
	}
	defer f.Close()
	name := filepath.Base(e.path)
	var good, bad, rejected, refused int64 // rejected: invalid IDs; refused: by the store
	batch := make([]store.Record, 0, min(p.cfg.BatchSize, 64))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res := p.insert(ctx, batch)
		if res.err != nil {
			return fmt.Errorf("telemetry: replay %s: %w", name, res.err)
		}
		good += int64(res.stored)
		refused += int64(res.rejected)
		if e.kind == kindOverflow {
			p.export(batch[:res.stored])
		}
		clear(batch)
		batch = batch[:0]
		return nil
	}
	err = scanSpool(f, func(r store.Record) error {
		if !validRecordID(r.ID) { // a bad ID would fail the whole batch
			rejected++
			return nil
		}
		batch = append(batch, r)
		if len(batch) >= p.cfg.BatchSize {
			return flush()
		}
		return nil
	}, func(line int, torn bool, err error) {
		bad++
		p.log.Warn("telemetry: spool line skipped", "file", name, "line", line, "torn", torn, "err", err)
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	f.Close()
	if err := os.Remove(e.path); err != nil {
		return fmt.Errorf("telemetry: spool remove: %w", err)
	}
	syncDir(filepath.Dir(e.path))
	p.replayed.Add(good)
	p.corrupt.Add(bad)
	if rejected > 0 {
		p.log.Error("telemetry: request log records rejected: invalid id", "file", name, "records", rejected)
	}
	p.rejected.Add(rejected + refused)
	return nil
}

// scanSpool reads JSON lines from r and calls rec for each record, in
// order, stopping at rec's first error, which it returns. Blank lines are
// skipped; a line that does not decode goes to bad with its 1-based number
// and whether it was a last line cut short (no newline). Only read errors
// and rec's errors end the scan.
func scanSpool(r io.Reader, rec func(store.Record) error, bad func(line int, torn bool, err error)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		b, rerr := br.ReadBytes('\n')
		if len(b) > 0 {
			got, skip, err := decodeSpoolLine(b)
			switch {
			case err != nil:
				bad(line, b[len(b)-1] != '\n', err)
			case !skip:
				if err := rec(got); err != nil {
					return err
				}
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("telemetry: spool read: %w", rerr)
		}
	}
}

// decodeSpoolLine decodes one spool line, with or without its line end.
// skip is true for a blank line.
func decodeSpoolLine(b []byte) (r store.Record, skip bool, err error) {
	b = bytes.TrimRight(b, "\r\n")
	if len(bytes.TrimSpace(b)) == 0 {
		return store.Record{}, true, nil
	}
	r, err = ParseRecordJSON(b)
	return r, false, err
}
