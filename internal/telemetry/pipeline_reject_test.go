package telemetry

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// refusedModel is the model_requested the databases of rejectingStores
// refuse.
const refusedModel = "refuse-me"

// rejectingStores runs fn against a fresh SQLite store and, when
// SLUICE_TEST_POSTGRES is set, a fresh PostgreSQL schema, each with a rule
// that makes the database itself refuse (as a constraint violation) every
// record whose model_requested is refusedModel: a trigger raising ABORT on
// SQLite, a CHECK constraint on PostgreSQL. Once the store cuts long text,
// no record makes either database refuse it, so the rule stands in for
// the next unforeseen one; the refusal, its error and the rolled-back
// transaction are the databases' own.
func rejectingStores(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "sluice.db")
		db := openStore(t, store.Config{Driver: store.DriverSQLite, DSN: path})
		addRejectRule(t, "sqlite", "file:"+path+"?_pragma=busy_timeout(5000)",
			"CREATE TRIGGER test_reject BEFORE INSERT ON request_logs WHEN NEW.model_requested = '"+refusedModel+
				"' BEGIN SELECT RAISE(ABORT, 'test: SECRET-DB-MESSAGE'); END")
		fn(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := postgresDSN(t)
		db := openStore(t, store.Config{Driver: store.DriverPostgres, DSN: dsn})
		addRejectRule(t, "pgx", dsn,
			"ALTER TABLE request_logs ADD CONSTRAINT test_reject CHECK (model_requested <> '"+refusedModel+"')")
		fn(t, db)
	})
}

// addRejectRule runs ddl on its own connection to the database.
func addRejectRule(t *testing.T, driver, dsn, ddl string) {
	t.Helper()
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(ddl); err != nil {
		t.Fatalf("install the reject rule: %v", err)
	}
}

// refused returns testRecord(tenant, i) made one the database refuses,
// with a marker in its contents that must never reach a log.
func refused(tenant string, i int) store.Record {
	r := testRecord(tenant, i)
	r.ModelRequested = refusedModel
	r.UserAgent = "SECRET-CONTENTS"
	return r
}

