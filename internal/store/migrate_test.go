package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOpenSQLite(t *testing.T) { testOpen(t, sqliteConfig(t)) }

func TestOpenPostgres(t *testing.T) { testOpen(t, postgresConfig(t)) }

// testOpen checks Open's migration contract on one empty database.
func testOpen(t *testing.T, cfg Config) {
	ctx := context.Background()
	known, err := readMigrations(migrationFiles, dialectFor(t, cfg).migrations)
	if err != nil {
		t.Fatal(err)
	}
	wantVersions := make([]int64, len(known))
	for i, m := range known {
		wantVersions[i] = m.version
	}

	t.Run("ConcurrentOpens", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Go(func() {
				db, err := Open(ctx, cfg)
				if err == nil {
					err = db.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Open %d: %v", i, err)
			}
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		for range 2 {
			db := openTest(t, cfg)
			if d := cmp.Diff(appliedList(t, db), wantVersions); d != "" {
				t.Errorf("schema_migrations versions (-got +want):\n%s", d)
			}
			if err := db.Ping(ctx); err != nil {
				t.Errorf("Ping: %v", err)
			}
			if got := db.Driver(); got != dialectFor(t, cfg).name {
				t.Errorf("Driver() = %q", got)
			}
		}
	})
	t.Run("SchemaNewerThanBinary", func(t *testing.T) {
		db := openTest(t, cfg)
		newer := wantVersions[len(wantVersions)-1] + 1
		ins := db.d.stmt().sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES ").list([]any{newer, "future.sql", int64(0)})
		if _, err := db.w.ExecContext(ctx, ins.String(), ins.args...); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, cfg)
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
		}
		if !strings.Contains(err.Error(), "newer Sluice") {
			t.Errorf("error %q does not say what to do", err)
		}
		del := db.d.stmt().sql("DELETE FROM schema_migrations WHERE version = ").arg(newer)
		if _, err := db.w.ExecContext(ctx, del.String(), del.args...); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMigrateMechanismSQLite(t *testing.T) { testMigrateMechanism(t, sqliteConfig(t)) }

func TestMigrateMechanismPostgres(t *testing.T) { testMigrateMechanism(t, postgresConfig(t)) }

// testMigrateMechanism drives migrate with made-up migrations: new files
// apply in version order, only once, and a failing one leaves no trace.
func testMigrateMechanism(t *testing.T, cfg Config) {
	ctx := context.Background()
	db := openTest(t, cfg)
	// The real migrations, already applied, are stood for by no-ops; the
	// made-up ones come after them, out of order in the map.
	fsys := fstest.MapFS{
		"m/1010_b.sql": {Data: []byte("CREATE TABLE mig_b (x INTEGER)")},
		"m/1002_a.sql": {Data: []byte("CREATE TABLE mig_a (x INTEGER); INSERT INTO mig_a (x) VALUES (1)")},
	}
	applied := appliedList(t, db)
	for _, v := range applied {
		fsys[fmt.Sprintf("m/%04d_real.sql", v)] = &fstest.MapFile{Data: []byte("SELECT 1")}
	}
	want := append(slices.Clone(applied), 1002, 1010)
	if err := db.migrate(ctx, fsys, "m"); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := db.migrate(ctx, fsys, "m"); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	if d := cmp.Diff(appliedList(t, db), want); d != "" {
		t.Errorf("versions (-got +want):\n%s", d)
	}
	if n := countRows(t, db, "mig_a"); n != 1 {
		t.Errorf("mig_a has %d rows, want 1 (applied once)", n)
	}

	fsys["m/1011_bad.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE mig_c (x INTEGER); THIS IS NOT SQL")}
	err := db.migrate(ctx, fsys, "m")
	if err == nil || !strings.Contains(err.Error(), "1011_bad.sql") {
		t.Fatalf("migrate with a bad file = %v, want an error naming it", err)
	}
	if d := cmp.Diff(appliedList(t, db), want); d != "" {
		t.Errorf("versions after a failed migration (-got +want):\n%s", d)
	}
	if _, err := db.w.ExecContext(ctx, "SELECT x FROM mig_c"); err == nil {
		t.Error("mig_c exists: the failed migration was not rolled back")
	}

	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
	}{
		{"no number", fstest.MapFS{"m/init.sql": {}}},
		{"zero", fstest.MapFS{"m/0000_x.sql": {}}},
		{"not sql", fstest.MapFS{"m/0003_x.txt": {}}},
		{"duplicate version", fstest.MapFS{"m/0003_x.sql": {}, "m/03_y.sql": {}}},
		{"empty", fstest.MapFS{"m/.keep": {}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := readMigrations(tc.fsys, "m"); err == nil {
				t.Error("readMigrations succeeded, want an error")
			}
		})
	}
}

