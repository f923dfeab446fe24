package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Drivers Config.Driver accepts.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

var (
	// ErrNotFound is returned (possibly wrapped) when a requested row does
	// not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrBadCursor is wrapped by QueryLogs errors for a cursor it did not
	// issue or cannot decode.
	ErrBadCursor = errors.New("store: bad cursor")
	// ErrBadQuery is wrapped by errors for a filter or usage query that
	// cannot be answered as asked (unknown GroupBy, bucket too small, …).
	ErrBadQuery = errors.New("store: bad query")
	// ErrBadRecord is wrapped by InsertLogs errors (and by the tenant,
	// team and key writes, for invalid input) when a record cannot
	// be stored because of its data — an ID that is empty, too long or
	// not text, or a value the database refuses (PostgreSQL SQLSTATE
	// classes 22, 23 and 54; SQLite SQLITE_TOOBIG, SQLITE_CONSTRAINT and
	// SQLITE_MISMATCH) — as opposed to a database that is unreachable or
	// failing. Retrying the same records will fail the same way.
	ErrBadRecord = errors.New("store: bad record")
	// ErrSchemaTooNew is wrapped by Open when the database holds a
	// migration this binary does not know: a newer Sluice migrated it.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")
)

// Config says which database to open.
type Config struct {
	// Driver is "sqlite" (the default when empty) or "postgres".
	Driver string
	// DSN is, for sqlite, a file path (its parent directories are created
	// with mode 0700 and a new file with mode 0600); for postgres, a
	// connection string such as postgres://user:pass@host/db. Required.
	// It never appears in errors returned by this package.
	DSN string
}

// DB is an open store. It is safe for concurrent use.
//
// With SQLite, writes go through w, a pool of exactly one connection whose
// transactions begin IMMEDIATE (so concurrent writers in this process
// queue in database/sql and other processes wait on busy_timeout), and
// reads through r, a separate read-only pool that WAL lets run alongside
// the writer. With PostgreSQL, w and r are the same pool.
type DB struct {
	d   dialect
	w   *sql.DB // writes and migrations
	r   *sql.DB // reads; == w for postgres
	now func() time.Time
	// dsn is the connection string the DB was opened with, for the
	// dedicated connection of Listen (postgres only; "" for sqlite). It
	// may hold a password: never put it in an error or a log line.
	dsn string
}

// Open connects to the database cfg names, pings it and applies any
// pending migrations. A database migrated by a newer binary fails with an
// error wrapping ErrSchemaTooNew. The caller owns the DB and must Close it.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	var (
		db  *DB
		err error
	)
	switch cfg.Driver {
	case "", DriverSQLite:
		db, err = openSQLite(ctx, cfg.DSN)
	case DriverPostgres:
		db, err = openPostgres(ctx, cfg.DSN)
	default:
		return nil, fmt.Errorf("store: open: unknown driver %q (want %q or %q)", cfg.Driver, DriverSQLite, DriverPostgres)
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx, migrationFiles, db.d.migrations); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Driver reports "sqlite" or "postgres".
func (db *DB) Driver() string { return db.d.name }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if db.r != db.w {
		if err := db.r.PingContext(ctx); err != nil {
			return fmt.Errorf("store: ping readers: %w", err)
		}
	}
	return nil
}

// Close closes every connection. The DB must not be used afterwards.
func (db *DB) Close() error {
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}