// TestPipelineStoresTheRestOfABatchWithARefusedRecord guards against one
// record the database refuses taking its batch down with it: the writer
// used to take any failure for an outage and spool the whole batch, then
// every later one.
func TestPipelineStoresTheRestOfABatchWithARefusedRecord(t *testing.T) {
	rejectingStores(t, func(t *testing.T, db *store.DB) {
		tenant := uniqueTenant(t)
		recs := testRecords(tenant, 7)
		bad := refused(tenant, 100)
		// Batches are written when full: first the one with the refused
		// record, then one that must go straight in after it.
		first := []store.Record{recs[0], recs[1], bad, recs[2]}
		c := &collectExporter{name: "c"}
		p, logs := newTestPipeline(t, db, PipelineConfig{BatchSize: 4, FlushInterval: time.Hour, Exporters: []Exporter{c}})
		for i := range first {
			p.Enqueue(&first[i])
		}
		waitFor(t, "the first batch", func() bool { st := p.Stats(); return st.Written+st.Rejected == 4 })
		for i := 3; i < len(recs); i++ {
			p.Enqueue(&recs[i])
		}
		waitFor(t, "the second batch", func() bool { return p.Stats().Written == int64(len(recs)) })
		closePipeline(t, p)

		if diff := cmp.Diff(sortByID(storedRecords(t, db, tenant)), recs); diff != "" {
			t.Errorf("stored records (-got +want):\n%s", diff)
		}
		want := PipelineStats{Enqueued: 8, Written: 7, Rejected: 1, Exporters: []ExporterStats{{Name: "c", Exported: 7}}}
		if diff := cmp.Diff(p.Stats(), want); diff != "" {
			t.Errorf("stats (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(sortByID(c.records()), recs); diff != "" {
			t.Errorf("exported (-got +want):\n%s", diff)
		}
		if files := spoolFiles(t, p.cfg.SpoolDir); len(files) != 0 {
			t.Errorf("spool files: %v, want none", files)
		}
		checkRejectLog(t, logs.String(), bad.ID)
	})
}

// checkRejectLog checks that the log names the refused record by its ID
// and shows none of its contents nor the database's message.
func checkRejectLog(t *testing.T, log, id string) {
	t.Helper()
	if !strings.Contains(log, "rejected") || !strings.Contains(log, id) {
		t.Errorf("the log does not name the rejected record %s:\n%s", id, log)
	}
	if strings.Contains(log, "SECRET") || strings.Contains(log, refusedModel) {
		t.Errorf("the log shows record contents or the database's message:\n%s", log)
	}
}

// TestSpoolReplayDoesNotStickOnARefusedRecord guards against replay
// retrying one spool file forever: it stopped at the first failing file,
// so one record the database refused kept that file and every later one
// in the spool.
func TestSpoolReplayDoesNotStickOnARefusedRecord(t *testing.T) {
	rejectingStores(t, func(t *testing.T, db *store.DB) {
		tenant := uniqueTenant(t)
		recs := testRecords(tenant, 5)
		bad := refused(tenant, 100)
		dir := t.TempDir()
		// Files an earlier process left: the refused record is in the
		// older one, between good ones.
		files := map[string][]store.Record{
			"spool-00000000000000000001-000001-w.jsonl": {recs[0], bad, recs[1]},
			"spool-00000000000000000002-000002-o.jsonl": {recs[2], recs[3], recs[4]},
		}
		for name, rs := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(spoolText(rs...)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		p, logs := newTestPipeline(t, db, PipelineConfig{SpoolDir: dir, BatchSize: 10})
		waitFor(t, "start-up replay", func() bool { return len(spoolFiles(t, dir)) == 0 })
		later := testRecord(tenant, 5)
		p.Enqueue(&later)
		closePipeline(t, p)

		if diff := cmp.Diff(sortByID(storedRecords(t, db, tenant)), append(slices.Clone(recs), later)); diff != "" {
			t.Errorf("stored records (-got +want):\n%s", diff)
		}
		want := PipelineStats{Enqueued: 1, Written: 1, Replayed: 5, Rejected: 1}
		if diff := cmp.Diff(p.Stats(), want); diff != "" {
			t.Errorf("stats (-got +want):\n%s", diff)
		}
		checkRejectLog(t, logs.String(), bad.ID)
	})
}

// downAfter is the real store behind a switch that fails every InsertLogs
// call from the n-th on (1-based) as an outage would.
type downAfter struct {
	store.Logs
	n     int64
	calls atomic.Int64
	up    atomic.Bool
}

func (d *downAfter) InsertLogs(ctx context.Context, recs []store.Record) error {
	if d.calls.Add(1) >= d.n && !d.up.Load() {
		return errors.New("downAfter: store down")
	}
	return d.Logs.InsertLogs(ctx, recs)
}

// TestPipelineOutageWhileSortingOutARefusedRecordSpoolsTheRest guards the
// record-by-record retry: when the store goes away halfway through it, the
// records not yet stored are spooled (not rejected, not lost) and reach
// the store once it is back.
func TestPipelineOutageWhileSortingOutARefusedRecordSpoolsTheRest(t *testing.T) {
	rejectingStores(t, func(t *testing.T, db *store.DB) {
		tenant := uniqueTenant(t)
		recs := testRecords(tenant, 4)
		batch := []store.Record{recs[0], refused(tenant, 100), recs[1], recs[2], recs[3]}
		// Calls: 1 the batch (refused), 2 recs[0], 3 the refused one, 4 on down.
		logs := &downAfter{Logs: db, n: 4}
		c := &collectExporter{name: "c"}
		p, _ := newTestPipeline(t, logs, PipelineConfig{BatchSize: len(batch), FlushInterval: time.Hour,
			RetryInterval: time.Hour, Exporters: []Exporter{c}})
		for i := range batch {
			p.Enqueue(&batch[i])
		}
		waitFor(t, "written, rejected or spooled", func() bool {
			st := p.Stats()
			return st.Written+st.Spooled+st.Rejected == int64(len(batch))
		})
		if st := p.Stats(); st.Written != 1 || st.Rejected != 1 || st.Spooled != 3 {
			t.Fatalf("stats while down = %+v, want 1 written, 1 rejected, 3 spooled", st)
		}
		logs.up.Store(true)
		if err := p.replay(context.Background()); err != nil {
			t.Fatalf("replay: %v", err)
		}
		closePipeline(t, p)
		if diff := cmp.Diff(sortByID(storedRecords(t, db, tenant)), recs); diff != "" {
			t.Errorf("stored records (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(sortByID(c.records()), recs); diff != "" {
			t.Errorf("exported (-got +want):\n%s", diff)
		}
		if st := p.Stats(); st.Replayed != 3 || st.Rejected != 1 || st.Dropped != 0 {
			t.Errorf("stats = %+v, want 3 replayed, 1 rejected", st)
		}
	})
}

// TestPipelineStoresOverlongModelName guards the first failure seen: a
// client's 8,000-character model name broke PostgreSQL's index row limit,
// and the record never reached the store. It is now cut and stored.
func TestPipelineStoresOverlongModelName(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *store.DB) {
		tenant := uniqueTenant(t)
		b := make([]byte, 4000)
		rand.Read(b)
		r := testRecord(tenant, 1)
		r.ModelRequested = hex.EncodeToString(b)
		p, _ := newTestPipeline(t, db, PipelineConfig{})
		p.Enqueue(&r)
		closePipeline(t, p)
		want := r
		want.ModelRequested = r.ModelRequested[:store.MaxShortText]
		if diff := cmp.Diff(storedRecords(t, db, tenant), []store.Record{want}); diff != "" {
			t.Errorf("stored records (-got +want):\n%s", diff)
		}
		if st := p.Stats(); st.Written != 1 || st.Spooled != 0 {
			t.Errorf("stats = %+v, want 1 written", st)
		}
	})
}
