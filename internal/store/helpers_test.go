package store

import (
	"context"
	"github.com/sluicehq/sluice/internal/testdb"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the test schema admin
)

// sqliteConfig returns a config for a new database file in a fresh
// temporary directory.
func sqliteConfig(t testing.TB) Config {
	t.Helper()
	return Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "data", "sluice.db")}
}

// postgresConfig returns a config for a fresh, empty schema of the
// database named by SLUICE_TEST_POSTGRES (the database is shared, so every
// test gets its own schema, dropped when the test ends). It skips the test
// when the variable is unset.
func postgresConfig(t testing.TB) Config {
	t.Helper()
	return Config{Driver: DriverPostgres, DSN: testdb.PostgresDSN(t, "sluice_test_")}
}

// openTest opens cfg and closes the DB when the test ends.
func openTest(t testing.TB, cfg Config) *DB {
	t.Helper()
	db, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// clearLogs empties the request-log tables, so that each part of a
// contract suite starts from nothing.
func clearLogs(t *testing.T, db *DB) {
	t.Helper()
	for _, table := range []string{"request_log_metadata", "request_logs"} {
		if _, err := db.w.Exec("DELETE FROM " + table); err != nil {
			t.Fatalf("clear %s: %v", table, err)
		}
	}
}

// countRows returns the number of rows of table.
func countRows(t *testing.T, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.w.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// insert stores recs or fails the test.
func insert(t *testing.T, db *DB, recs ...Record) {
	t.Helper()
	if err := db.InsertLogs(context.Background(), recs); err != nil {
		t.Fatalf("InsertLogs: %v", err)
	}
}

// ids lists the IDs of recs in order.
func ids(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// t0 is the base time of test records.
var t0 = time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }
