package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Tenant is an organisation served by the gateway, the root of the
// tenant → team → key tree. The default tenant (TenantID "" on teams and
// keys) is implicit and has no Tenant row.
type Tenant struct {
	// ID is set by the caller: 1 to MaxEntityText bytes of UTF-8 text
	// without NUL, unique among tenants, never changed.
	ID string
	// Name is unique among tenants (compared byte for byte); same text
	// rules as ID.
	Name string
	// Metadata is free-form; an empty map is stored as none and reads
	// back nil.
	Metadata map[string]string
	// Policy applies to every key and team of the tenant.
	Policy
	// CreatedAt and UpdatedAt are set by the store from its clock (UTC,
	// microsecond precision); values given by the caller are ignored.
	CreatedAt, UpdatedAt time.Time
	Disabled             bool
}

// checkTenant reports why t cannot be stored, wrapping ErrBadRecord.
func checkTenant(t *Tenant) error {
	if err := checkEntityText("ID", t.ID, true); err != nil {
		return err
	}
	if err := checkEntityText("name", t.Name, true); err != nil {
		return err
	}
	if err := checkPolicy(&t.Policy); err != nil {
		return err
	}
	return checkMap("metadata", t.Metadata)
}

const tenantColumns = "id, name, metadata, " + policyColumns + ", created_us, updated_us, disabled"

func scanTenant(row rowScanner) (Tenant, error) {
	var (
		t                Tenant
		meta             sql.NullString
		ps               policyScan
		created, updated int64
	)
	dest := append([]any{&t.ID, &t.Name, &meta}, ps.dest(&t.Policy)...)
	if err := row.Scan(append(dest, &created, &updated, &t.Disabled)...); err != nil {
		return Tenant{}, err
	}
	t.CreatedAt, t.UpdatedAt = fromUS(created), fromUS(updated)
	if err := scanJSON("metadata", meta, &t.Metadata); err != nil {
		return Tenant{}, fmt.Errorf("tenant %q: %w", t.ID, err)
	}
	if err := ps.finish(&t.Policy); err != nil {
		return Tenant{}, fmt.Errorf("tenant %q: %w", t.ID, err)
	}
	return t, nil
}

// CreateTenant stores t and sets its CreatedAt and UpdatedAt. A taken ID
// or Name fails with an error wrapping ErrConflict; an invalid t with one
// wrapping ErrBadRecord.
func (db *DB) CreateTenant(ctx context.Context, t *Tenant) error {
	if err := checkTenant(t); err != nil {
		return fmt.Errorf("store: create tenant %q: %w", t.ID, err)
	}
	now := db.nowUS()
	s := db.d.stmt().sql("INSERT INTO tenants (" + tenantColumns + ") VALUES ").
		list(slices.Concat([]any{t.ID, t.Name, mapColumn(t.Metadata)}, policyArgs(&t.Policy),
			[]any{now, now, t.Disabled}))
	if _, err := db.w.ExecContext(ctx, s.String(), s.args...); err != nil {
		return fmt.Errorf("store: create tenant %q: %w", t.ID, markConflict(err))
	}
	t.CreatedAt, t.UpdatedAt = fromUS(now), fromUS(now)
	return nil
}

// GetTenant returns the tenant with id, or an error wrapping ErrNotFound.
func (db *DB) GetTenant(ctx context.Context, id string) (Tenant, error) {
	if checkText("ID", id) != nil { // no such tenant can have been stored
		return Tenant{}, fmt.Errorf("store: get tenant %q: %w", id, ErrNotFound)
	}
	s := db.d.stmt().sql("SELECT " + tenantColumns + " FROM tenants WHERE id = ").arg(id)
	t, err := scanTenant(db.r.QueryRowContext(ctx, s.String(), s.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Tenant{}, fmt.Errorf("store: get tenant %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("store: get tenant %q: %w", id, err)
	}
	return t, nil
}

// ListTenants returns every tenant, disabled ones included, by Name.
func (db *DB) ListTenants(ctx context.Context) ([]Tenant, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+tenantColumns+" FROM tenants ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: list tenants: %w", err)
	}
	defer rows.Close()
	var ts []Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list tenants: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list tenants: %w", err)
	}
	return ts, nil
}

// UpdateTenant replaces the Name, Metadata, Policy and Disabled of the tenant
// with t.ID, sets t.UpdatedAt to now and t.CreatedAt to the stored
// value. An absent tenant fails with an error wrapping ErrNotFound; a
// Name taken by another tenant with one wrapping ErrConflict.
func (db *DB) UpdateTenant(ctx context.Context, t *Tenant) error {
	if err := checkTenant(t); err != nil {
		return fmt.Errorf("store: update tenant %q: %w", t.ID, err)
	}
	now := db.nowUS()
	s := db.d.stmt().sql("UPDATE tenants SET name = ").arg(t.Name).
		sql(", metadata = ").arg(mapColumn(t.Metadata))
	setPolicy(s, &t.Policy)
	s.sql(", disabled = ").arg(t.Disabled).
		sql(", updated_us = ").arg(now).
		sql(" WHERE id = ").arg(t.ID).sql(" RETURNING created_us")
	var created int64
	err := db.w.QueryRowContext(ctx, s.String(), s.args...).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: update tenant %q: %w", t.ID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: update tenant %q: %w", t.ID, markConflict(err))
	}
	t.CreatedAt, t.UpdatedAt = fromUS(created), fromUS(now)
	return nil
}

// DeleteTenant deletes the tenant with id. An absent tenant fails with
// an error wrapping ErrNotFound; a tenant that teams or keys (disabled
// ones included) still name with one wrapping ErrConflict, and is kept:
// delete or move those first.
func (db *DB) DeleteTenant(ctx context.Context, id string) error {
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		if err := deleteByID(ctx, tx, db.d, "tenants", id); err != nil {
			return err
		}
		s := db.d.stmt().sql("SELECT EXISTS (SELECT 1 FROM teams WHERE tenant_id = ").arg(id).
			sql(") OR EXISTS (SELECT 1 FROM api_keys WHERE tenant_id = ").arg(id).sql(")")
		return refuseIfNamed(ctx, tx, s, "teams or keys name it")
	})
	if err != nil {
		return fmt.Errorf("store: delete tenant %q: %w", id, err)
	}
	return nil
}

// deleteByID deletes the row of table with id in tx, or returns
// ErrNotFound when there is none.
func deleteByID(ctx context.Context, tx *sql.Tx, d dialect, table, id string) error {
	if checkText("ID", id) != nil {
		return ErrNotFound
	}
	s := d.stmt().sql("DELETE FROM " + table + " WHERE id = ").arg(id)
	res, err := tx.ExecContext(ctx, s.String(), s.args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// refuseIfNamed runs s, a query for one boolean, in tx and returns an
// error wrapping ErrConflict with why when it is true.
func refuseIfNamed(ctx context.Context, tx *sql.Tx, s *stmt, why string) error {
	var named bool
	if err := tx.QueryRowContext(ctx, s.String(), s.args...).Scan(&named); err != nil {
		return err
	}
	if named {
		return fmt.Errorf("%w: %s", ErrConflict, why)
	}
	return nil
}
