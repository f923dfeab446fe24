package telemetry

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/store"
)

// runWriter is the one goroutine that takes records off the queue. It
// gathers a batch of up to BatchSize records, waiting at most
// FlushInterval after the first, and writes it. On stopWriter it drains
// what is left in the queue — Close has already shut Enqueue out, so the
// drain is complete — and closes writerDone.
func (p *Pipeline) runWriter() {
	defer close(p.writerDone)
	batch := make([]store.Record, 0, min(p.cfg.BatchSize, 64))
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case r := <-p.queue:
			batch = append(batch, r)
		case <-p.stopWriter:
			p.drain(batch)
			return
		}
		timer.Reset(p.cfg.FlushInterval)
	fill:
		for len(batch) < p.cfg.BatchSize {
			// Take what is queued without the cost of a full select;
			// block only when the queue is empty.
			select {
			case r := <-p.queue:
				batch = append(batch, r)
				continue
			default:
			}
			select {
			case r := <-p.queue:
				batch = append(batch, r)
			case <-timer.C:
				break fill
			case <-p.stopWriter:
				break fill // the outer select sees it and drains
			}
		}
		timer.Stop()
		batch = p.writeBatch(batch)
	}
}

// drain writes what is in the queue, batch by batch, until it is empty.
func (p *Pipeline) drain(batch []store.Record) {
	for {
		for more := true; more && len(batch) < p.cfg.BatchSize; {
			select {
			case r := <-p.queue:
				batch = append(batch, r)
			default:
				more = false
			}
		}
		if len(batch) == 0 {
			return
		}
		batch = p.writeBatch(batch)
	}
}

// writeBatch stores batch, or spools it if the store is down, then hands
// what was stored or spooled to the exporters. Records the store refuses
// (see insert) are rejected and neither spooled nor exported; a failure
// of another kind marks the store down and spools the records not yet
// stored. It returns batch emptied for reuse (its records cleared so the
// batch keeps nothing alive).
func (p *Pipeline) writeBatch(batch []store.Record) []store.Record {
	valid := p.reject(batch)
	res := inserted{unstored: len(valid)}
	if len(valid) > 0 && !p.storeDown.Load() {
		res = p.insert(p.baseCtx, valid)
		p.written.Add(int64(res.stored))
		p.rejected.Add(int64(res.rejected))
		if res.err != nil && !p.storeDown.Swap(true) {
			p.log.Warn("telemetry: request log store write failed; spooling until it recovers", "records", res.unstored, "err", res.err)
		}
	}
	if rest := valid[res.stored : res.stored+res.unstored]; len(rest) > 0 {
		n := int64(len(rest))
		if err := p.spool.append(kindWriter, rest, true); err != nil {
			p.dropped.Add(n)
			p.log.Error("telemetry: request log records dropped: spool failed", "records", n, "err", err)
		} else {
			p.spooled.Add(n)
		}
	}
	p.export(valid[:res.stored+res.unstored])
	clear(batch)
	return batch[:0]
}

// reject moves the records whose ID the store cannot hold to the end of
// batch, counts and logs them (without contents), and returns the rest.
// One such record would fail every insert of its batch, so it must never
// reach the store or the spool.
func (p *Pipeline) reject(batch []store.Record) []store.Record {
	i := 0
	for i < len(batch) && validRecordID(batch[i].ID) {
		i++
	}
	if i == len(batch) {
		return batch // the usual case: nothing to move
	}
	valid := batch[:0]
	var bad []store.Record
	for i := range batch {
		if validRecordID(batch[i].ID) {
			valid = append(valid, batch[i])
		} else {
			bad = append(bad, batch[i])
		}
	}
	if len(bad) > 0 {
		copy(batch[len(valid):], bad)
		p.rejected.Add(int64(len(bad)))
		p.log.Error("telemetry: request log records rejected: invalid id (empty, over 1024 bytes, NUL or invalid UTF-8)", "records", len(bad))
	}
	return valid
}

// validRecordID is the store's rule for Record.ID: non-empty, at most
// 1,024 bytes, valid UTF-8 without NUL.
func validRecordID(id string) bool {
	return id != "" && len(id) <= 1024 && utf8.ValidString(id) && strings.IndexByte(id, 0) < 0
}

// export offers a copy of recs to every exporter. Exporters share the
// copy read-only.
func (p *Pipeline) export(recs []store.Record) {
	if len(p.exporters) == 0 || len(recs) == 0 {
		return
	}
	cp := make([]store.Record, len(recs))
	copy(cp, recs)
	for _, r := range p.exporters {
		r.offer(cp)
	}
}
