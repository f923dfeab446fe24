package store

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMigration0003SQLite(t *testing.T) {
	cfg := sqliteConfig(t)
	testMigration0003(t, cfg, func() (*DB, error) { return openSQLite(context.Background(), cfg.DSN) })
}

func TestMigration0003Postgres(t *testing.T) {
	cfg := postgresConfig(t)
	testMigration0003(t, cfg, func() (*DB, error) { return openPostgres(context.Background(), cfg.DSN) })
}

// testMigration0003 upgrades a database that holds request logs at
// migration 0002: the logs stay as they were, and the new tables work.
func testMigration0003(t *testing.T, cfg Config, openRaw func() (*DB, error)) {
	ctx := context.Background()
	old, err := openRaw()
	if err != nil {
		t.Fatal(err)
	}
	dir := dialectFor(t, cfg).migrations
	fsys := fstest.MapFS{}
	for _, name := range []string{"0001_request_logs.sql", "0002_client_request_id.sql"} {
		b, err := fs.ReadFile(migrationFiles, dir+"/"+name)
		if err != nil {
			t.Fatal(err)
		}
		fsys["m/"+name] = &fstest.MapFile{Data: b}
	}
	if err := old.migrate(ctx, fsys, "m"); err != nil {
		t.Fatalf("migrate to 0002: %v", err)
	}
	logs := []Record{fullRecord("req-1", t0), {ID: "req-2", Time: at(time.Second), Status: 500}}
	logs[0].MirrorOf = "" // a column of 0005
	logs[0].Node = ""     // a column of 0006
	insertLogsAt0002(t, old, logs)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db := openTest(t, cfg)
	versions := appliedList(t, db)
	if len(versions) < 3 || versions[2] != 3 {
		t.Errorf("versions %v: want 0003 applied after 0001 and 0002", versions)
	}
	page, err := db.QueryLogs(ctx, LogFilter{})
	if err != nil {
		t.Fatalf("QueryLogs: %v", err)
	}
	if d := cmp.Diff(page.Records, []Record{logs[1], logs[0]}); d != "" {
		t.Errorf("request logs after 0003 (-got +want):\n%s", d)
	}
	for _, table := range entityTables {
		if n := countRows(t, db, table); n != 0 {
			t.Errorf("new table %s has %d rows, want 0", table, n)
		}
	}
	k := testKey("key_1", 1)
	if err := db.CreateKey(ctx, &k); err != nil {
		t.Fatalf("CreateKey after 0003: %v", err)
	}
	if err := db.CreateTenant(ctx, &Tenant{ID: "ten_1", Name: "Acme"}); err != nil {
		t.Fatalf("CreateTenant after 0003: %v", err)
	}
	if err := db.AppendAudit(ctx, []AuditEntry{{Action: "migrated"}}); err != nil {
		t.Fatalf("AppendAudit after 0003: %v", err)
	}
}

// TestMigration0003Parity checks that both drivers' 0003 create the same
// tables and indexes, so that neither is forgotten when one changes.
func TestMigration0003Parity(t *testing.T) {
	objects := func(dir string) []string {
		b, err := fs.ReadFile(migrationFiles, dir+"/0003_keys.sql")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) >= 3 && f[0] == "CREATE" && f[1] == "TABLE":
				out = append(out, "table "+f[2])
			case len(f) >= 3 && f[0] == "CREATE" && f[1] == "INDEX":
				out = append(out, "index "+f[2])
			case len(f) >= 4 && f[0] == "CREATE" && f[1] == "UNIQUE":
				out = append(out, "unique index "+f[3])
			case len(f) >= 2 && f[0] != "--" && f[0] != "CREATE" && f[0] != ")" && f[0] != ");" && !strings.HasPrefix(f[0], "UNIQUE"):
				out = append(out, "column "+f[0])
			}
		}
		return out
	}
	if d := cmp.Diff(objects(postgresDialect.migrations), objects(sqliteDialect.migrations)); d != "" {
		t.Errorf("postgres (-) and sqlite (+) 0003 differ:\n%s", d)
	}
}

// insertLogsAt0002 writes records as InsertLogs did at migration 0002:
// without the columns later migrations added (at the end of logColumns,
// from mirror_of on).
func insertLogsAt0002(t *testing.T, db *DB, recs []Record) {
	t.Helper()
	ctx := context.Background()
	n := slices.Index(logColumns, "mirror_of")
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	batch := make([]*Record, len(recs))
	inserted := make(map[string]bool, len(recs))
	for i := range recs {
		r := &recs[i]
		s := db.d.stmt().sql("INSERT INTO request_logs (" + strings.Join(logColumns[:n], ", ") + ") VALUES ").
			list(appendRecordArgs(nil, r)[:n])
		if _, err := tx.ExecContext(ctx, s.String(), s.args...); err != nil {
			t.Fatalf("insert at 0002: %v", err)
		}
		batch[i], inserted[r.ID] = r, true
	}
	if err := db.insertMetadata(ctx, tx, batch, inserted); err != nil {
		t.Fatalf("insert metadata at 0002: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
