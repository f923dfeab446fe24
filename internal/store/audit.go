package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// AuditEntry is one administrative action: who (Actor, ActorKeyID, from
// ClientIP) did what (Action, e.g. "key.create") to which object (Target,
// e.g. a key ID), with Detail saying more. Entries are appended, never
// updated.
//
// Like log records, entries are never refused for their text: invalid
// UTF-8 and NUL become U+FFFD, and text is cut at a UTF-8 character
// boundary to MaxShortText bytes (Actor, ActorKeyID, Action, Target,
// ClientIP), MaxMetadataKey (a Detail key) or MaxAuditDetail (a Detail
// value).
type AuditEntry struct {
	ID int64 // assigned by the store, increasing; ignored by AppendAudit
	// Time is when the action happened (UTC, microseconds); AppendAudit
	// stamps a zero Time with the store's clock.
	Time                                        time.Time
	Actor, ActorKeyID, Action, Target, ClientIP string
	Detail                                      map[string]string // empty reads back nil
}

// MaxAuditDetail bounds an AuditEntry.Detail value, in bytes.
const MaxAuditDetail = 4096

// AuditFilter selects audit entries. Zero fields do not filter; text is
// cut like AuditEntry's before it is compared.
type AuditFilter struct {
	From, To              time.Time // From inclusive, To exclusive
	Actor, Action, Target string    // exact matches
	Limit                 int       // page size: 0 means 50, more than 1,000 means 1,000
	Cursor                string    // continues after a previous page's last entry
}

// auditColumns are audit_log's columns but id, in the order AppendAudit
// writes them.
const auditColumns = "time_us, actor, actor_key_id, action, target, client_ip, detail"

// auditChunk is the most entries one INSERT carries (7 columns each).
const auditChunk = 200

// AppendAudit stores entries, in order, in one transaction: all or none.
// entries is not modified nor retained.
func (db *DB) AppendAudit(ctx context.Context, entries []AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	now := db.nowUS()
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		for chunk := range slices.Chunk(entries, auditChunk) {
			s := db.d.stmt().sql("INSERT INTO audit_log (" + auditColumns + ") VALUES ")
			for i := range chunk {
				e := &chunk[i]
				if i > 0 {
					s.sql(", ")
				}
				t := now
				if !e.Time.IsZero() {
					t = e.Time.UnixMicro()
				}
				detail := make(map[string]string, len(e.Detail))
				// Keys in byte order: of keys equal once cut, the first wins.
				for _, k := range slices.Sorted(maps.Keys(e.Detail)) {
					ck := cutText(k, MaxMetadataKey)
					if _, dup := detail[ck]; !dup {
						detail[ck] = cutText(e.Detail[k], MaxAuditDetail)
					}
				}
				s.list([]any{t, shortText(e.Actor), shortText(e.ActorKeyID), shortText(e.Action),
					shortText(e.Target), shortText(e.ClientIP), mapColumn(detail)})
			}
			if _, err := tx.ExecContext(ctx, s.String(), s.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: append audit: %w", markBadRecord(err))
	}
	return nil
}

// QueryAudit returns the entries matching f, newest first (Time desc,
// then ID desc), and a cursor for the next page, empty after the last. A
// cursor this store did not issue fails with an error wrapping
// ErrBadCursor; a negative Limit or a To before From with one wrapping
// ErrBadQuery.
func (db *DB) QueryAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", fmt.Errorf("store: query audit: %w", err)
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return nil, "", fmt.Errorf("store: query audit: %w: to (%s) is before from (%s)", ErrBadQuery, f.To, f.From)
	}
	s := db.d.stmt().sql("SELECT id, " + auditColumns + " FROM audit_log WHERE 1=1")
	for _, c := range []struct{ col, val string }{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}} {
		if c.val != "" {
			s.sql(" AND " + c.col + " = ").arg(shortText(c.val))
		}
	}
	if err := newestFirst(s, f.From, f.To, f.Cursor, limit); err != nil {
		return nil, "", fmt.Errorf("store: query audit: %w", err)
	}

	rows, err := db.r.QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: query audit: %w", err)
	}
	defer rows.Close()
	var es []AuditEntry
	for rows.Next() {
		var (
			e      AuditEntry
			us     int64
			detail sql.NullString
		)
		if err := rows.Scan(&e.ID, &us, &e.Actor, &e.ActorKeyID, &e.Action, &e.Target, &e.ClientIP, &detail); err != nil {
			return nil, "", fmt.Errorf("store: query audit: %w", err)
		}
		e.Time = time.UnixMicro(us).UTC()
		if err := scanJSON("detail", detail, &e.Detail); err != nil {
			return nil, "", fmt.Errorf("store: query audit: entry %d: %w", e.ID, err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: query audit: %w", err)
	}
	var next string
	if len(es) > limit {
		es = es[:limit]
		last := es[limit-1]
		next = encodeCursor(last.Time.UnixMicro(), strconv.FormatInt(last.ID, 10))
	}
	return es, next, nil
}

// newestFirst ends a query over a table with time_us and an integer id
// (the audit log, events): the time range [from, to) where set, the page
// after cursor, newest first, limit+1 rows (the extra one says whether
// there is a next page).
func newestFirst(s *stmt, from, to time.Time, cursor string, limit int) error {
	if !from.IsZero() {
		s.sql(" AND time_us >= ").arg(from.UnixMicro())
	}
	if !to.IsZero() {
		s.sql(" AND time_us < ").arg(to.UnixMicro())
	}
	if cursor != "" {
		t, id, err := decodeAuditCursor(cursor)
		if err != nil {
			return err
		}
		s.sql(" AND (time_us < ").arg(t).sql(" OR (time_us = ").arg(t).sql(" AND id < ").arg(id).sql("))")
	}
	s.sql(" ORDER BY time_us DESC, id DESC LIMIT ").arg(int64(limit + 1))
	return nil
}

// decodeAuditCursor parses a cursor QueryAudit or ListEvents made: encodeCursor's form
// with the entry's ID in decimal (positive, no sign, no leading zero).
// Anything else is an error wrapping ErrBadCursor. For every accepted c,
// encoding what it returns gives c back.
func decodeAuditCursor(c string) (timeUS, id int64, err error) {
	timeUS, s, err := decodeCursor(c)
	if err != nil {
		return 0, 0, err
	}
	id, perr := strconv.ParseInt(s, 10, 64)
	if perr != nil || id <= 0 || strconv.FormatInt(id, 10) != s {
		return 0, 0, fmt.Errorf("%w: not an entry id", ErrBadCursor)
	}
	return timeUS, id, nil
}
