package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Key is an API key: a gateway (client) key when Role is "", an admin key
// otherwise. Only the SHA-256 of its secret is stored; the secret itself
// is shown once, by whoever made it, and never reaches the store.
//
// Text fields must be valid UTF-8 without NUL, and ID, Name, TenantID,
// TeamID and Prefix at most MaxEntityText bytes; lists and maps that are
// empty are stored as none and read back nil.
type Key struct {
	ID       string // "key_" + 20 random base32 chars; not secret. Set by the caller, unique.
	Name     string
	TenantID string // "" = the default tenant
	TeamID   string // "" = none
	Prefix   string // display prefix of the secret, e.g. "sk-sluice-AbCd" (first 14 chars)
	Hash     []byte // SHA-256 of the secret (32 bytes); unique
	// PrevHash is the previous secret's hash after a rotation, valid
	// until PrevUntil; nil (or empty) when there is none, else 32 bytes.
	PrevHash  []byte
	PrevUntil time.Time
	Role      string // "" for a gateway (client) key; "owner","admin","member","viewer" for admin keys
	// Policy is the key's own models, regions, limits and budget; its
	// team's and tenant's apply too.
	Policy
	AllowedCIDRs []string // not parsed by the store
	Metadata     map[string]string
	ExpiresAt    time.Time // zero = never
	// CreatedAt and UpdatedAt are set by the store from its clock.
	CreatedAt, UpdatedAt time.Time
	// LastUsedAt is written by CreateKey and TouchKeys only.
	LastUsedAt time.Time
	Disabled   bool // revoked
}

// Roles a Key may have; "" is a gateway key.
var keyRoles = []string{"", "owner", "admin", "member", "viewer"}

// Budget periods a Key may have; "" is none.
var budgetPeriods = []string{"", "daily", "weekly", "monthly", "total"}

// checkKey reports why k cannot be stored, wrapping ErrBadRecord.
func checkKey(k *Key) error {
	for _, f := range []struct {
		name, val string
		required  bool
	}{
		{"ID", k.ID, true}, {"name", k.Name, false}, {"tenant ID", k.TenantID, false},
		{"team ID", k.TeamID, false}, {"prefix", k.Prefix, false},
	} {
		if err := checkEntityText(f.name, f.val, f.required); err != nil {
			return err
		}
	}
	switch {
	case len(k.Hash) != sha256.Size:
		return fmt.Errorf("%w: hash is %d bytes, want %d", ErrBadRecord, len(k.Hash), sha256.Size)
	case len(k.PrevHash) != 0 && len(k.PrevHash) != sha256.Size:
		return fmt.Errorf("%w: previous hash is %d bytes, want 0 or %d", ErrBadRecord, len(k.PrevHash), sha256.Size)
	case !slices.Contains(keyRoles, k.Role):
		return fmt.Errorf("%w: role %q (want one of %q)", ErrBadRecord, k.Role, keyRoles[1:])
	}
	if err := checkPolicy(&k.Policy); err != nil {
		return err
	}
	for _, c := range k.AllowedCIDRs {
		if err := checkText("allowed CIDR", c); err != nil {
			return err
		}
	}
	return checkMap("metadata", k.Metadata)
}

// keyColumns are api_keys' columns in the order scanKey reads them and
// CreateKey writes them: id, keyFieldColumns, then the times and
// disabled.
const keyColumns = "id, name, tenant_id, team_id, prefix, hash, prev_hash, prev_until_us, role, " +
	policyColumns + ", allowed_cidrs, metadata, expires_us, created_us, updated_us, last_used_us, disabled"

// keyArgs returns k's values for keyFieldColumns, in order.
func keyArgs(k *Key) []any {
	return slices.Concat([]any{
		k.Name, k.TenantID, k.TeamID, k.Prefix, k.Hash, nilIfEmpty(k.PrevHash), timeUS(k.PrevUntil), k.Role,
	}, policyArgs(&k.Policy), []any{listColumn(k.AllowedCIDRs), mapColumn(k.Metadata), timeUS(k.ExpiresAt)})
}

// keyFieldColumns are the columns keyArgs' fields go to, in order.
var keyFieldColumns = slices.Concat(
	[]string{"name", "tenant_id", "team_id", "prefix", "hash", "prev_hash", "prev_until_us", "role"},
	policyColumnList, []string{"allowed_cidrs", "metadata", "expires_us"})

