package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

var _ Logs = (*DB)(nil)

const (
	// insertChunk is the most records one INSERT statement carries:
	// 33 columns × 100 = 3,300 placeholders, far under SQLite's 32,766
	// and PostgreSQL's 65,535.
	insertChunk = 100
	// metadataChunk is the most metadata rows one INSERT carries.
	metadataChunk = 500
	// pruneChunk is the most records one DELETE removes, so that pruning
	// a large backlog never holds the write lock for long.
	pruneChunk = 5000
)

// InsertLogs writes recs in one transaction. A record whose ID is already
// stored, or repeats an earlier ID of recs, is skipped together with its
// metadata. Every record needs an ID (non-empty, at most 1,024 bytes,
// UTF-8 without NUL); otherwise nothing is written. Other text is stored
// with invalid UTF-8 and NUL replaced by U+FFFD and cut to its field's
// limit (see Record). recs is not retained.
//
// When a record's ID is invalid or the database refuses a record's data,
// nothing is written and the error wraps ErrBadRecord (see there); other
// errors mean the database is out of reach or failing.
func (db *DB) InsertLogs(ctx context.Context, recs []Record) (err error) {
	if len(recs) == 0 {
		return nil
	}
	batch := make([]*Record, 0, len(recs))
	seen := make(map[string]struct{}, len(recs))
	for i := range recs {
		r := &recs[i]
		if err := checkID(r.ID); err != nil {
			return fmt.Errorf("store: insert logs: record %d: %w: %w", i, ErrBadRecord, err)
		}
		if _, dup := seen[r.ID]; !dup {
			seen[r.ID] = struct{}{}
			batch = append(batch, r)
		}
	}

	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: insert logs: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	inserted := make(map[string]bool, len(batch))
	args := make([]any, 0, len(logColumns)) // one record's values, reused
	for start := 0; start < len(batch); start += insertChunk {
		chunk := batch[start:min(start+insertChunk, len(batch))]
		if err := db.insertRecords(ctx, tx, chunk, args, inserted); err != nil {
			return fmt.Errorf("store: insert logs: %w", markBadRecord(err))
		}
	}
	if err := db.insertMetadata(ctx, tx, batch, inserted); err != nil {
		return fmt.Errorf("store: insert logs: metadata: %w", markBadRecord(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: insert logs: commit: %w", markBadRecord(err))
	}
	return nil
}

// insertRecords inserts chunk with one statement, using args as scratch
// space, and adds the IDs actually inserted (not already stored) to
// inserted.
func (db *DB) insertRecords(ctx context.Context, tx *sql.Tx, chunk []*Record, args []any, inserted map[string]bool) error {
	s := db.d.stmt().sql("INSERT INTO request_logs (" + logColumnList + ") VALUES ")
	for i, r := range chunk {
		if i > 0 {
			s.sql(", ")
		}
		s.list(appendRecordArgs(args[:0], r))
	}
	s.sql(" ON CONFLICT (id) DO NOTHING RETURNING id")
	rows, err := tx.QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		inserted[id] = true
	}
	return rows.Err()
}

// insertMetadata writes the metadata of the records of batch whose ID is
// in inserted, each record's keys in byte order (so of keys that become
// equal once cleaned and cut, the first wins).
func (db *DB) insertMetadata(ctx context.Context, tx *sql.Tx, batch []*Record, inserted map[string]bool) error {
	var s *stmt
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		s.sql(" ON CONFLICT (log_id, key) DO NOTHING")
		_, err := tx.ExecContext(ctx, s.String(), s.args...)
		s, n = nil, 0
		return err
	}
	var keys []string // one record's keys, reused
	for _, r := range batch {
		if !inserted[r.ID] || len(r.Metadata) == 0 {
			continue
		}
		keys = keys[:0]
		for k := range r.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if s == nil {
				s = db.d.stmt().sql("INSERT INTO request_log_metadata (log_id, key, value) VALUES ")
			} else {
				s.sql(", ")
			}
			s.list([]any{r.ID, cutText(k, MaxMetadataKey), cutText(r.Metadata[k], MaxMetadataValue)})
			if n++; n == metadataChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// GetLog returns the record with id, or an error wrapping ErrNotFound.
func (db *DB) GetLog(ctx context.Context, id string) (Record, error) {
	if checkID(id) != nil { // no such record can have been stored
		return Record{}, fmt.Errorf("store: get log %q: %w", id, ErrNotFound)
	}
	tx, err := db.readTx(ctx)
	if err != nil {
		return Record{}, fmt.Errorf("store: get log %q: %w", id, err)
	}
	defer tx.Rollback()
	s := db.d.stmt().sql("SELECT " + logColumnList + " FROM request_logs WHERE id = ").arg(id)
	r, err := scanRecord(tx.QueryRowContext(ctx, s.String(), s.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fmt.Errorf("store: get log %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("store: get log %q: %w", id, err)
	}
	recs := []Record{r}
	if err := loadMetadata(ctx, tx, db.d, recs); err != nil {
		return Record{}, fmt.Errorf("store: get log %q: %w", id, err)
	}
	return recs[0], nil
}

// PruneLogs deletes the records older than before (when before is not
// zero), then all but the newest keep (when keep > 0), with their
// metadata. It deletes in chunks, each its own transaction, so an error
// or a cancelled ctx may leave a prune half done; the count returned is
// what was deleted either way.
func (db *DB) PruneLogs(ctx context.Context, before time.Time, keep int) (int64, error) {
	var total int64
	if !before.IsZero() {
		n, err := db.pruneOlder(ctx, before.UnixMicro(), "", pruneChunk)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: prune logs by age: %w", err)
		}
	}
	if keep > 0 {
		s := db.d.stmt().sql("SELECT time_us, id FROM request_logs ORDER BY time_us DESC, id DESC LIMIT 1 OFFSET ").arg(int64(keep - 1))
		var (
			t  int64
			id string
		)
		err := db.w.QueryRowContext(ctx, s.String(), s.args...).Scan(&t, &id)
		if errors.Is(err, sql.ErrNoRows) {
			return total, nil // keep records or fewer
		}
		if err != nil {
			return total, fmt.Errorf("store: prune logs by count: %w", err)
		}
		n, err := db.pruneOlder(ctx, t, id, pruneChunk)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: prune logs by count: %w", err)
		}
	}
	return total, nil
}

// pruneOlder deletes the records before (timeUS, id) in page order, or
// before timeUS when id is empty, at most chunk per statement.
func (db *DB) pruneOlder(ctx context.Context, timeUS int64, id string, chunk int64) (int64, error) {
	var total int64
	for {
		s := db.d.stmt().sql("DELETE FROM request_logs WHERE id IN (SELECT id FROM request_logs WHERE time_us < ").arg(timeUS)
		if id != "" {
			s.sql(" OR (time_us = ").arg(timeUS).sql(" AND id < ").arg(id).sql(")")
		}
		s.sql(" ORDER BY time_us, id LIMIT ").arg(chunk).sql(")")
		res, err := db.w.ExecContext(ctx, s.String(), s.args...)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < chunk {
			return total, nil
		}
	}
}
