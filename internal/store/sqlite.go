package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteReaders is the size of the SQLite read pool. Reads are short and
// the machine is small; more connections would mostly add memory.
const sqliteReaders = 4

// sqlitePragmas apply to every connection: wait up to 5s for a lock held
// by another connection or process instead of failing with SQLITE_BUSY,
// enforce foreign keys (metadata rows cascade with their log), and in
// WAL mode fsync only at checkpoints (durable against process crashes,
// may lose the last commits on power loss — right for logs).
const sqlitePragmas = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

// openSQLite opens the database file at path, creating it and its parent
// directories when missing, with a single-connection write pool (which
// also switches the file to WAL mode) and a read-only pool.
func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: open sqlite: the DSN (a file path) is empty")
	}
	if strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("store: open sqlite %q: want a plain file path (not a file: URI nor :memory:)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	if err := createSQLiteFile(abs); err != nil {
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	base := sqliteURI(abs) + "?" + sqlitePragmas

	w, err := sql.Open("sqlite", base+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}

	// The reader pool opens after the writer has put the file in WAL mode
	// (a persistent setting), so readers never need a write lock.
	r, err := sql.Open("sqlite", base+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)
	r.SetConnMaxIdleTime(5 * time.Minute)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: open sqlite %q: readers: %w", path, err)
	}
	return &DB{d: sqliteDialect, w: w, r: r, now: time.Now}, nil
}

// createSQLiteFile makes the parent directories (0700) and, if the file
// does not exist yet, an empty file with mode 0600, so SQLite (which
// gives its -wal and -shm files the database file's mode) never creates
// a world-readable database. Existing files and directories keep their
// modes.
func createSQLiteFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// sqliteURI turns an absolute path into a file: URI, escaping the
// characters SQLite's URI parser gives a meaning to.
func sqliteURI(abs string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(filepath.ToSlash(abs))
}
