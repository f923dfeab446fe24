package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Credential is a provider API key kept in the vault: its secret sealed
// (see internal/vault), never in clear. The store neither seals nor opens
// it; it keeps the bytes it is given.
//
// Text fields must be valid UTF-8 without NUL; ID, Provider and Name at
// most MaxEntityText bytes.
type Credential struct {
	// ID is set by the caller ("cred_" + random), unique, never changed.
	ID string
	// Provider is the configured provider's name the key is for;
	// required. It is fixed at creation (the sealed value is bound to
	// it): UpdateCredential keeps the stored one.
	Provider string
	Name     string
	// Sealed is the sealed secret: nonce || ciphertext || tag. Required,
	// at most MaxSealedCredential bytes.
	Sealed []byte
	// MasterID is the fingerprint of the master key that sealed it (never
	// the key), at most 64 bytes.
	MasterID string
	// Last4 is all an API ever shows of the secret, at most 16 bytes.
	Last4 string
	// Weight is the key's share under weighted selection: 1 to
	// MaxCredentialWeight.
	Weight int64
	// Disabled keys are not used; DisabledReason (at most 1,024 bytes)
	// says why, e.g. the upstream's 401.
	Disabled       bool
	DisabledReason string
	// CreatedAt and UpdatedAt are set by the store from its clock.
	CreatedAt, UpdatedAt time.Time
}

// Bounds of a Credential.
const (
	MaxSealedCredential = 16 << 10
	MaxCredentialWeight = 1_000_000
	maxCredentialReason = 1024
)

// checkCredential reports why c cannot be stored, wrapping ErrBadRecord.
func checkCredential(c *Credential) error {
	for _, f := range []struct {
		name, val string
		max       int
		required  bool
	}{
		{"ID", c.ID, MaxEntityText, true}, {"provider", c.Provider, MaxEntityText, true},
		{"name", c.Name, MaxEntityText, false}, {"master ID", c.MasterID, 64, false},
		{"last4", c.Last4, 16, false}, {"disabled reason", c.DisabledReason, maxCredentialReason, false},
	} {
		switch {
		case f.required && f.val == "":
			return fmt.Errorf("%w: %s is empty", ErrBadRecord, f.name)
		case len(f.val) > f.max:
			return fmt.Errorf("%w: %s is longer than %d bytes", ErrBadRecord, f.name, f.max)
		}
		if err := checkText(f.name, f.val); err != nil {
			return err
		}
	}
	switch {
	case len(c.Sealed) == 0:
		return fmt.Errorf("%w: the sealed secret is empty", ErrBadRecord)
	case len(c.Sealed) > MaxSealedCredential:
		return fmt.Errorf("%w: the sealed secret is longer than %d bytes", ErrBadRecord, MaxSealedCredential)
	case c.Weight < 1 || c.Weight > MaxCredentialWeight:
		return fmt.Errorf("%w: weight %d is not from 1 to %d", ErrBadRecord, c.Weight, MaxCredentialWeight)
	}
	return nil
}

// credentialColumns are provider_credentials' columns in the order
// scanCredential reads them.
const credentialColumns = "id, provider, name, sealed, master_id, last4, weight, disabled, disabled_reason, created_us, updated_us"

func scanCredential(row rowScanner) (Credential, error) {
	var (
		c                Credential
		disabled         int64
		created, updated int64
	)
	err := row.Scan(&c.ID, &c.Provider, &c.Name, &c.Sealed, &c.MasterID, &c.Last4, &c.Weight,
		&disabled, &c.DisabledReason, &created, &updated)
	if err != nil {
		return Credential{}, err
	}
	c.Disabled = disabled != 0
	c.CreatedAt, c.UpdatedAt = fromUS(created), fromUS(updated)
	return c, nil
}

