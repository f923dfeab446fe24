package store

import (
	"bytes"
	"context"
	"database/sql"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCredentialsSQLite(t *testing.T) { testCredentials(t, openTest(t, sqliteConfig(t))) }

func TestCredentialsPostgres(t *testing.T) { testCredentials(t, openTest(t, postgresConfig(t))) }

// testCredentials is the provider-credential contract every driver must
// meet.
func testCredentials(t *testing.T, db *DB) {
	parts := []suitePart{
		{"RoundTrip", testCredentialRoundTrip},
		{"Update", testCredentialUpdate},
		{"Conflict", testCredentialConflict},
		{"BadRecords", testCredentialBadRecords},
		{"NotFound", testCredentialNotFound},
		{"Disable", testCredentialDisable},
		{"UpdateIf", testCredentialUpdateIf},
		{"ListOrder", testCredentialListOrder},
		{"Delete", testCredentialDelete},
	}
	for i := range parts {
		run := parts[i].run
		parts[i].run = func(t *testing.T, db *DB) {
			if _, err := db.w.Exec("DELETE FROM provider_credentials"); err != nil {
				t.Fatalf("clear provider_credentials: %v", err)
			}
			run(t, db)
		}
	}
	runSuite(t, db, parts)
}

// fullCredential has every field set; CreatedAt and UpdatedAt are what the
// store sets at t0.
func fullCredential() Credential {
	return Credential{
		ID: "cred_ABCDEFGHIJKLMNOPQRST", Provider: "openai", Name: "prod key 1",
		Sealed: []byte{0, 1, 2, 0xff, 'x', 0}, MasterID: "0123456789abcdef", Last4: "wxyz",
		Weight: 3, Disabled: true, DisabledReason: "upstream answered 401",
		CreatedAt: t0, UpdatedAt: t0,
	}
}

func testCredentialRoundTrip(t *testing.T, db *DB) {
	ctx := context.Background()
	useClock(db, t0)
	want := fullCredential()
	v := reflect.ValueOf(want)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("fullCredential leaves %s zero: set it", v.Type().Field(i).Name)
		}
	}
	in := want
	in.CreatedAt, in.UpdatedAt = time.Time{}, time.Time{}
	if err := db.CreateCredential(ctx, &in); err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	if d := cmp.Diff(in, want); d != "" {
		t.Errorf("CreateCredential result (-got +want):\n%s", d)
	}
	minimal := Credential{ID: "cred_min", Provider: "claude", Sealed: []byte("s"), Weight: 1}
	if err := db.CreateCredential(ctx, &minimal); err != nil {
		t.Fatalf("CreateCredential(minimal): %v", err)
	}
	wantMin := Credential{ID: "cred_min", Provider: "claude", Sealed: []byte("s"), Weight: 1, CreatedAt: t0, UpdatedAt: t0}
	for _, w := range []Credential{want, wantMin} {
		got, err := db.GetCredential(ctx, w.ID)
		if err != nil {
			t.Fatalf("GetCredential: %v", err)
		}
		if d := cmp.Diff(got, w); d != "" {
			t.Errorf("GetCredential(%s) (-got +want):\n%s", w.ID, d)
		}
	}
	all, err := db.ListAllCredentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(all, []Credential{wantMin, want}); d != "" { // by provider
		t.Errorf("ListAllCredentials (-got +want):\n%s", d)
	}
	got, err := db.ListCredentials(ctx, "openai")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(got, []Credential{want}); d != "" {
		t.Errorf("ListCredentials(openai) (-got +want):\n%s", d)
	}
	if got, err := db.ListCredentials(ctx, "bad\x00name"); err != nil || got != nil {
		t.Errorf("ListCredentials(NUL) = %v, %v; want none", got, err)
	}
}

func testCredentialUpdate(t *testing.T, db *DB) {
	ctx := context.Background()
	clk := useClock(db, t0)
	c := fullCredential()
	if err := db.CreateCredential(ctx, &c); err != nil {
		t.Fatal(err)
	}
	clk.set(at(time.Minute))
	upd := Credential{ID: c.ID, Provider: "ignored", Name: "renamed", Sealed: []byte("new sealed"),
		MasterID: "fedcba9876543210", Last4: "abcd", Weight: 7, CreatedAt: at(time.Hour)}
	if err := db.UpdateCredential(ctx, &upd); err != nil {
		t.Fatalf("UpdateCredential: %v", err)
	}
	want := upd
	want.Provider, want.CreatedAt, want.UpdatedAt = "openai", t0, at(time.Minute)
	if d := cmp.Diff(upd, want); d != "" {
		t.Errorf("UpdateCredential result (-got +want):\n%s", d)
	}
	got, err := db.GetCredential(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("after UpdateCredential (-got +want):\n%s", d)
	}
}

