package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pragma reads one PRAGMA on pool.
func pragma(t *testing.T, pool *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := pool.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestSQLiteSettings(t *testing.T) {
	db := openTest(t, sqliteConfig(t))
	type settings struct{ JournalMode, BusyTimeout, ForeignKeys, Synchronous, QueryOnly string }
	read := func(pool *sql.DB) settings {
		return settings{pragma(t, pool, "journal_mode"), pragma(t, pool, "busy_timeout"),
			pragma(t, pool, "foreign_keys"), pragma(t, pool, "synchronous"), pragma(t, pool, "query_only")}
	}
	// synchronous NORMAL is 1.
	if d := cmp.Diff(read(db.w), settings{"wal", "5000", "1", "1", "0"}); d != "" {
		t.Errorf("writer (-got +want):\n%s", d)
	}
	if d := cmp.Diff(read(db.r), settings{"wal", "5000", "1", "1", "1"}); d != "" {
		t.Errorf("readers (-got +want):\n%s", d)
	}
	if got := db.w.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer pool allows %d connections, want 1", got)
	}
	if _, err := db.r.Exec("DELETE FROM request_logs"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestSQLiteFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "sluice.db")
	openTest(t, Config{DSN: path}) // Driver "" is sqlite
	for _, tc := range []struct {
		name string
		path string
		want os.FileMode
	}{
		{"directory", dir, 0o700},
		{"database", path, 0o600},
		{"wal", path + "-wal", 0o600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fi, err := os.Stat(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tc.want {
				t.Errorf("mode %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSQLiteOddPath(t *testing.T) {
	// Characters with a meaning in SQLite URIs must not change the file
	// opened or the parameters applied.
	path := filepath.Join(t.TempDir(), "a?b#c%20d&e.db")
	db := openTest(t, Config{DSN: path})
	insert(t, db, Record{ID: "x", Time: t0})
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
	if got := pragma(t, db.w, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode = %q, want wal", got)
	}
}

func TestOpenRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown driver", Config{Driver: "mysql", DSN: "x"}, `unknown driver "mysql"`},
		{"sqlite without path", Config{}, "empty"},
		{"sqlite URI", Config{DSN: "file:x.db?mode=memory"}, "plain file path"},
		{"sqlite memory", Config{DSN: ":memory:"}, "plain file path"},
		{"postgres without DSN", Config{Driver: DriverPostgres}, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
