package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Team is a group of keys within a tenant, sharing limits and budgets.
type Team struct {
	// ID is set by the caller: 1 to MaxEntityText bytes of UTF-8 text
	// without NUL, unique among all teams (not only the tenant's).
	ID string
	// TenantID names the team's tenant; "" is the default tenant. It is
	// not checked against the tenants table: the caller validates it.
	TenantID string
	// Name is unique among the tenant's teams (byte for byte).
	Name string
	// Metadata is free-form; an empty map reads back nil.
	Metadata map[string]string
	// Policy applies to every key of the team, on top of the key's own
	// and the tenant's.
	Policy
	// CreatedAt and UpdatedAt are set by the store (UTC, microseconds).
	CreatedAt, UpdatedAt time.Time
	Disabled             bool
}

// checkTeam reports why t cannot be stored, wrapping ErrBadRecord.
func checkTeam(t *Team) error {
	if err := checkEntityText("ID", t.ID, true); err != nil {
		return err
	}
	if err := checkEntityText("tenant ID", t.TenantID, false); err != nil {
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

const teamColumns = "id, tenant_id, name, metadata, " + policyColumns + ", created_us, updated_us, disabled"

func scanTeam(row rowScanner) (Team, error) {
	var (
		t                Team
		meta             sql.NullString
		ps               policyScan
		created, updated int64
	)
	dest := append([]any{&t.ID, &t.TenantID, &t.Name, &meta}, ps.dest(&t.Policy)...)
	if err := row.Scan(append(dest, &created, &updated, &t.Disabled)...); err != nil {
		return Team{}, err
	}
	t.CreatedAt, t.UpdatedAt = fromUS(created), fromUS(updated)
	if err := scanJSON("metadata", meta, &t.Metadata); err != nil {
		return Team{}, fmt.Errorf("team %q: %w", t.ID, err)
	}
	if err := ps.finish(&t.Policy); err != nil {
		return Team{}, fmt.Errorf("team %q: %w", t.ID, err)
	}
	return t, nil
}

// CreateTeam stores t and sets its CreatedAt and UpdatedAt. A taken ID,
// or a Name the tenant already has, fails with an error wrapping
// ErrConflict; an invalid t with one wrapping ErrBadRecord.
func (db *DB) CreateTeam(ctx context.Context, t *Team) error {
	if err := checkTeam(t); err != nil {
		return fmt.Errorf("store: create team %q: %w", t.ID, err)
	}
	now := db.nowUS()
	s := db.d.stmt().sql("INSERT INTO teams (" + teamColumns + ") VALUES ").
		list(slices.Concat([]any{t.ID, t.TenantID, t.Name, mapColumn(t.Metadata)}, policyArgs(&t.Policy),
			[]any{now, now, t.Disabled}))
	if _, err := db.w.ExecContext(ctx, s.String(), s.args...); err != nil {
		return fmt.Errorf("store: create team %q: %w", t.ID, markConflict(err))
	}
	t.CreatedAt, t.UpdatedAt = fromUS(now), fromUS(now)
	return nil
}

// GetTeam returns the team with id, or an error wrapping ErrNotFound.
func (db *DB) GetTeam(ctx context.Context, id string) (Team, error) {
	if checkText("ID", id) != nil {
		return Team{}, fmt.Errorf("store: get team %q: %w", id, ErrNotFound)
	}
	s := db.d.stmt().sql("SELECT " + teamColumns + " FROM teams WHERE id = ").arg(id)
	t, err := scanTeam(db.r.QueryRowContext(ctx, s.String(), s.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Team{}, fmt.Errorf("store: get team %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Team{}, fmt.Errorf("store: get team %q: %w", id, err)
	}
	return t, nil
}

// ListTeams returns the teams of tenantID ("" is the default tenant, not
// "every tenant"), disabled ones included, by Name. A tenant without
// teams, or with no row at all, yields none and no error.
func (db *DB) ListTeams(ctx context.Context, tenantID string) ([]Team, error) {
	if checkText("tenant ID", tenantID) != nil {
		return nil, nil
	}
	s := db.d.stmt().sql("SELECT " + teamColumns + " FROM teams WHERE tenant_id = ").arg(tenantID).sql(" ORDER BY name")
	ts, err := db.queryTeams(ctx, s.String(), s.args...)
	if err != nil {
		return nil, fmt.Errorf("store: list teams of %q: %w", tenantID, err)
	}
	return ts, nil
}

// ListAllTeams returns every team of every tenant, disabled ones
// included, by ID; the gateway's key cache reads them all at once.
func (db *DB) ListAllTeams(ctx context.Context) ([]Team, error) {
	ts, err := db.queryTeams(ctx, "SELECT "+teamColumns+" FROM teams ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: list all teams: %w", err)
	}
	return ts, nil
}

// queryTeams runs a SELECT of teamColumns and scans every row.
func (db *DB) queryTeams(ctx context.Context, query string, args ...any) ([]Team, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []Team
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// UpdateTeam replaces the TenantID, Name, Metadata, Policy and Disabled of the
// team with t.ID, sets t.UpdatedAt to now and t.CreatedAt to the stored
// value. An absent team fails with an error wrapping ErrNotFound; a Name
// the tenant already has with one wrapping ErrConflict. Keys naming the
// team keep their own TenantID: moving a team does not move its keys.
func (db *DB) UpdateTeam(ctx context.Context, t *Team) error {
	if err := checkTeam(t); err != nil {
		return fmt.Errorf("store: update team %q: %w", t.ID, err)
	}
	now := db.nowUS()
	s := db.d.stmt().sql("UPDATE teams SET tenant_id = ").arg(t.TenantID).
		sql(", name = ").arg(t.Name).
		sql(", metadata = ").arg(mapColumn(t.Metadata))
	setPolicy(s, &t.Policy)
	s.sql(", disabled = ").arg(t.Disabled).
		sql(", updated_us = ").arg(now).
		sql(" WHERE id = ").arg(t.ID).sql(" RETURNING created_us")
	var created int64
	err := db.w.QueryRowContext(ctx, s.String(), s.args...).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: update team %q: %w", t.ID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: update team %q: %w", t.ID, markConflict(err))
	}
	t.CreatedAt, t.UpdatedAt = fromUS(created), fromUS(now)
	return nil
}

// DeleteTeam deletes the team with id. An absent team fails with an
// error wrapping ErrNotFound; a team that keys (disabled ones included)
// still name with one wrapping ErrConflict, and is kept.
func (db *DB) DeleteTeam(ctx context.Context, id string) error {
	err := db.inWriteTx(ctx, func(tx *sql.Tx) error {
		if err := deleteByID(ctx, tx, db.d, "teams", id); err != nil {
			return err
		}
		s := db.d.stmt().sql("SELECT EXISTS (SELECT 1 FROM api_keys WHERE team_id = ").arg(id).sql(")")
		return refuseIfNamed(ctx, tx, s, "keys name it")
	})
	if err != nil {
		return fmt.Errorf("store: delete team %q: %w", id, err)
	}
	return nil
}
