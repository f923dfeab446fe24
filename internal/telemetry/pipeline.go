package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// PipelineConfig configures a Pipeline. Zero fields take the defaults
// named; negative durations and sizes are errors.
type PipelineConfig struct {
	// QueueSize is how many records wait in memory for the writer
	// (default 10000). A record that finds the queue full is spooled.
	QueueSize int
	// BatchSize is the most records one store write carries (default 500).
	BatchSize int
	// FlushInterval is the longest a queued record waits before the writer
	// writes a partial batch (default 1s).
	FlushInterval time.Duration
	// WriteTimeout bounds one store write; a slower write counts as failed
	// and its batch is spooled (default 5s).
	WriteTimeout time.Duration
	// SpoolDir is the directory for records the store cannot take.
	// Required; created with mode 0700 if missing. It belongs to this
	// pipeline alone: two live pipelines must not share it.
	SpoolDir string
	// RetryInterval is how often spooled records are replayed into the
	// store (default 5s). The first replay runs at start-up.
	RetryInterval time.Duration
	// Retention prunes old records; the zero value keeps everything.
	Retention Retention
	// Exporters receive every record once it is stored or spooled. Once
	// NewPipeline succeeds the pipeline owns them and closes those that
	// are io.Closers in Close. Names must be unique.
	Exporters []Exporter
	// ExportQueue is how many batches wait for each exporter before new
	// ones are skipped for it (default 64), so an exporter holds at most
	// ExportQueue × BatchSize records.
	ExportQueue int
	// Logger receives problems (never record contents); nil means
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock for retention cutoffs; nil means time.Now.
	Now func() time.Time
}

// Pipeline is the durable request-log path: Enqueue hands a record to a
// bounded queue, a writer stores batches, a spool keeps what the store
// cannot take and a replay loop brings it back, a retention loop prunes
// and exporters get copies. All methods are safe for concurrent use.
type Pipeline struct {
	logs      store.Logs
	cfg       PipelineConfig // defaults applied
	log       *slog.Logger
	now       func() time.Time
	spool     *spool
	exporters []*exportRunner

	// mu orders Enqueue's sends against Close: Enqueue sends under the
	// read lock only while closed is false, so once Close has set it no
	// send can follow the writer's final drain.
	mu     sync.RWMutex
	closed bool
	queue  chan store.Record

	// storeDown is set when a store write fails; the writer then spools
	// without trying the store until a replay pass succeeds.
	storeDown atomic.Bool

	enqueued, written, spooled, overflow, replayed, dropped, rejected, corrupt atomic.Int64

	baseCtx     context.Context // store writes and exports; cancelled when Close's ctx ends
	cancelBase  context.CancelFunc
	loopCtx     context.Context // replay and retention loops; cancelled by Close
	cancelLoops context.CancelFunc
	stopWriter  chan struct{}
	writerDone  chan struct{}
	loops       sync.WaitGroup
	exportWG    sync.WaitGroup
	replayMu    sync.Mutex // one replay pass at a time
	lastOver    int64      // overflow count at the last report; under replayMu

	closeOnce sync.Once
	closeErr  error
}

// NewPipeline validates cfg, creates the spool directory and starts the
// writer, the replay loop (which first replays files an earlier process
// left) and, if configured, the retention loop. logs must stay usable
// until Close returns.
func NewPipeline(logs store.Logs, cfg PipelineConfig) (*Pipeline, error) {
	if logs == nil {
		return nil, errors.New("telemetry: pipeline: nil store")
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	sp, err := newSpool(cfg.SpoolDir)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{
		logs:       logs,
		cfg:        cfg,
		log:        cfg.Logger,
		now:        cfg.Now,
		spool:      sp,
		queue:      make(chan store.Record, cfg.QueueSize),
		stopWriter: make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	p.baseCtx, p.cancelBase = context.WithCancel(context.Background())
	p.loopCtx, p.cancelLoops = context.WithCancel(p.baseCtx)
	for _, e := range cfg.Exporters {
		r := newExportRunner(e, cfg.ExportQueue, p.log)
		p.exporters = append(p.exporters, r)
		p.exportWG.Go(func() { r.run(p.baseCtx) })
	}
	go p.runWriter()
	p.loops.Go(p.runReplay)
	if cfg.Retention.enabled() {
		p.loops.Go(p.runRetention)
	}
	return p, nil
}

func (c *PipelineConfig) defaults() error {
	var errs []error
	positive := func(name string, v, def int64) int64 {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative", name))
		}
		if v <= 0 {
			return def
		}
		return v
	}
	c.QueueSize = int(positive("queue_size", int64(c.QueueSize), 10000))
	c.BatchSize = int(positive("batch_size", int64(c.BatchSize), 500))
	c.ExportQueue = int(positive("export_queue", int64(c.ExportQueue), 64))
	c.FlushInterval = time.Duration(positive("flush_interval", int64(c.FlushInterval), int64(time.Second)))
	c.WriteTimeout = time.Duration(positive("write_timeout", int64(c.WriteTimeout), int64(5*time.Second)))
	c.RetryInterval = time.Duration(positive("retry_interval", int64(c.RetryInterval), int64(5*time.Second)))
	if err := c.Retention.defaults(); err != nil {
		errs = append(errs, err)
	}
	if c.SpoolDir == "" {
		errs = append(errs, errors.New("spool_dir: required"))
	}
	names := map[string]bool{}
	for i, e := range c.Exporters {
		switch {
		case e == nil:
			errs = append(errs, fmt.Errorf("exporters[%d]: nil", i))
		case e.Name() == "":
			errs = append(errs, fmt.Errorf("exporters[%d]: empty name", i))
		case names[e.Name()]:
			errs = append(errs, fmt.Errorf("exporters[%d]: duplicate name %q", i, e.Name()))
		default:
			names[e.Name()] = true
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("telemetry: pipeline config: %w", err)
	}
	return nil
}

// Enqueue hands a copy of *r to the writer without waiting on storage.
// The copy is shallow: Guardrails, Metadata and the bodies pass to the
// pipeline, and the caller must not change them afterwards. If the queue
// is full, or Close has begun, the record is appended to the spool at
// once (a write without fsync, under a lock shared only with other
// overflowing callers) and counted in Spooled and Overflow; only if that
// fails is it dropped. A nil r is ignored.
func (p *Pipeline) Enqueue(r *store.Record) {
	if r == nil {
		return
	}
	p.enqueued.Add(1)
	p.mu.RLock()
	if !p.closed {
		select {
		case p.queue <- *r:
			p.mu.RUnlock()
			return
		default:
		}
	}
	p.mu.RUnlock()
	p.spoolOverflow(r)
}

// spoolOverflow appends one record that could not be queued.
func (p *Pipeline) spoolOverflow(r *store.Record) {
	if !validRecordID(r.ID) {
		p.rejected.Add(1)
		p.log.Error("telemetry: request log record rejected: invalid id (empty, over 1024 bytes, NUL or invalid UTF-8)")
		return
	}
	if err := p.spool.append(kindOverflow, []store.Record{*r}, false); err != nil {
		p.dropped.Add(1)
		p.log.Error("telemetry: request log record dropped: spool failed", "err", err)
		return
	}
	p.spooled.Add(1)
	p.overflow.Add(1)
}

// Close stops accepting records into the queue, writes every queued
// record to the store (or, if the store fails or ctx ends first, to the
// spool), stops the replay and retention loops, lets each exporter finish
// its queue, and closes exporters that are io.Closers. When ctx ends,
// store writes and exports in flight are cancelled, so the remaining
// records go to the spool (never lost) and pending exports fail; Close
// still returns only once every queued record is stored or spooled, and
// then reports ctx's error. Without a deadline, Close also waits out an
// exporter's retries. Records enqueued after Close are spooled and reach
// the store (and the exporters) when a later pipeline on the same
// SpoolDir replays them. Close is idempotent; later calls return the
// first call's result.
func (p *Pipeline) Close(ctx context.Context) error {
	p.closeOnce.Do(func() { p.closeErr = p.close(ctx) })
	return p.closeErr
}

func (p *Pipeline) close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	stop := context.AfterFunc(ctx, p.cancelBase)
	defer stop()

	close(p.stopWriter)
	<-p.writerDone
	p.cancelLoops()
	p.loops.Wait()
	for _, r := range p.exporters {
		r.close()
	}
	p.exportWG.Wait()
	p.spool.close()
	p.cancelBase()

	var errs []error
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("telemetry: close cut short, unwritten records spooled: %w", err))
	}
	for _, r := range p.exporters {
		if c, ok := r.exp.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("telemetry: close exporter %s: %w", r.exp.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}
