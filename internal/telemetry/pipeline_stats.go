package telemetry

// PipelineStats are counters since NewPipeline. Every record passed to
// Enqueue is, once Close has returned, counted in exactly one of Written,
// Spooled, Rejected or Dropped; Replayed counts spooled records that later
// reached the store (from files replayed to the end), and a spooled record
// the store refuses at replay is counted in Rejected as well.
type PipelineStats struct {
	Enqueued int64 // records passed to Enqueue
	Written  int64 // records the writer stored directly
	Spooled  int64 // records appended to the spool instead
	// Overflow counts the spooled records that bypassed the writer: the
	// queue was full or the pipeline closed.
	Overflow int64
	Replayed int64 // spooled records replayed into the store
	Dropped  int64 // records neither stored nor spooled: lost
	// Rejected counts records the store cannot hold: an ID that is empty,
	// over 1,024 bytes, NUL or invalid UTF-8, or data the store refuses
	// (store.ErrBadRecord when the record is written alone). They would
	// fail every insert of their batch, so they are logged (by ID at most,
	// never their contents) and discarded; the rest of their batch is
	// stored. Records rejected when spool files are replayed (also files
	// an earlier process left) are counted here too.
	Rejected int64
	// SpoolCorrupt counts spool lines skipped at replay because they did
	// not decode (a torn write after a crash).
	SpoolCorrupt int64
	QueueDepth   int // records waiting for the writer now
	Exporters    []ExporterStats
}

// Stats returns the counters now. Each counter is read atomically, but
// not all at one instant.
func (p *Pipeline) Stats() PipelineStats {
	s := PipelineStats{
		Enqueued:     p.enqueued.Load(),
		Written:      p.written.Load(),
		Spooled:      p.spooled.Load(),
		Overflow:     p.overflow.Load(),
		Replayed:     p.replayed.Load(),
		Dropped:      p.dropped.Load(),
		Rejected:     p.rejected.Load(),
		SpoolCorrupt: p.corrupt.Load(),
		QueueDepth:   len(p.queue),
	}
	for _, r := range p.exporters {
		s.Exporters = append(s.Exporters, r.stats())
	}
	return s
}

// StoreDown reports whether the last store write failed, so records go
// to the spool until a replay pass reaches the store again. False for a
// nil pipeline.
func (p *Pipeline) StoreDown() bool {
	return p != nil && p.storeDown.Load()
}