func scanKey(row rowScanner) (Key, error) {
	var (
		k                                      Key
		cidrs, meta                            sql.NullString
		ps                                     policyScan
		prevUntil, expires, created, upd, used int64
	)
	err := row.Scan(slices.Concat([]any{&k.ID, &k.Name, &k.TenantID, &k.TeamID, &k.Prefix, &k.Hash, &k.PrevHash,
		&prevUntil, &k.Role}, ps.dest(&k.Policy), []any{&cidrs, &meta, &expires, &created, &upd, &used, &k.Disabled})...)
	if err != nil {
		return Key{}, err
	}
	k.PrevUntil, k.ExpiresAt = fromUS(prevUntil), fromUS(expires)
	k.CreatedAt, k.UpdatedAt, k.LastUsedAt = fromUS(created), fromUS(upd), fromUS(used)
	if len(k.PrevHash) == 0 {
		k.PrevHash = nil
	}
	for _, c := range []struct {
		name string
		src  sql.NullString
		dst  any
	}{{"allowed CIDRs", cidrs, &k.AllowedCIDRs}, {"metadata", meta, &k.Metadata}} {
		if err := scanJSON(c.name, c.src, c.dst); err != nil {
			return Key{}, fmt.Errorf("key %q: %w", k.ID, err)
		}
	}
	if err := ps.finish(&k.Policy); err != nil {
		return Key{}, fmt.Errorf("key %q: %w", k.ID, err)
	}
	return k, nil
}

// checkHashesFree fails with ErrConflict when k's Hash is another key's
// PrevHash or k's PrevHash is another key's Hash or PrevHash — the cases
// the unique indexes (Hash against Hash, PrevHash against PrevHash) do
// not cover — so that a secret always identifies one key.
func checkHashesFree(ctx context.Context, tx *sql.Tx, d dialect, k *Key) error {
	s := d.stmt().sql("SELECT EXISTS (SELECT 1 FROM api_keys WHERE id <> ").arg(k.ID).
		sql(" AND (prev_hash = ").arg(k.Hash)
	if len(k.PrevHash) > 0 {
		s.sql(" OR hash = ").arg(k.PrevHash).sql(" OR prev_hash = ").arg(k.PrevHash)
	}
	s.sql("))")
	return refuseIfNamed(ctx, tx, s, "another key has this hash")
}

// CreateKey stores k, sets its CreatedAt and UpdatedAt, and forgets a
// deletion of a key with the same ID (see KeysChangedSince). A taken ID
// or a hash another key has (as Hash or PrevHash) fails with an error
// wrapping ErrConflict; an invalid k with one wrapping ErrBadRecord.
func (db *DB) CreateKey(ctx context.Context, k *Key) error {
	if err := checkKey(k); err != nil {
		return fmt.Errorf("store: create key %q: %w", k.ID, err)
	}
	now := db.nowUS()
	vals := append([]any{k.ID}, keyArgs(k)...)
	vals = append(vals, now, now, timeUS(k.LastUsedAt), k.Disabled)
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		if err := checkHashesFree(ctx, tx, db.d, k); err != nil {
			return err
		}
		s := db.d.stmt().sql("INSERT INTO api_keys (" + keyColumns + ") VALUES ").list(vals)
		if _, err := tx.ExecContext(ctx, s.String(), s.args...); err != nil {
			return markConflict(err)
		}
		s = db.d.stmt().sql("DELETE FROM api_key_tombstones WHERE id = ").arg(k.ID)
		_, err := tx.ExecContext(ctx, s.String(), s.args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create key %q: %w", k.ID, err)
	}
	k.CreatedAt, k.UpdatedAt = fromUS(now), fromUS(now)
	return nil
}

