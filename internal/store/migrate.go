package store

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// migrationFiles holds every driver's migrations, one directory each
// (see dialect.migrations). A file is named NNNN_what.sql: NNNN is its
// version, unique and positive; files apply in version order, each in its
// own transaction, and are never edited once released — a schema change
// is a new file.
//
//go:embed migrations
var migrationFiles embed.FS

// migration is one parsed migration file.
type migration struct {
	version int64
	name    string // file name, for errors and schema_migrations.name
	sql     string
}

// createMigrationsTable is the same on both drivers; applied_at is
// microseconds since the Unix epoch, like every time in this store.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT NOT NULL PRIMARY KEY,
	name       TEXT   NOT NULL,
	applied_at BIGINT NOT NULL
)`

// migrate applies the migrations in dir of fsys that the database lacks,
// oldest first. Each runs in its own transaction that first takes the
// dialect's migration lock, then re-reads schema_migrations, so several
// processes opening one database at once apply each migration exactly
// once. A database that records a version newer than any in dir fails
// with ErrSchemaTooNew before anything is applied.
func (db *DB) migrate(ctx context.Context, fsys fs.FS, dir string) error {
	ms, err := readMigrations(fsys, dir)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for {
		done, err := db.migrateNext(ctx, ms)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		if done {
			return nil
		}
	}
}

// migrateNext applies the oldest pending migration of ms in one
// transaction and reports whether none was pending.
func (db *DB) migrateNext(ctx context.Context, ms []migration) (done bool, err error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if db.d.migrationLock != "" {
		if _, err := tx.ExecContext(ctx, db.d.migrationLock); err != nil {
			return false, fmt.Errorf("lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return false, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return false, err
	}
	if len(applied) > 0 {
		if newest, known := slices.Max(applied), ms[len(ms)-1].version; newest > known {
			return false, fmt.Errorf("%w: it has migration %d, this binary knows up to %d; run a newer Sluice or restore a backup",
				ErrSchemaTooNew, newest, known)
		}
	}
	for _, m := range ms {
		if slices.Contains(applied, m.version) {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return false, fmt.Errorf("apply %s: %w", m.name, err)
		}
		ins := db.d.stmt().sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES ").
			list([]any{m.version, m.name, db.now().UnixMicro()})
		if _, err := tx.ExecContext(ctx, ins.String(), ins.args...); err != nil {
			return false, fmt.Errorf("record %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return false, fmt.Errorf("commit %s: %w", m.name, err)
		}
		return false, nil
	}
	return true, tx.Commit()
}

func appliedVersions(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	var vs []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return vs, nil
}

// readMigrations parses the *.sql files of dir, sorted by version. Other
// files, duplicate versions and an empty dir are errors, so a misnamed
// migration cannot be skipped silently.
func readMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, perr := strconv.ParseInt(num, 10, 64)
		if e.IsDir() || !ok || !strings.HasSuffix(name, ".sql") || perr != nil || v <= 0 {
			return nil, fmt.Errorf("%s: want files named NNNN_what.sql with NNNN > 0", path.Join(dir, name))
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("%s and %s: duplicate version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New(dir + ": no migrations")
	}
	return ms, nil
}
