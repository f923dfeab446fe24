package telemetry

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// sortByID orders records by ID, for comparing sets.
func sortByID(recs []store.Record) []store.Record {
	slices.SortFunc(recs, func(a, b store.Record) int { return strings.Compare(a.ID, b.ID) })
	return recs
}

// enqueueConcurrently enqueues recs from workers goroutines.
func enqueueConcurrently(p *Pipeline, recs []store.Record, workers int) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(recs); i += workers {
				p.Enqueue(&recs[i])
			}
		})
	}
	wg.Wait()
}

func TestPipelineStoresEveryRecordIntact(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *store.DB) {
		const n = 1200
		tenant := uniqueTenant(t)
		want := testRecords(tenant, n)
		p, _ := newTestPipeline(t, db, PipelineConfig{BatchSize: 200, QueueSize: n})
		enqueueConcurrently(p, slices.Clone(want), 8)
		closePipeline(t, p)

		got := sortByID(storedRecords(t, db, tenant))
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("stored records (-got +want):\n%s", diff)
		}
		st := p.Stats()
		if st.Enqueued != n || st.Written != n || st.Spooled != 0 || st.Dropped != 0 || st.QueueDepth != 0 {
			t.Errorf("stats = %+v, want %d enqueued and written, nothing spooled or dropped", st, n)
		}
	})
}

func TestPipelineCloseFlushesPartialBatch(t *testing.T) {
	db := openSQLite(t)
	tenant := uniqueTenant(t)
	want := testRecords(tenant, 10)
	// Neither the batch size nor the flush interval is reached: only
	// Close can write these records.
	p, _ := newTestPipeline(t, db, PipelineConfig{BatchSize: 1000, FlushInterval: time.Hour})
	for i := range want {
		p.Enqueue(&want[i])
	}
	if st := p.Stats(); st.Written != 0 {
		t.Fatalf("written before Close = %d, want 0", st.Written)
	}
	closePipeline(t, p)
	if diff := cmp.Diff(sortByID(storedRecords(t, db, tenant)), want); diff != "" {
		t.Errorf("stored records (-got +want):\n%s", diff)
	}
}

func TestPipelineStoreDownSpoolsThenReplays(t *testing.T) {
	flaky := &flakyLogs{Logs: openSQLite(t)}
	flaky.down.Store(true)
	tenant := uniqueTenant(t)
	want := testRecords(tenant, 300)
	p, _ := newTestPipeline(t, flaky, PipelineConfig{BatchSize: 50, RetryInterval: time.Hour})
	enqueueConcurrently(p, slices.Clone(want), 4)
	waitFor(t, "every record spooled", func() bool { return p.Stats().Spooled == int64(len(want)) })
	if err := p.replay(context.Background()); err == nil {
		t.Fatal("replay while the store is down succeeded")
	}
	if got := storedRecords(t, flaky, tenant); len(got) != 0 {
		t.Fatalf("%d records stored while the store was down", len(got))
	}

	flaky.down.Store(false)
	if err := p.replay(context.Background()); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if diff := cmp.Diff(sortByID(storedRecords(t, flaky, tenant)), want); diff != "" {
		t.Errorf("stored records (-got +want):\n%s", diff)
	}
	if files := spoolFiles(t, p.cfg.SpoolDir); len(files) != 0 {
		t.Errorf("spool files left after replay: %v", files)
	}
	// The replay cleared the outage: new records go straight to the store.
	more := testRecord(tenant, len(want))
	p.Enqueue(&more)
	closePipeline(t, p)
	st := p.Stats()
	wantStats := PipelineStats{Enqueued: 301, Written: 1, Spooled: 300, Replayed: 300}
	if diff := cmp.Diff(st, wantStats); diff != "" {
		t.Errorf("stats (-got +want):\n%s", diff)
	}
}

func TestPipelineReplayLoopRecovers(t *testing.T) {
	flaky := &flakyLogs{Logs: openSQLite(t)}
	flaky.down.Store(true)
	tenant := uniqueTenant(t)
	want := testRecords(tenant, 120)
	p, _ := newTestPipeline(t, flaky, PipelineConfig{BatchSize: 25})
	enqueueConcurrently(p, slices.Clone(want), 3)
	waitFor(t, "every record spooled", func() bool { return p.Stats().Spooled == int64(len(want)) })
	flaky.down.Store(false)
	waitFor(t, "the replay loop", func() bool { return p.Stats().Replayed == int64(len(want)) })
	closePipeline(t, p)
	if diff := cmp.Diff(sortByID(storedRecords(t, flaky, tenant)), want); diff != "" {
		t.Errorf("stored records (-got +want):\n%s", diff)
	}
}