// credFlag is b as the 0 or 1 the INTEGER/BIGINT disabled column holds.
func credFlag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// CreateCredential stores c and sets its CreatedAt and UpdatedAt. A taken
// ID fails with an error wrapping ErrConflict; an invalid c with one
// wrapping ErrBadRecord.
func (db *DB) CreateCredential(ctx context.Context, c *Credential) error {
	if err := checkCredential(c); err != nil {
		return fmt.Errorf("store: create credential %q: %w", c.ID, err)
	}
	now := db.nowUS()
	s := db.d.stmt().sql("INSERT INTO provider_credentials (" + credentialColumns + ") VALUES ").
		list([]any{c.ID, c.Provider, c.Name, c.Sealed, c.MasterID, c.Last4, c.Weight,
			credFlag(c.Disabled), c.DisabledReason, now, now})
	if _, err := db.w.ExecContext(ctx, s.String(), s.args...); err != nil {
		return fmt.Errorf("store: create credential %q: %w", c.ID, markBadRecord(markConflict(err)))
	}
	c.CreatedAt, c.UpdatedAt = fromUS(now), fromUS(now)
	return nil
}

// GetCredential returns the credential with id, or an error wrapping
// ErrNotFound.
func (db *DB) GetCredential(ctx context.Context, id string) (Credential, error) {
	if checkText("ID", id) != nil {
		return Credential{}, fmt.Errorf("store: get credential %q: %w", id, ErrNotFound)
	}
	s := db.d.stmt().sql("SELECT " + credentialColumns + " FROM provider_credentials WHERE id = ").arg(id)
	c, err := scanCredential(db.r.QueryRowContext(ctx, s.String(), s.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Credential{}, fmt.Errorf("store: get credential %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Credential{}, fmt.Errorf("store: get credential %q: %w", id, err)
	}
	return c, nil
}

// ListCredentials returns the credentials of provider ("" = every
// provider), disabled ones included, newest first (CreatedAt, then ID,
// descending). There are few per installation: no paging.
func (db *DB) ListCredentials(ctx context.Context, provider string) ([]Credential, error) {
	s := db.d.stmt().sql("SELECT " + credentialColumns + " FROM provider_credentials")
	if provider != "" {
		if checkText("provider", provider) != nil {
			return nil, nil // no credential can hold such text
		}
		s.sql(" WHERE provider = ").arg(provider)
	}
	s.sql(" ORDER BY created_us DESC, id DESC")
	cs, err := db.queryCredentials(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("store: list credentials: %w", err)
	}
	return cs, nil
}

// ListAllCredentials returns every credential, disabled ones included, by
// provider, then oldest first: what a cache of usable keys loads and
// refreshes from.
func (db *DB) ListAllCredentials(ctx context.Context) ([]Credential, error) {
	s := db.d.stmt().sql("SELECT " + credentialColumns + " FROM provider_credentials ORDER BY provider, created_us, id")
	cs, err := db.queryCredentials(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("store: list all credentials: %w", err)
	}
	return cs, nil
}

func (db *DB) queryCredentials(ctx context.Context, s *stmt) ([]Credential, error) {
	rows, err := db.r.QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []Credential
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// UpdateCredential replaces the Name, Sealed, MasterID, Last4, Weight,
// Disabled and DisabledReason of the credential with c.ID, sets
// c.UpdatedAt to now, and c.Provider and c.CreatedAt to the stored values
// (a credential's provider never changes; c.Provider is checked like
// CreateCredential's, then ignored). An absent credential fails
// with an error wrapping ErrNotFound; an invalid c with one wrapping
// ErrBadRecord. It overwrites whatever is stored: a read-change-write
// uses UpdateCredentialIf.
func (db *DB) UpdateCredential(ctx context.Context, c *Credential) error {
	return db.UpdateCredentialIf(ctx, c, nil)
}

// UpdateCredentialIf is UpdateCredential done only while the stored
// credential is still prev, the version the caller read (same UpdatedAt,
// Disabled and Sealed; prev nil: whatever is stored). One changed since
// (disabled by the gateway, rotated, edited) is left as it is and the
// call fails with an error wrapping ErrConflict: the check and the write
// are one statement, so no change committed in between is lost.
func (db *DB) UpdateCredentialIf(ctx context.Context, c *Credential, prev *Credential) error {
	if err := checkCredential(c); err != nil {
		return fmt.Errorf("store: update credential %q: %w", c.ID, err)
	}
	now := db.nowUS()
	s := db.d.stmt().sql("UPDATE provider_credentials SET name = ").arg(c.Name).
		sql(", sealed = ").arg(c.Sealed).
		sql(", master_id = ").arg(c.MasterID).
		sql(", last4 = ").arg(c.Last4).
		sql(", weight = ").arg(c.Weight).
		sql(", disabled = ").arg(credFlag(c.Disabled)).
		sql(", disabled_reason = ").arg(c.DisabledReason).
		sql(", updated_us = ").arg(now).
		sql(" WHERE id = ").arg(c.ID)
	if prev != nil {
		s.sql(" AND updated_us = ").arg(timeUS(prev.UpdatedAt)).
			sql(" AND disabled = ").arg(credFlag(prev.Disabled)).
			sql(" AND sealed = ").arg(prev.Sealed)
	}
	s.sql(" RETURNING provider, created_us")
	var (
		provider string
		created  int64
	)
	err := db.w.QueryRowContext(ctx, s.String(), s.args...).Scan(&provider, &created)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
		if prev != nil && db.credentialExists(ctx, c.ID) {
			err = fmt.Errorf("%w: the credential changed since it was read", ErrConflict)
		}
		return fmt.Errorf("store: update credential %q: %w", c.ID, err)
	}
	if err != nil {
		return fmt.Errorf("store: update credential %q: %w", c.ID, markBadRecord(err))
	}
	c.Provider, c.CreatedAt, c.UpdatedAt = provider, fromUS(created), fromUS(now)
	return nil
}

// credentialExists reports whether a credential with id is stored; a
// failing read counts as stored (the caller then reports a conflict, not
// an absence).
func (db *DB) credentialExists(ctx context.Context, id string) bool {
	s := db.d.stmt().sql("SELECT 1 FROM provider_credentials WHERE id = ").arg(id)
	var one int
	return !errors.Is(db.w.QueryRowContext(ctx, s.String(), s.args...).Scan(&one), sql.ErrNoRows)
}

// DisableCredential disables the credential with id, recording reason,
// and returns it as stored. When ifUpdatedAt is not zero, only the
// version of the credential last updated then is disabled: one changed
// since (rotated, re-enabled) fails with an error wrapping ErrConflict
// and is left as it is, so that a verdict on an old secret never
// disables a new one. The check and the write are one conditional
// UPDATE, so a change committed by another writer between a read and the
// write cannot be overwritten (PostgreSQL re-checks the condition on the
// row it waited for). An absent credential fails with an error wrapping
// ErrNotFound. A credential already disabled keeps its first reason.
// reason is cleaned and cut to 1,024 bytes, never refused.
func (db *DB) DisableCredential(ctx context.Context, id, reason string, ifUpdatedAt time.Time) (Credential, error) {
	reason = cutText(reason, maxCredentialReason)
	if checkText("ID", id) != nil {
		return Credential{}, fmt.Errorf("store: disable credential %q: %w", id, ErrNotFound)
	}
	s := db.d.stmt().sql("UPDATE provider_credentials SET disabled = ").arg(credFlag(true)).
		sql(", disabled_reason = ").arg(reason).sql(", updated_us = ").arg(db.nowUS()).
		sql(" WHERE id = ").arg(id).sql(" AND disabled = ").arg(credFlag(false))
	if !ifUpdatedAt.IsZero() {
		s.sql(" AND updated_us = ").arg(timeUS(ifUpdatedAt))
	}
	s.sql(" RETURNING " + credentialColumns)
	c, err := scanCredential(db.w.QueryRowContext(ctx, s.String(), s.args...))
	if errors.Is(err, sql.ErrNoRows) {
		// Nothing written: absent, changed since, or disabled already.
		q := db.d.stmt().sql("SELECT " + credentialColumns + " FROM provider_credentials WHERE id = ").arg(id)
		c, err = scanCredential(db.w.QueryRowContext(ctx, q.String(), q.args...))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			err = ErrNotFound
		case err != nil:
		case !ifUpdatedAt.IsZero() && timeUS(c.UpdatedAt) != timeUS(ifUpdatedAt),
			!c.Disabled: // re-enabled between the two statements
			err = fmt.Errorf("%w: the credential changed since", ErrConflict)
		}
	}
	if err != nil {
		return Credential{}, fmt.Errorf("store: disable credential %q: %w", id, err)
	}
	return c, nil
}

// DeleteCredential deletes the credential with id. An absent credential
// fails with an error wrapping ErrNotFound.
func (db *DB) DeleteCredential(ctx context.Context, id string) error {
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		return deleteByID(ctx, tx, db.d, "provider_credentials", id)
	})
	if err != nil {
		return fmt.Errorf("store: delete credential %q: %w", id, err)
	}
	return nil
}
