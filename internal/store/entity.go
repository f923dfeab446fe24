package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrConflict is wrapped by the errors of the tenant, team and key
// methods when the write would break a uniqueness rule — an ID, a tenant
// name, a team name within its tenant, or a key hash already taken — or
// would delete a tenant or team that teams or keys still name.
var ErrConflict = errors.New("store: conflict")

// MaxEntityText bounds the IDs and names of tenants, teams and keys and
// the TenantID and TeamID that teams and keys name, in bytes. They are
// indexed; the bound keeps every index row far below PostgreSQL's btree
// row limit.
const MaxEntityText = 256

// isUniqueViolation reports whether err is a database's refusal of a
// row that repeats a unique or primary key: PostgreSQL SQLSTATE 23505,
// SQLite SQLITE_CONSTRAINT_UNIQUE or SQLITE_CONSTRAINT_PRIMARYKEY.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// markConflict returns err wrapping ErrConflict as well when it is a
// unique violation; otherwise err unchanged. A nil err stays nil.
func markConflict(err error) error {
	if err != nil && isUniqueViolation(err) && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

// checkText reports why s, the value of field, cannot be stored as is:
// text must be valid UTF-8 without NUL (PostgreSQL refuses NUL, and
// encoding/json would replace invalid bytes, so neither would come back
// as written). Unlike log records, admin data is refused, never cleaned.
func checkText(field, s string) error {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%w: %s is not valid UTF-8 text without NUL", ErrBadRecord, field)
	}
	return nil
}

// checkEntityText is checkText plus a length bound of MaxEntityText
// bytes and, when required, non-emptiness.
func checkEntityText(field, s string, required bool) error {
	switch {
	case required && s == "":
		return fmt.Errorf("%w: %s is empty", ErrBadRecord, field)
	case len(s) > MaxEntityText:
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrBadRecord, field, MaxEntityText)
	}
	return checkText(field, s)
}

// checkMap checks every key and value of m with checkText.
func checkMap(field string, m map[string]string) error {
	for k, v := range m {
		if err := checkText(field+" key", k); err != nil {
			return err
		}
		if err := checkText(field+" value", v); err != nil {
			return err
		}
	}
	return nil
}

// jsonColumn returns v marshalled as JSON text for a nullable TEXT
// column, or an untyped nil (NULL) when empty is true. v must be a
// map[string]string or []string, which always marshal.
func jsonColumn(v any, empty bool) any {
	if empty {
		return nil
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// mapColumn is jsonColumn for a map: NULL when m is empty.
func mapColumn(m map[string]string) any { return jsonColumn(m, len(m) == 0) }

// listColumn is jsonColumn for a list: NULL when l is empty.
func listColumn(l []string) any { return jsonColumn(l, len(l) == 0) }

// scanJSON decodes a nullable JSON column into dst (a pointer to a map
// or slice); NULL leaves dst as it is (nil).
func scanJSON(field string, src sql.NullString, dst any) error {
	if !src.Valid {
		return nil
	}
	if err := json.Unmarshal([]byte(src.String), dst); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

// timeUS returns t in microseconds since the Unix epoch, and 0 for the
// zero time (so "never" stays 0 on disk instead of a year-1 timestamp).
func timeUS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromUS inverts timeUS: 0 is the zero time; anything else a UTC time.
func fromUS(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// nowUS returns db's clock in microseconds: the time the store stamps on
// CreatedAt, UpdatedAt and the like, so that it reads back unchanged.
func (db *DB) nowUS() int64 { return db.now().UnixMicro() }

// inWriteTx runs fn in a write transaction and commits it when fn
// returns nil; otherwise it rolls back and returns fn's error. On SQLite
// the transaction begins IMMEDIATE, so check-then-write sequences in fn
// are serialised with every other writer.
func (db *DB) inWriteTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(...any) error }
