package telemetry

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/store"
)

// sinkLogs accepts every insert and keeps nothing. BenchmarkEnqueue uses it
// so that the writer keeps up with the producers and the benchmark
// measures Enqueue's hand-off, not a database (BenchmarkPipelineSQLite
// measures that).
type sinkLogs struct {
	store.Logs // nil: only InsertLogs is called
	n          atomic.Int64
}

func (s *sinkLogs) InsertLogs(_ context.Context, recs []store.Record) error {
	s.n.Add(int64(len(recs)))
	return nil
}

func newBenchPipeline(b *testing.B, logs store.Logs, cfg PipelineConfig) *Pipeline {
	b.Helper()
	cfg.SpoolDir = filepath.Join(b.TempDir(), "spool")
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.RetryInterval = time.Hour
	p, err := NewPipeline(logs, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// reportEnqueue closes p and reports how many records did not take the
// fast path (a non-zero overflow means the writer fell behind).
func reportEnqueue(b *testing.B, p *Pipeline) {
	b.StopTimer()
	if err := p.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	st := p.Stats()
	if st.Dropped != 0 {
		b.Fatalf("dropped %d records", st.Dropped)
	}
	b.ReportMetric(float64(st.Overflow), "overflowed")
}

// BenchmarkEnqueue measures the hand-off on the request path: a copy into
// the queue while the writer drains it. Every 10,000 records the timer
// stops until the writer has caught up, so the figure is Enqueue's own
// cost, not the writer's (overflowed should be 0).
func BenchmarkEnqueue(b *testing.B) {
	p := newBenchPipeline(b, &sinkLogs{}, PipelineConfig{QueueSize: 20_000})
	r := testRecord("bench", 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%10_000 == 0 && i > 0 {
			b.StopTimer()
			for len(p.queue) > 0 {
				runtime.Gosched()
			}
			b.StartTimer()
		}
		p.Enqueue(&r)
	}
	reportEnqueue(b, p)
}

// BenchmarkEnqueueParallel enqueues from GOMAXPROCS goroutines at once.
// Producers yield while the queue is over half full, as a real request
// rate far below the writer's would never fill it; the figure includes
// that yielding, so it is bounded below by the writer's per-record cost.
func BenchmarkEnqueueParallel(b *testing.B) {
	const queue = 20_000
	p := newBenchPipeline(b, &sinkLogs{}, PipelineConfig{QueueSize: queue})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := testRecord("bench", 1)
		for pb.Next() {
			for len(p.queue) > queue/2 {
				runtime.Gosched()
			}
			p.Enqueue(&r)
		}
	})
	reportEnqueue(b, p)
}

// BenchmarkPipelineSQLite measures end-to-end throughput into a real
// SQLite store: b.N distinct records enqueued (the producer yields while
// the queue is more than half full, so nothing overflows) and flushed by
// Close.
func BenchmarkPipelineSQLite(b *testing.B) {
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(b.TempDir(), "bench.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const queue = 10_000
	p := newBenchPipeline(b, db, PipelineConfig{QueueSize: queue, BatchSize: 500})
	base := testRecord("bench", 0)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		for len(p.queue) > queue/2 {
			time.Sleep(100 * time.Microsecond)
		}
		r := base
		r.ID = "bench-" + strconv.Itoa(i)
		p.Enqueue(&r)
	}
	if err := p.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	st := p.Stats()
	if st.Written != int64(b.N) {
		b.Fatalf("written %d of %d (stats %+v)", st.Written, b.N, st)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
}