// appliedList returns schema_migrations' versions in order.
func appliedList(t *testing.T, db *DB) []int64 {
	t.Helper()
	rows, err := db.w.Query("SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func dialectFor(t *testing.T, cfg Config) dialect {
	t.Helper()
	switch cfg.Driver {
	case "", DriverSQLite:
		return sqliteDialect
	case DriverPostgres:
		return postgresDialect
	}
	t.Fatalf("no dialect for %q", cfg.Driver)
	return dialect{}
}

func TestMigration0002SQLite(t *testing.T) {
	cfg := sqliteConfig(t)
	testMigration0002(t, cfg, func() (*DB, error) { return openSQLite(context.Background(), cfg.DSN) })
}

func TestMigration0002Postgres(t *testing.T) {
	cfg := postgresConfig(t)
	testMigration0002(t, cfg, func() (*DB, error) { return openPostgres(context.Background(), cfg.DSN) })
}

// testMigration0002 upgrades a database that has only 0001 and records in
// it: the old records get an empty ClientRequestID, and the new column
// is written, read and filtered on.
func testMigration0002(t *testing.T, cfg Config, openRaw func() (*DB, error)) {
	ctx := context.Background()
	old, err := openRaw()
	if err != nil {
		t.Fatal(err)
	}
	dir := dialectFor(t, cfg).migrations
	first, err := fs.ReadFile(migrationFiles, dir+"/0001_request_logs.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := old.migrate(ctx, fstest.MapFS{"m/0001_request_logs.sql": {Data: first}}, "m"); err != nil {
		t.Fatalf("migrate to 0001: %v", err)
	}
	if _, err := old.w.Exec("INSERT INTO request_logs (id, time_us, status) VALUES ('old', 1000000, 200)"); err != nil {
		t.Fatalf("insert a record the 0001 way: %v", err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db := openTest(t, cfg)
	ms, err := readMigrations(migrationFiles, dir)
	if err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for _, m := range ms {
		versions = append(versions, m.version)
	}
	if d := cmp.Diff(appliedList(t, db), versions); d != "" {
		t.Errorf("versions (-got +want):\n%s", d)
	}
	got, err := db.GetLog(ctx, "old")
	if err != nil {
		t.Fatalf("GetLog(old): %v", err)
	}
	if d := cmp.Diff(got, Record{ID: "old", Time: time.UnixMicro(1000000).UTC(), Status: 200}); d != "" {
		t.Errorf("old record (-got +want):\n%s", d)
	}
	insert(t, db, Record{ID: "new-1", ClientRequestID: "envoy-1", Time: t0},
		Record{ID: "new-2", ClientRequestID: "envoy-1", Time: at(time.Second)})
	page, err := db.QueryLogs(ctx, LogFilter{ClientRequestID: "envoy-1"})
	if err != nil {
		t.Fatalf("QueryLogs: %v", err)
	}
	want := []Record{{ID: "new-2", ClientRequestID: "envoy-1", Time: at(time.Second)}, {ID: "new-1", ClientRequestID: "envoy-1", Time: t0}}
	if d := cmp.Diff(page.Records, want); d != "" {
		t.Errorf("records sharing a client request id (-got +want):\n%s", d)
	}
}
