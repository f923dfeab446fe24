package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// KeyFilter selects keys for ListKeys. Zero fields do not filter, so a
// TenantID of "" means every tenant (not the default tenant alone).
type KeyFilter struct {
	TenantID, TeamID string
	Role             *string // nil: any role; pointing to "": gateway keys only
	IncludeDisabled  bool    // false: revoked keys are left out
	Limit            int     // page size: 0 means 50, more than 1,000 means 1,000
	Cursor           string  // continues after a previous page's last key
}

// ListKeys returns the keys matching f, newest first (CreatedAt desc,
// then ID desc), and a cursor for the next page, empty after the last. A
// cursor this store did not issue fails with an error wrapping
// ErrBadCursor; a negative Limit with one wrapping ErrBadQuery.
func (db *DB) ListKeys(ctx context.Context, f KeyFilter) ([]Key, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", fmt.Errorf("store: list keys: %w", err)
	}
	s := db.d.stmt().sql("SELECT " + keyColumns + " FROM api_keys WHERE 1=1")
	eq := map[string]string{}
	if f.TenantID != "" {
		eq["tenant_id"] = f.TenantID
	}
	if f.TeamID != "" {
		eq["team_id"] = f.TeamID
	}
	if f.Role != nil {
		eq["role"] = *f.Role
	}
	for _, col := range slices.Sorted(maps.Keys(eq)) { // one statement text per filter shape
		if checkText(col, eq[col]) != nil {
			return nil, "", nil // no key can hold such text
		}
		s.sql(" AND " + col + " = ").arg(eq[col])
	}
	if !f.IncludeDisabled {
		s.sql(" AND disabled = ").arg(false)
	}
	if f.Cursor != "" {
		t, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("store: list keys: %w", err)
		}
		s.sql(" AND (created_us < ").arg(t).sql(" OR (created_us = ").arg(t).sql(" AND id < ").arg(id).sql("))")
	}
	s.sql(" ORDER BY created_us DESC, id DESC LIMIT ").arg(int64(limit + 1))
	keys, err := db.queryKeys(ctx, db.r, s)
	if err != nil {
		return nil, "", fmt.Errorf("store: list keys: %w", err)
	}
	var next string
	if len(keys) > limit {
		keys = keys[:limit]
		last := keys[limit-1]
		next = encodeCursor(timeUS(last.CreatedAt), last.ID)
	}
	return keys, next, nil
}

// pageLimit applies the page-size rules of QueryLogs to limit.
func pageLimit(limit int) (int, error) {
	switch {
	case limit < 0:
		return 0, fmt.Errorf("%w: negative limit %d", ErrBadQuery, limit)
	case limit == 0:
		return defaultPageSize, nil
	}
	return min(limit, maxPageSize), nil
}

// queryKeys runs s, a SELECT of keyColumns, on q.
func (db *DB) queryKeys(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, s *stmt) ([]Key, error) {
	rows, err := q.QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// KeysChangedSince returns, for refreshing a cache of keys, every key
// created or updated at or after since (disabled ones included) and
// every key deleted at or after since, ordered by UpdatedAt then ID. A
// deleted key comes as a Key holding only its ID, TenantID, TeamID,
// Hash, PrevHash, UpdatedAt (the deletion time) and Disabled (true); its
// CreatedAt is zero, which no stored key's is. A zero since returns
// everything. TouchKeys does not count as a change.
//
// Times come from the clocks of the processes that wrote, and are taken
// before the write commits: a caller polling should ask for changes
// since a little before its previous call (a few seconds), not since
// exactly then.
func (db *DB) KeysChangedSince(ctx context.Context, since time.Time) ([]Key, error) {
	us := timeUS(since)
	tx, err := db.readTx(ctx) // one snapshot for both tables
	if err != nil {
		return nil, fmt.Errorf("store: keys changed since: %w", err)
	}
	defer tx.Rollback()
	s := db.d.stmt().sql("SELECT " + keyColumns + " FROM api_keys WHERE updated_us >= ").arg(us)
	keys, err := db.queryKeys(ctx, tx, s)
	if err != nil {
		return nil, fmt.Errorf("store: keys changed since: %w", err)
	}
	s = db.d.stmt().sql("SELECT id, tenant_id, team_id, hash, prev_hash, deleted_us FROM api_key_tombstones WHERE deleted_us >= ").arg(us)
	rows, err := tx.QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("store: keys changed since: deleted: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		k := Key{Disabled: true}
		var deleted int64
		if err := rows.Scan(&k.ID, &k.TenantID, &k.TeamID, &k.Hash, &k.PrevHash, &deleted); err != nil {
			return nil, fmt.Errorf("store: keys changed since: deleted: %w", err)
		}
		if len(k.PrevHash) == 0 {
			k.PrevHash = nil
		}
		k.UpdatedAt = fromUS(deleted)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: keys changed since: deleted: %w", err)
	}
	slices.SortFunc(keys, func(a, b Key) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), strings.Compare(a.ID, b.ID))
	})
	return keys, nil
}

// touchChunk is the most keys one TouchKeys statement updates.
const touchChunk = 200

// TouchKeys sets the LastUsedAt of each key of lastUsed (key ID → time)
// that exists, in one transaction, off the request path. A time only
// ever moves LastUsedAt forward; zero times and unknown IDs are skipped.
// UpdatedAt is left alone, so touched keys are not "changed" for
// KeysChangedSince. lastUsed is not retained.
func (db *DB) TouchKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	ids := make([]string, 0, len(lastUsed))
	for id, t := range lastUsed {
		if !t.IsZero() && checkText("ID", id) == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids) // one lock order for concurrent touches on PostgreSQL
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		for chunk := range slices.Chunk(ids, touchChunk) {
			// CASTs type the VALUES columns on PostgreSQL, whose
			// parameters there would otherwise be text.
			s := db.d.stmt().sql("UPDATE api_keys SET last_used_us = v.column2 FROM (VALUES ")
			for i, id := range chunk {
				if i > 0 {
					s.sql(", ")
				}
				s.sql("(CAST(").arg(id).sql(" AS TEXT), CAST(").arg(lastUsed[id].UnixMicro()).sql(" AS BIGINT))")
			}
			s.sql(") AS v WHERE api_keys.id = v.column1 AND api_keys.last_used_us < v.column2")
			if _, err := tx.ExecContext(ctx, s.String(), s.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: touch keys: %w", err)
	}
	return nil
}

// CountKeys returns how many keys are stored: gateway and admin keys,
// disabled and expired ones included.
func (db *DB) CountKeys(ctx context.Context) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM api_keys").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count keys: %w", err)
	}
	return n, nil
}