func testCredentialConflict(t *testing.T, db *DB) {
	ctx := context.Background()
	c := fullCredential()
	if err := db.CreateCredential(ctx, &c); err != nil {
		t.Fatal(err)
	}
	dup := fullCredential()
	dup.Provider = "other"
	wantErr(t, "CreateCredential(same ID)", db.CreateCredential(ctx, &dup), ErrConflict)
}

func testCredentialBadRecords(t *testing.T, db *DB) {
	ctx := context.Background()
	good := fullCredential()
	if err := db.CreateCredential(ctx, &good); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Credential)
	}{
		{"no ID", func(c *Credential) { c.ID = "" }},
		{"long ID", func(c *Credential) { c.ID = strings.Repeat("x", MaxEntityText+1) }},
		{"NUL in ID", func(c *Credential) { c.ID = "cred\x00" }},
		{"no provider", func(c *Credential) { c.Provider = "" }},
		{"invalid UTF-8 name", func(c *Credential) { c.Name = "\xff" }},
		{"long name", func(c *Credential) { c.Name = strings.Repeat("n", MaxEntityText+1) }},
		{"no sealed secret", func(c *Credential) { c.Sealed = nil }},
		{"huge sealed secret", func(c *Credential) { c.Sealed = make([]byte, MaxSealedCredential+1) }},
		{"long master ID", func(c *Credential) { c.MasterID = strings.Repeat("0", 65) }},
		{"long last4", func(c *Credential) { c.Last4 = strings.Repeat("0", 17) }},
		{"zero weight", func(c *Credential) { c.Weight = 0 }},
		{"negative weight", func(c *Credential) { c.Weight = -1 }},
		{"huge weight", func(c *Credential) { c.Weight = MaxCredentialWeight + 1 }},
		{"long reason", func(c *Credential) { c.DisabledReason = strings.Repeat("r", 1025) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fullCredential()
			c.ID = "cred_other"
			tc.mod(&c)
			wantErr(t, "CreateCredential", db.CreateCredential(ctx, &c), ErrBadRecord)
			u := fullCredential()
			tc.mod(&u)
			wantErr(t, "UpdateCredential", db.UpdateCredential(ctx, &u), ErrBadRecord)
		})
	}
	got, err := db.GetCredential(ctx, good.ID)
	if err != nil || !bytes.Equal(got.Sealed, good.Sealed) || got.Weight != good.Weight {
		t.Errorf("a refused update changed the credential: %+v, %v", got, err)
	}
}

func testCredentialNotFound(t *testing.T, db *DB) {
	ctx := context.Background()
	for _, id := range []string{"cred_nope", "bad\x00id"} {
		_, err := db.GetCredential(ctx, id)
		wantErr(t, "GetCredential", err, ErrNotFound)
		c := fullCredential()
		c.ID = id
		if id == "cred_nope" {
			wantErr(t, "UpdateCredential", db.UpdateCredential(ctx, &c), ErrNotFound)
		}
		wantErr(t, "DeleteCredential", db.DeleteCredential(ctx, id), ErrNotFound)
		_, err = db.DisableCredential(ctx, id, "r", time.Time{})
		wantErr(t, "DisableCredential", err, ErrNotFound)
	}
}