func TestPipelineQueueFullSpoolsAndLateRecordsLand(t *testing.T) {
	db := openSQLite(t)
	flaky := &flakyLogs{Logs: db}
	release := flaky.block()
	tenant := uniqueTenant(t)
	want := testRecords(tenant, 60)
	spoolDir := t.TempDir()
	p, _ := newTestPipeline(t, flaky, PipelineConfig{
		SpoolDir: spoolDir, QueueSize: 4, BatchSize: 2, RetryInterval: time.Hour,
	})
	// The writer is stuck in its first insert, so the queue fills and
	// the rest overflow to the spool.
	for i := range want[:50] {
		p.Enqueue(&want[i])
	}
	if st := p.Stats(); st.Overflow == 0 || st.Spooled != st.Overflow {
		t.Fatalf("stats with the writer stuck = %+v, want overflow spooled", st)
	}
	release()
	closePipeline(t, p)
	for i := range want[50:] { // after Close: spooled directly
		p.Enqueue(&want[50+i])
	}
	st := p.Stats()
	if st.Dropped != 0 || st.Written+st.Spooled != int64(len(want)) || st.Enqueued != int64(len(want)) {
		t.Fatalf("stats = %+v, want every one of %d records written or spooled", st, len(want))
	}

	// A new pipeline on the same spool directory replays at start-up.
	// (The first pipeline's own replay may have taken some of them.)
	p2, _ := newTestPipeline(t, db, PipelineConfig{SpoolDir: spoolDir})
	waitFor(t, "start-up replay", func() bool { return len(spoolFiles(t, spoolDir)) == 0 })
	closePipeline(t, p2)
	if diff := cmp.Diff(sortByID(storedRecords(t, db, tenant)), want); diff != "" {
		t.Errorf("stored records (-got +want):\n%s", diff)
	}
	if st := p2.Stats(); st.Replayed == 0 || st.Dropped != 0 || st.SpoolCorrupt != 0 {
		t.Errorf("second pipeline stats = %+v, want records replayed", st)
	}
}

func TestPipelineCloseCutShortSpoolsTheRest(t *testing.T) {
	db := openSQLite(t)
	flaky := &flakyLogs{Logs: db}
	release := flaky.block() // the store never answers
	defer release()
	tenant := uniqueTenant(t)
	want := testRecords(tenant, 40)
	spoolDir := t.TempDir()
	p, _ := newTestPipeline(t, flaky, PipelineConfig{SpoolDir: spoolDir, BatchSize: 10, WriteTimeout: time.Hour})
	for i := range want {
		p.Enqueue(&want[i])
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close with a cancelled context = %v, want context.Canceled", err)
	}
	if st := p.Stats(); st.Spooled != int64(len(want)) || st.Dropped != 0 || st.Written != 0 {
		t.Fatalf("stats = %+v, want all %d spooled", st, len(want))
	}
	p2, _ := newTestPipeline(t, db, PipelineConfig{SpoolDir: spoolDir})
	waitFor(t, "start-up replay", func() bool { return len(spoolFiles(t, spoolDir)) == 0 })
	closePipeline(t, p2)
	if diff := cmp.Diff(sortByID(storedRecords(t, db, tenant)), want); diff != "" {
		t.Errorf("stored records (-got +want):\n%s", diff)
	}
}

func TestPipelineRejectsUnstorableIDs(t *testing.T) {
	db := openSQLite(t)
	tenant := uniqueTenant(t)
	good := testRecords(tenant, 3)
	bad := []store.Record{testRecord(tenant, 10), testRecord(tenant, 11), testRecord(tenant, 12)}
	bad[0].ID = ""
	bad[1].ID = "with\x00nul"
	bad[2].ID = strings.Repeat("x", 1025)
	p, _ := newTestPipeline(t, db, PipelineConfig{})
	for _, r := range []store.Record{good[0], bad[0], good[1], bad[1], bad[2], good[2]} {
		p.Enqueue(&r)
	}
	closePipeline(t, p)
	if diff := cmp.Diff(sortByID(storedRecords(t, db, tenant)), good); diff != "" {
		t.Errorf("stored records (-got +want):\n%s", diff)
	}
	if st := p.Stats(); st.Rejected != 3 || st.Written != 3 || st.Dropped != 0 || st.Spooled != 0 {
		t.Errorf("stats = %+v, want 3 written and 3 rejected", st)
	}
}

func TestPipelineEnqueueNilIsIgnored(t *testing.T) {
	p, _ := newTestPipeline(t, openSQLite(t), PipelineConfig{})
	p.Enqueue(nil)
	closePipeline(t, p)
	if st := p.Stats(); st.Enqueued != 0 {
		t.Errorf("Enqueued = %d, want 0", st.Enqueued)
	}
}

func TestNewPipelineRejectsBadConfig(t *testing.T) {
	db := openSQLite(t)
	fe := func(name string) Exporter { return namedExporter(name) }
	tests := []struct {
		name string
		logs store.Logs
		cfg  PipelineConfig
		want []string
	}{
		{"nil store", nil, PipelineConfig{SpoolDir: t.TempDir()}, []string{"nil store"}},
		{"no spool dir", db, PipelineConfig{}, []string{"spool_dir: required"}},
		{"negatives", db, PipelineConfig{SpoolDir: t.TempDir(), QueueSize: -1, FlushInterval: -1, Retention: Retention{MaxAge: -1}},
			[]string{"queue_size: must not be negative", "flush_interval: must not be negative", "retention.max_age: must not be negative"}},
		{"exporters", db, PipelineConfig{SpoolDir: t.TempDir(), Exporters: []Exporter{nil, fe(""), fe("a"), fe("a")}},
			[]string{"exporters[0]: nil", "exporters[1]: empty name", `exporters[3]: duplicate name "a"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPipeline(tc.logs, tc.cfg)
			if err == nil {
				p.Close(context.Background())
				t.Fatal("NewPipeline succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// namedExporter is an exporter that accepts everything; only its name
// matters to config validation.
type namedExporter string

func (n namedExporter) Name() string                                 { return string(n) }
func (n namedExporter) Export(context.Context, []store.Record) error { return nil }
