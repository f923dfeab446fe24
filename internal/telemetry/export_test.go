package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// collectExporter keeps copies of what it is given. With gate set, each
// Export first waits for gate to close; with size set, it asks for
// batches of that size.
type collectExporter struct {
	name string
	size int
	wait time.Duration
	gate chan struct{}

	mu      sync.Mutex
	batches [][]store.Record
}

func (c *collectExporter) Name() string { return c.name }

func (c *collectExporter) Export(ctx context.Context, recs []store.Record) error {
	if c.gate != nil {
		<-c.gate
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, slices.Clone(recs))
	return nil
}

func (c *collectExporter) sizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for _, b := range c.batches {
		out = append(out, len(b))
	}
	return out
}

func (c *collectExporter) records() []store.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []store.Record
	for _, b := range c.batches {
		out = append(out, b...)
	}
	return out
}

// batchingExporter is a collectExporter that implements ExportBatcher.
type batchingExporter struct{ *collectExporter }

func (b batchingExporter) ExportBatching() (int, time.Duration) { return b.size, b.wait }

func TestExportRunnerGathersBatches(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		offers []int
		want   []int
	}{
		{"pass through", 0, []int{2, 5, 1}, []int{2, 5, 1}},
		{"gather to size", 3, []int{2, 2, 2}, []int{3, 1, 2}},
		{"split large", 2, []int{5}, []int{2, 2, 1}},
		{"exact", 4, []int{4, 4}, []int{4, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &collectExporter{name: "c", size: tc.size, wait: time.Hour}
			var exp Exporter = c
			if tc.size > 0 {
				exp = batchingExporter{c}
			}
			r := newExportRunner(exp, 16, slog.New(slog.DiscardHandler))
			var want []store.Record
			for i, n := range tc.offers {
				b := testRecords("g"+string(rune('a'+i)), n)
				want = append(want, b...)
				r.offer(b)
			}
			r.close()
			r.run(context.Background()) // the queue is closed: run drains it and returns
			if diff := cmp.Diff(c.sizes(), tc.want); diff != "" {
				t.Errorf("Export sizes (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(c.records(), want); diff != "" {
				t.Errorf("records (-got +want):\n%s", diff)
			}
			if st := r.stats(); st.Exported != int64(len(want)) || st.Failed != 0 || st.QueueFull != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestExportRunnerFlushesPartialBatchAfterWait(t *testing.T) {
	c := &collectExporter{name: "c", size: 100, wait: time.Millisecond}
	r := newExportRunner(batchingExporter{c}, 4, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() { r.run(context.Background()); close(done) }()
	r.offer(testRecords("w", 3))
	waitFor(t, "the partial batch", func() bool { return len(c.records()) == 3 })
	r.close()
	<-done
	r.offer(testRecords("late", 1)) // after close: skipped, no panic
	if st := r.stats(); st.Exported != 3 || st.QueueFull != 1 {
		t.Errorf("stats = %+v, want 3 exported and 1 skipped", st)
	}
}

func TestPipelineExportsStoredAndSpooledRecords(t *testing.T) {
	flaky := &flakyLogs{Logs: openSQLite(t)}
	tenant := uniqueTenant(t)
	want := testRecords(tenant, 90)
	path := filepath.Join(t.TempDir(), "export.jsonl")
	fe, err := NewFileExporter(path)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := newTestPipeline(t, flaky, PipelineConfig{BatchSize: 10, Exporters: []Exporter{fe}})
	enqueueConcurrently(p, want[:30], 3)
	waitFor(t, "stored", func() bool { return p.Stats().Written == 30 })
	flaky.down.Store(true) // the rest is spooled, and still exported
	enqueueConcurrently(p, want[30:], 3)
	waitFor(t, "spooled", func() bool { return p.Stats().Spooled == 60 })
	closePipeline(t, p) // closes fe

	if diff := cmp.Diff(viewsByID(readJSONLines(t, path)), recordViews(t, want)); diff != "" {
		t.Errorf("exported lines (-got +want):\n%s", diff)
	}
	st := p.Stats()
	if diff := cmp.Diff(st.Exporters, []ExporterStats{{Name: fe.Name(), Exported: 90}}); diff != "" {
		t.Errorf("exporter stats (-got +want):\n%s", diff)
	}
}

func TestPipelineExportsOverflowWhenReplayed(t *testing.T) {
	db := openSQLite(t)
	flaky := &flakyLogs{Logs: db}
	release := flaky.block()
	tenant := uniqueTenant(t)
	want := testRecords(tenant, 40)
	c := &collectExporter{name: "c"}
	p, _ := newTestPipeline(t, flaky, PipelineConfig{QueueSize: 2, BatchSize: 2, Exporters: []Exporter{c}})
	for i := range want {
		p.Enqueue(&want[i])
	}
	if p.Stats().Overflow == 0 {
		t.Fatal("nothing overflowed")
	}
	release()
	waitFor(t, "the overflow replayed", func() bool { return len(spoolFiles(t, p.cfg.SpoolDir)) == 0 })
	closePipeline(t, p)
	// Each record is exported exactly once: the writer's batches when
	// stored, the overflow when replayed.
	if diff := cmp.Diff(sortByID(c.records()), want); diff != "" {
		t.Errorf("exported (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(sortByID(storedRecords(t, db, tenant)), want); diff != "" {
		t.Errorf("stored (-got +want):\n%s", diff)
	}
}

func TestSlowExporterDoesNotStallTheWriter(t *testing.T) {
	db := openSQLite(t)
	tenant := uniqueTenant(t)
	want := testRecords(tenant, 50)
	slow := &collectExporter{name: "slow", gate: make(chan struct{})}
	p, _ := newTestPipeline(t, db, PipelineConfig{BatchSize: 5, ExportQueue: 1, Exporters: []Exporter{slow}})
	for i := range want {
		p.Enqueue(&want[i])
	}
	// The exporter is stuck in its first Export, yet everything is stored.
	waitFor(t, "every record stored", func() bool { return p.Stats().Written == int64(len(want)) })
	close(slow.gate)
	closePipeline(t, p)
	st := p.Stats().Exporters[0]
	if st.QueueFull == 0 || st.Exported+st.QueueFull != int64(len(want)) || st.Failed != 0 {
		t.Errorf("exporter stats = %+v, want some skipped and the rest exported", st)
	}
	if got := len(storedRecords(t, db, tenant)); got != len(want) {
		t.Errorf("%d records stored, want %d", got, len(want))
	}
}

func TestPipelineWithWebhook(t *testing.T) {
	hook := newHookServer(t, statuses("", http.StatusServiceUnavailable))
	wh, err := NewWebhookExporter(WebhookConfig{
		URL: hook.URL, Headers: map[string]string{"Authorization": "Bearer hdrsecret"},
		BatchSize: 7, FlushInterval: time.Millisecond, MaxRetries: 2, Backoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t)
	tenant := uniqueTenant(t)
	want := testRecords(tenant, 60)
	p, logs := newTestPipeline(t, db, PipelineConfig{BatchSize: 16, Exporters: []Exporter{wh}})
	enqueueConcurrently(p, slices.Clone(want), 4)
	closePipeline(t, p)
	for _, r := range hook.requests() {
		if len(r.IDs) > 7 || r.Auth != "Bearer hdrsecret" {
			t.Errorf("request with %d records, auth %q; want at most 7 and the header", len(r.IDs), r.Auth)
		}
	}
	// The first POST got a 503 and was retried, so its records arrived
	// twice; every record arrived.
	got := map[string]bool{}
	for _, r := range hook.records() {
		got[r["id"].(string)] = true
	}
	for _, r := range want {
		if !got[r.ID] {
			t.Errorf("record %s never reached the webhook", r.ID)
		}
	}
	if st := p.Stats().Exporters[0]; st.Exported != int64(len(want)) || st.Failed != 0 {
		t.Errorf("exporter stats = %+v", st)
	}
	if l := logs.String(); strings.Contains(l, "hdrsecret") || strings.Contains(l, tenant) {
		t.Errorf("log leaks a header or record contents:\n%s", l)
	}
}
