package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// markBadRecord returns err wrapping ErrBadRecord as well when the
// database refused the data written rather than failing or being out of
// reach; otherwise err unchanged. A nil err stays nil.
func markBadRecord(err error) error {
	if err != nil && isDataError(err) && !errors.Is(err, ErrBadRecord) {
		return fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	return err
}

// isDataError reports whether err is a database's refusal of the values
// of a statement:
//
//   - PostgreSQL SQLSTATE class 22 (data exception: a value out of range
//     or not valid for its type), 23 (integrity constraint violation; the
//     ID conflicts InsertLogs expects are absorbed by ON CONFLICT and never
//     get here) and 54 (program limit exceeded, e.g. an index row too
//     large);
//   - SQLite SQLITE_TOOBIG, SQLITE_CONSTRAINT (with every extended code:
//     CHECK, NOT NULL, a trigger's RAISE(ABORT), a STRICT table's
//     datatype check, …) and SQLITE_MISMATCH.
//
// Everything else — connection failures, timeouts, cancellations, locks,
// a full disk, I/O errors, a schema that does not match — is not: the
// same records may well be stored later.
func isDataError(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if len(pe.Code) != 5 {
			return false
		}
		switch pe.Code[:2] {
		case "22", "23", "54":
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH:
			return true
		}
	}
	return false
}