// GetKey returns the key with id, or an error wrapping ErrNotFound.
func (db *DB) GetKey(ctx context.Context, id string) (Key, error) {
	if checkText("ID", id) != nil {
		return Key{}, fmt.Errorf("store: get key %q: %w", id, ErrNotFound)
	}
	s := db.d.stmt().sql("SELECT " + keyColumns + " FROM api_keys WHERE id = ").arg(id)
	k, err := scanKey(db.r.QueryRowContext(ctx, s.String(), s.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, fmt.Errorf("store: get key %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Key{}, fmt.Errorf("store: get key %q: %w", id, err)
	}
	return k, nil
}

// KeyByHash returns the key whose Hash is hash, or whose PrevHash is hash
// while its PrevUntil is after the store's clock; otherwise an error
// wrapping ErrNotFound. Disabled and expired keys are returned like any
// other: the caller decides what they may do. Errors never show hash.
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (Key, error) {
	if len(hash) != sha256.Size {
		return Key{}, fmt.Errorf("store: key by hash: %w", ErrNotFound)
	}
	s := db.d.stmt().sql("SELECT " + keyColumns + " FROM api_keys WHERE hash = ").arg(hash).
		sql(" OR (prev_hash = ").arg(hash).sql(" AND prev_until_us > ").arg(db.nowUS()).
		sql(") ORDER BY CASE WHEN hash = ").arg(hash).sql(" THEN 0 ELSE 1 END LIMIT 1")
	k, err := scanKey(db.r.QueryRowContext(ctx, s.String(), s.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, fmt.Errorf("store: key by hash: %w", ErrNotFound)
	}
	if err != nil {
		return Key{}, fmt.Errorf("store: key by hash: %w", err)
	}
	return k, nil
}

// UpdateKey replaces every field of the key with k.ID except CreatedAt
// and LastUsedAt, sets k.UpdatedAt to now and k.CreatedAt and
// k.LastUsedAt to the stored values. Rotating a secret is an update of
// Hash, PrevHash and PrevUntil. An absent key fails with an error
// wrapping ErrNotFound; a hash another key has with one wrapping
// ErrConflict; an invalid k with one wrapping ErrBadRecord.
func (db *DB) UpdateKey(ctx context.Context, k *Key) error {
	if err := checkKey(k); err != nil {
		return fmt.Errorf("store: update key %q: %w", k.ID, err)
	}
	now := db.nowUS()
	fields := keyArgs(k)
	var created, used int64
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		if err := checkHashesFree(ctx, tx, db.d, k); err != nil {
			return err
		}
		s := db.d.stmt().sql("UPDATE api_keys SET ")
		for i, col := range keyFieldColumns {
			s.sql(col + " = ").arg(fields[i]).sql(", ")
		}
		s.sql("disabled = ").arg(k.Disabled).sql(", updated_us = ").arg(now).
			sql(" WHERE id = ").arg(k.ID).sql(" RETURNING created_us, last_used_us")
		err := tx.QueryRowContext(ctx, s.String(), s.args...).Scan(&created, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return markConflict(err)
	})
	if err != nil {
		return fmt.Errorf("store: update key %q: %w", k.ID, err)
	}
	k.CreatedAt, k.UpdatedAt, k.LastUsedAt = fromUS(created), fromUS(now), fromUS(used)
	return nil
}

// DeleteKey deletes the key with id and records the deletion for
// KeysChangedSince. An absent key fails with an error wrapping
// ErrNotFound.
func (db *DB) DeleteKey(ctx context.Context, id string) error {
	if checkText("ID", id) != nil {
		return fmt.Errorf("store: delete key %q: %w", id, ErrNotFound)
	}
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		var (
			tenant, team   string
			hash, prevHash []byte
		)
		s := db.d.stmt().sql("DELETE FROM api_keys WHERE id = ").arg(id).sql(" RETURNING tenant_id, team_id, hash, prev_hash")
		err := tx.QueryRowContext(ctx, s.String(), s.args...).Scan(&tenant, &team, &hash, &prevHash)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		s = db.d.stmt().sql("INSERT INTO api_key_tombstones (id, tenant_id, team_id, hash, prev_hash, deleted_us) VALUES ").
			list([]any{id, tenant, team, hash, nilIfEmpty(prevHash), db.nowUS()}).
			sql(" ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, team_id = excluded.team_id," +
				" hash = excluded.hash, prev_hash = excluded.prev_hash, deleted_us = excluded.deleted_us")
		_, err = tx.ExecContext(ctx, s.String(), s.args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete key %q: %w", id, err)
	}
	return nil
}
