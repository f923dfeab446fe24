package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// Exporter sends request-log records somewhere besides the store. The
// pipeline calls Export from one goroutine per exporter, never
// concurrently for the same exporter, with batches in the order the
// records were stored or spooled. Export must not modify recs or keep
// them after it returns (other exporters share them). A returned error
// counts the batch as failed; the pipeline does not retry it.
type Exporter interface {
	Name() string
	Export(ctx context.Context, recs []store.Record) error
}

// ExportBatcher is implemented by exporters that want batches of their
// own size: the pipeline then gathers records until it has size of them
// or wait has passed since the first, and calls Export with at most size
// records. Exporters without it get each pipeline batch as it comes.
type ExportBatcher interface {
	ExportBatching() (size int, wait time.Duration)
}

// ExporterStats are one exporter's counters.
type ExporterStats struct {
	Name     string
	Exported int64 // records in batches Export accepted
	Failed   int64 // records in batches Export failed
	// QueueFull counts records skipped for this exporter because its
	// queue was full (it was slower than the request rate).
	QueueFull int64
}

// exportRunner feeds one exporter from its own bounded queue, so a slow
// exporter only ever costs its own records.
type exportRunner struct {
	exp  Exporter
	size int           // 0: pass batches through
	wait time.Duration // with size > 0: longest wait for a full batch
	log  *slog.Logger

	mu     sync.RWMutex // orders offer against close of queue
	closed bool
	queue  chan []store.Record

	exported, failed, queueFull atomic.Int64
	reported                    int64 // queueFull at the last log line; run's own
}

func newExportRunner(e Exporter, queue int, log *slog.Logger) *exportRunner {
	r := &exportRunner{exp: e, log: log, queue: make(chan []store.Record, queue)}
	if b, ok := e.(ExportBatcher); ok {
		r.size, r.wait = b.ExportBatching()
	}
	return r
}

// offer queues recs without blocking; a full queue or a closed runner
// skips them.
func (r *exportRunner) offer(recs []store.Record) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if !r.closed {
		select {
		case r.queue <- recs:
			return
		default:
		}
	}
	r.queueFull.Add(int64(len(recs)))
}

// close ends the queue; run exports what is left and returns.
func (r *exportRunner) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		close(r.queue)
	}
}

func (r *exportRunner) stats() ExporterStats {
	return ExporterStats{
		Name:      r.exp.Name(),
		Exported:  r.exported.Load(),
		Failed:    r.failed.Load(),
		QueueFull: r.queueFull.Load(),
	}
}

// run exports until the queue is closed and empty.
func (r *exportRunner) run(ctx context.Context) {
	var pending []store.Record
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		recs, ok := <-r.queue
		if !ok {
			return
		}
		if r.size <= 0 {
			r.send(ctx, recs)
			continue
		}
		pending = append(pending[:0], recs...)
		open := true
		if r.wait > 0 {
			timer.Reset(r.wait)
		}
	gather:
		for open && len(pending) < r.size {
			var more []store.Record
			if r.wait > 0 {
				select {
				case more, open = <-r.queue:
				case <-timer.C:
					break gather
				}
			} else {
				select {
				case more, open = <-r.queue:
				default:
					break gather
				}
			}
			pending = append(pending, more...)
		}
		timer.Stop()
		for i := 0; i < len(pending); i += r.size {
			r.send(ctx, pending[i:min(i+r.size, len(pending))])
		}
		clear(pending) // keep nothing alive; Export kept no reference
		if !open {
			return
		}
	}
}

// send exports one batch and counts the outcome.
func (r *exportRunner) send(ctx context.Context, recs []store.Record) {
	n := int64(len(recs))
	if err := r.exp.Export(ctx, recs); err != nil {
		r.failed.Add(n)
		r.log.Warn("telemetry: export failed", "exporter", r.exp.Name(), "records", n, "err", err)
	} else {
		r.exported.Add(n)
	}
	if q := r.queueFull.Load(); q != r.reported {
		r.log.Warn("telemetry: export queue full; records skipped", "exporter", r.exp.Name(), "records", q-r.reported)
		r.reported = q
	}
}
