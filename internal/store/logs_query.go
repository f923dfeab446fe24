package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
)

// Page sizes for QueryLogs.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// QueryLogs returns the records matching f, newest first (Time desc, then
// ID desc), at most f.Limit of them (0 means 50; more than 1,000 means
// 1,000). Page.Next continues after the page's last record and is empty
// when no record follows. A cursor this store did not issue fails with an
// error wrapping ErrBadCursor; a negative Limit, a StatusClass outside
// 1–5 or a To before From with one wrapping ErrBadQuery.
func (db *DB) QueryLogs(ctx context.Context, f LogFilter) (Page, error) {
	limit := f.Limit
	switch {
	case limit < 0:
		return Page{}, fmt.Errorf("store: query logs: %w: negative limit %d", ErrBadQuery, limit)
	case limit == 0:
		limit = defaultPageSize
	case limit > maxPageSize:
		limit = maxPageSize
	}
	s := db.d.stmt().sql("SELECT " + logColumnList + " FROM request_logs WHERE 1=1")
	if err := whereFilter(s, f); err != nil {
		return Page{}, fmt.Errorf("store: query logs: %w", err)
	}
	if f.Cursor != "" {
		t, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return Page{}, fmt.Errorf("store: query logs: %w", err)
		}
		s.sql(" AND (time_us < ").arg(t).sql(" OR (time_us = ").arg(t).sql(" AND id < ").arg(id).sql("))")
	}
	s.sql(" ORDER BY time_us DESC, id DESC LIMIT ").arg(int64(limit + 1))

	tx, err := db.readTx(ctx)
	if err != nil {
		return Page{}, fmt.Errorf("store: query logs: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return Page{}, fmt.Errorf("store: query logs: %w", err)
	}
	defer rows.Close()
	var p Page
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return Page{}, fmt.Errorf("store: query logs: %w", err)
		}
		p.Records = append(p.Records, r)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("store: query logs: %w", err)
	}
	rows.Close()
	if len(p.Records) > limit {
		p.Records = p.Records[:limit]
		last := p.Records[limit-1]
		p.Next = encodeCursor(last.Time.UnixMicro(), last.ID)
	}
	if err := loadMetadata(ctx, tx, db.d, p.Records); err != nil {
		return Page{}, fmt.Errorf("store: query logs: %w", err)
	}
	return p, nil
}

// whereFilter appends " AND …" conditions for f's fields other than
// Limit and Cursor to s, whose WHERE clause is open on request_logs.
// Text is cleaned and cut as InsertLogs cleans and cuts it, so a filter
// matches what was stored from the same text on either database.
func whereFilter(s *stmt, f LogFilter) error {
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return fmt.Errorf("%w: to (%s) is before from (%s)", ErrBadQuery, f.To, f.From)
	}
	if !f.From.IsZero() {
		s.sql(" AND time_us >= ").arg(f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		s.sql(" AND time_us < ").arg(f.To.UnixMicro())
	}
	if f.Model != "" {
		m := shortText(f.Model)
		s.sql(" AND (model_requested = ").arg(m).sql(" OR model = ").arg(m).sql(")")
	}
	for _, c := range []struct{ col, val string }{
		{"client_request_id", f.ClientRequestID},
		{"provider", f.Provider}, {"key_id", f.KeyID}, {"tenant_id", f.TenantID},
		{"team_id", f.TeamID}, {"cache_status", f.CacheStatus}, {"mirror_of", f.MirrorOf},
		{"node", f.Node},
	} {
		if c.val != "" {
			s.sql(" AND " + c.col + " = ").arg(shortText(c.val))
		}
	}
	switch f.Mirrors {
	case "":
	case MirrorsOnly:
		s.sql(" AND mirror_of <> ''")
	case MirrorsExclude:
		s.sql(" AND mirror_of = ''")
	default:
		return fmt.Errorf("%w: mirrors %q (want only or exclude)", ErrBadQuery, f.Mirrors)
	}
	if f.Status != 0 {
		s.sql(" AND status = ").arg(int64(f.Status))
	}
	if f.StatusClass != 0 {
		if f.StatusClass < 1 || f.StatusClass > 5 {
			return fmt.Errorf("%w: status class %d (want 1 to 5, e.g. 4 for 4xx)", ErrBadQuery, f.StatusClass)
		}
		lo := int64(f.StatusClass) * 100
		s.sql(" AND status >= ").arg(lo).sql(" AND status < ").arg(lo + 100)
	}
	// Sorted, so that one set of keys always yields one statement text.
	for _, k := range slices.Sorted(maps.Keys(f.Metadata)) {
		s.sql(" AND EXISTS (SELECT 1 FROM request_log_metadata m WHERE m.log_id = request_logs.id AND m.key = ").
			arg(cutText(k, MaxMetadataKey)).sql(" AND m.value = ").arg(cutText(f.Metadata[k], MaxMetadataValue)).sql(")")
	}
	return nil
}

// readTx begins a read-only transaction on the read pool that sees one
// snapshot for all its statements, so a record and its metadata are read
// consistently. The caller must end it (Rollback is fine).
func (db *DB) readTx(ctx context.Context) (*sql.Tx, error) {
	return db.r.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
}

// loadMetadata fills the Metadata of recs (all with distinct IDs) with
// one query in tx. Records without metadata keep a nil map.
func loadMetadata(ctx context.Context, tx *sql.Tx, d dialect, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	index := make(map[string]int, len(recs))
	ids := make([]any, len(recs))
	for i, r := range recs {
		index[r.ID] = i
		ids[i] = r.ID
	}
	s := d.stmt().sql("SELECT log_id, key, value FROM request_log_metadata WHERE log_id IN ").list(ids)
	rows, err := tx.QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
		r := &recs[index[id]]
		if r.Metadata == nil {
			r.Metadata = make(map[string]string)
		}
		r.Metadata[k] = v
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	return nil
}