func testCredentialDisable(t *testing.T, db *DB) {
	ctx := context.Background()
	clk := useClock(db, t0)
	c := fullCredential()
	c.Disabled, c.DisabledReason = false, ""
	if err := db.CreateCredential(ctx, &c); err != nil {
		t.Fatal(err)
	}
	clk.set(at(time.Second))
	// A verdict on a version that is not the stored one changes nothing.
	_, err := db.DisableCredential(ctx, c.ID, "stale", at(-time.Hour))
	wantErr(t, "DisableCredential(stale version)", err, ErrConflict)
	if got, _ := db.GetCredential(ctx, c.ID); got.Disabled {
		t.Fatal("a stale verdict disabled the credential")
	}
	got, err := db.DisableCredential(ctx, c.ID, "upstream answered 401\x00", c.UpdatedAt)
	if err != nil {
		t.Fatalf("DisableCredential: %v", err)
	}
	want := c
	want.Disabled, want.DisabledReason, want.UpdatedAt = true, "upstream answered 401\uFFFD", at(time.Second)
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("DisableCredential (-got +want):\n%s", d)
	}
	stored, _ := db.GetCredential(ctx, c.ID)
	if d := cmp.Diff(stored, want); d != "" {
		t.Errorf("stored after DisableCredential (-got +want):\n%s", d)
	}
	// Already disabled: the first reason stays.
	clk.set(at(2 * time.Second))
	again, err := db.DisableCredential(ctx, c.ID, "second reason", time.Time{})
	if err != nil || again.DisabledReason != want.DisabledReason || !again.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("DisableCredential again = %+v, %v; want unchanged", again, err)
	}
	// A long reason is cut, not refused.
	other := fullCredential()
	other.ID, other.Disabled = "cred_other", false
	if err := db.CreateCredential(ctx, &other); err != nil {
		t.Fatal(err)
	}
	cut, err := db.DisableCredential(ctx, other.ID, strings.Repeat("é", 2000), time.Time{})
	if err != nil || len(cut.DisabledReason) != 1024 || !cut.Disabled {
		t.Errorf("DisableCredential(long reason) = %d bytes, %v", len(cut.DisabledReason), err)
	}
}

func testCredentialListOrder(t *testing.T, db *DB) {
	ctx := context.Background()
	clk := useClock(db, t0)
	for i, c := range []Credential{
		{ID: "cred_a", Provider: "openai"}, {ID: "cred_b", Provider: "claude"},
		{ID: "cred_c", Provider: "openai"}, {ID: "cred_d", Provider: "openai"},
	} {
		clk.set(at(time.Duration(i/3) * time.Minute)) // a, b and c at t0; d a minute later
		c.Sealed, c.Weight = []byte("x"), 1
		if err := db.CreateCredential(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(cs []Credential) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	got, err := db.ListCredentials(ctx, "openai")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(ids(got), []string{"cred_d", "cred_c", "cred_a"}); d != "" {
		t.Errorf("ListCredentials(openai) newest first (-got +want):\n%s", d)
	}
	got, _ = db.ListCredentials(ctx, "")
	if d := cmp.Diff(ids(got), []string{"cred_d", "cred_c", "cred_b", "cred_a"}); d != "" {
		t.Errorf("ListCredentials(all) (-got +want):\n%s", d)
	}
	got, _ = db.ListAllCredentials(ctx)
	if d := cmp.Diff(ids(got), []string{"cred_b", "cred_a", "cred_c", "cred_d"}); d != "" {
		t.Errorf("ListAllCredentials (-got +want):\n%s", d)
	}
	if got, err := db.ListCredentials(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("ListCredentials(nobody) = %v, %v", got, err)
	}
}

func testCredentialDelete(t *testing.T, db *DB) {
	ctx := context.Background()
	c := fullCredential()
	if err := db.CreateCredential(ctx, &c); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCredential(ctx, c.ID); err != nil {
		t.Fatalf("DeleteCredential: %v", err)
	}
	_, err := db.GetCredential(ctx, c.ID)
	wantErr(t, "GetCredential after delete", err, ErrNotFound)
	wantErr(t, "DeleteCredential twice", db.DeleteCredential(ctx, c.ID), ErrNotFound)
	// The ID is free again.
	if err := db.CreateCredential(ctx, &c); err != nil {
		t.Errorf("CreateCredential after delete: %v", err)
	}
}

// UpdateCredentialIf writes only over the version it was given: a
// credential changed since (disabled by the gateway, rotated) is left as
// it is.
func testCredentialUpdateIf(t *testing.T, db *DB) {
	ctx := context.Background()
	clk := useClock(db, t0)
	c := fullCredential()
	c.Disabled, c.DisabledReason = false, ""
	if err := db.CreateCredential(ctx, &c); err != nil {
		t.Fatal(err)
	}
	read := c
	clk.set(at(time.Second))
	if _, err := db.DisableCredential(ctx, c.ID, "upstream answered 401", time.Time{}); err != nil {
		t.Fatal(err)
	}
	// An admin edit of the version read before the disable: refused.
	upd := read
	upd.Name = "renamed"
	wantErr(t, "UpdateCredentialIf(stale)", db.UpdateCredentialIf(ctx, &upd, &read), ErrConflict)
	if got, _ := db.GetCredential(ctx, c.ID); !got.Disabled || got.Name != c.Name {
		t.Fatalf("a stale update was written: %+v", got)
	}
	// The same microsecond, another secret or flag: still refused.
	cur, _ := db.GetCredential(ctx, c.ID)
	for _, mod := range []func(*Credential){
		func(p *Credential) { p.Sealed = []byte("other sealed") },
		func(p *Credential) { p.Disabled = false },
	} {
		prev := cur
		mod(&prev)
		upd := cur
		upd.Name = "renamed"
		wantErr(t, "UpdateCredentialIf(other version)", db.UpdateCredentialIf(ctx, &upd, &prev), ErrConflict)
	}
	// Over the current version: written.
	clk.set(at(2 * time.Second))
	upd = cur
	upd.Name = "renamed"
	if err := db.UpdateCredentialIf(ctx, &upd, &cur); err != nil {
		t.Fatalf("UpdateCredentialIf(current): %v", err)
	}
	if got, _ := db.GetCredential(ctx, c.ID); got.Name != "renamed" || !got.Disabled || !got.UpdatedAt.Equal(at(2*time.Second)) {
		t.Errorf("after UpdateCredentialIf: %+v", got)
	}
	gone := fullCredential()
	gone.ID = "cred_gone"
	wantErr(t, "UpdateCredentialIf(absent)", db.UpdateCredentialIf(ctx, &gone, &gone), ErrNotFound)
}

// behindLock runs op while tx holds a row lock, commits tx once op waits
// for it in PostgreSQL, and returns op's error: the interleaving in which
// a read-then-write overwrote a change committed between its read and its
// write.
func behindLock(t *testing.T, db *DB, tx *sql.Tx, op func() error) error {
	t.Helper()
	ctx := context.Background()
	var pid int
	if err := tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- op() }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var n int
		if err := db.w.QueryRowContext(ctx,
			"SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		select {
		case err := <-done: // it did not wait: a bug of its own
			tx.Rollback()
			t.Fatalf("the operation did not wait for the row lock (err %v)", err)
		default:
		}
		if time.Now().After(deadline) {
			tx.Rollback()
			t.Fatal("the operation never waited for the row lock")
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return <-done
}

// Regression: DisableCredential read the credential, compared its
// version, then updated it by ID alone. On PostgreSQL a rotation that
// committed between the read and the update was disabled: the verdict on
// the old secret disabled the new one.
func TestCredentialDisableRacesRotationPostgres(t *testing.T) {
	db := openTest(t, postgresConfig(t))
	ctx := context.Background()
	c := fullCredential()
	c.Disabled, c.DisabledReason = false, ""
	if err := db.CreateCredential(ctx, &c); err != nil {
		t.Fatal(err)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE provider_credentials SET sealed = $1, last4 = 'new4', "+
		"updated_us = updated_us + 1000000 WHERE id = $2", []byte("rotated"), c.ID); err != nil {
		t.Fatal(err)
	}
	err = behindLock(t, db, tx, func() error {
		_, err := db.DisableCredential(ctx, c.ID, "upstream answered 401", c.UpdatedAt)
		return err
	})
	wantErr(t, "DisableCredential(version rotated meanwhile)", err, ErrConflict)
	if got, _ := db.GetCredential(ctx, c.ID); got.Disabled || got.Last4 != "new4" {
		t.Errorf("the rotated credential: disabled=%v last4=%q; want enabled with the new secret", got.Disabled, got.Last4)
	}
}

// Likewise an admin edit (read, change, write) must not re-enable a
// credential the gateway disabled in between.
func TestCredentialUpdateRacesDisablePostgres(t *testing.T) {
	db := openTest(t, postgresConfig(t))
	ctx := context.Background()
	c := fullCredential()
	c.Disabled, c.DisabledReason = false, ""
	if err := db.CreateCredential(ctx, &c); err != nil {
		t.Fatal(err)
	}
	read, err := db.GetCredential(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE provider_credentials SET disabled = 1, disabled_reason = 'upstream answered 401', "+
		"updated_us = updated_us + 1000000 WHERE id = $1", c.ID); err != nil {
		t.Fatal(err)
	}
	upd := read
	upd.Name = "renamed"
	err = behindLock(t, db, tx, func() error { return db.UpdateCredentialIf(ctx, &upd, &read) })
	wantErr(t, "UpdateCredentialIf(disabled meanwhile)", err, ErrConflict)
	if got, _ := db.GetCredential(ctx, c.ID); !got.Disabled || got.Name != c.Name {
		t.Errorf("after the lost race: disabled=%v name=%q; want the gateway's disable kept", got.Disabled, got.Name)
	}
}
