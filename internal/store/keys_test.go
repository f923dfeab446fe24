package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestKeysSQLite(t *testing.T) { testKeys(t, openTest(t, sqliteConfig(t))) }

func TestKeysPostgres(t *testing.T) { testKeys(t, openTest(t, postgresConfig(t))) }

// testKeys is the keys contract every driver must meet.
func testKeys(t *testing.T, db *DB) {
	runSuite(t, db, []suitePart{
		{"RoundTrip", testKeyRoundTrip},
		{"Update", testKeyUpdate},
		{"Conflicts", testKeyConflicts},
		{"BadRecords", testKeyBadRecords},
		{"NotFound", testKeyNotFound},
		{"KeyByHashRotation", testKeyByHashRotation},
		{"ListFilters", testListKeysFilters},
		{"ListPagination", testListKeysPagination},
		{"Touch", testTouchKeys},
		{"TouchManyKeys", testTouchManyKeys},
		{"ChangedSince", testKeysChangedSince},
	})
}

// secretHash returns the hash of the n-th test secret.
func secretHash(n int) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "sk-sluice-test-secret-%d", n))
	return h[:]
}

// testKey returns a gateway key with only what a key needs: an ID and
// the hash of secret n.
func testKey(id string, n int) Key { return Key{ID: id, Hash: secretHash(n)} }

// fullKey returns a key with every field set; CreatedAt and UpdatedAt
// are what the store sets at t0.
func fullKey() Key {
	return Key{
		ID: "key_ABCDEFGHIJKLMNOPQRST", Name: "prod backend", TenantID: "ten_1", TeamID: "team_1",
		Prefix: "sk-sluice-AbCd", Hash: secretHash(1), PrevHash: secretHash(2), PrevUntil: at(time.Hour),
		Role: "admin", Policy: Policy{Models: []string{"gpt-4o*", "claude-*"}, Regions: []string{"eu"},
			RPM: 600, TPM: 100000, MaxConcurrent: 8,
			BudgetMicros: 50_000_000, BudgetPeriod: "monthly", BudgetTZ: "Europe/Paris"},
		AllowedCIDRs: []string{"10.0.0.0/8", "2001:db8::/32"}, Metadata: map[string]string{"owner": "alice"},
		ExpiresAt: at(90 * 24 * time.Hour), CreatedAt: t0, UpdatedAt: t0,
		LastUsedAt: time.Date(2025, 3, 14, 14, 59, 59, 123456000, time.UTC), Disabled: true,
	}
}

func testKeyRoundTrip(t *testing.T, db *DB) {
	ctx := context.Background()
	useClock(db, t0)
	want := fullKey()
	v := reflect.ValueOf(want)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("fullKey leaves %s zero: set it", v.Type().Field(i).Name)
		}
	}
	in := want
	in.CreatedAt, in.UpdatedAt = time.Time{}, time.Time{}
	if err := db.CreateKey(ctx, &in); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	if d := cmp.Diff(in, want); d != "" {
		t.Errorf("CreateKey result (-got +want):\n%s", d)
	}
	minimal := testKey("key_min", 3)
	if err := db.CreateKey(ctx, &minimal); err != nil {
		t.Fatalf("CreateKey(minimal): %v", err)
	}
	wantMinimal := Key{ID: "key_min", Hash: secretHash(3), CreatedAt: t0, UpdatedAt: t0}

	for _, w := range []Key{want, wantMinimal} {
		got, err := db.GetKey(ctx, w.ID)
		if err != nil {
			t.Fatalf("GetKey: %v", err)
		}
		if d := cmp.Diff(got, w); d != "" {
			t.Errorf("GetKey(%s) (-got +want):\n%s", w.ID, d)
		}
		if got, err = db.KeyByHash(ctx, w.Hash); err != nil {
			t.Fatalf("KeyByHash: %v", err)
		}
		if d := cmp.Diff(got, w); d != "" {
			t.Errorf("KeyByHash(%s) (-got +want):\n%s", w.ID, d)
		}
	}
	keys, next, err := db.ListKeys(ctx, KeyFilter{IncludeDisabled: true})
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	// Equal CreatedAt: ID descending.
	if d := cmp.Diff(keys, []Key{wantMinimal, want}); d != "" || next != "" {
		t.Errorf("ListKeys (-got +want):\n%s\nnext %q", d, next)
	}
	if n, err := db.CountKeys(ctx); err != nil || n != 2 {
		t.Errorf("CountKeys = %d, %v; want 2", n, err)
	}
}

func testKeyUpdate(t *testing.T, db *DB) {
	ctx := context.Background()
	clk := useClock(db, t0)
	k := fullKey()
	if err := db.CreateKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	clk.set(at(time.Minute))
	// Every field changes; CreatedAt and LastUsedAt given here are ignored.
	upd := Key{
		ID: k.ID, Name: "renamed", TenantID: "ten_2", TeamID: "", Prefix: "sk-sluice-WxYz",
		Hash: secretHash(7), PrevHash: secretHash(1), PrevUntil: at(2 * time.Hour),
		Role: "", Policy: Policy{Models: nil, Regions: []string{"us", "eu"}, RPM: 1, TPM: 2, MaxConcurrent: 3,
			BudgetMicros: 4, BudgetPeriod: "total", BudgetTZ: ""},
		AllowedCIDRs: []string{"192.0.2.0/24"}, Metadata: nil, ExpiresAt: time.Time{},
		CreatedAt: at(time.Hour), LastUsedAt: at(time.Hour), Disabled: false,
	}
	if err := db.UpdateKey(ctx, &upd); err != nil {
		t.Fatalf("UpdateKey: %v", err)
	}
	want := upd
	want.CreatedAt, want.UpdatedAt, want.LastUsedAt = t0, at(time.Minute), k.LastUsedAt
	if d := cmp.Diff(upd, want); d != "" {
		t.Errorf("UpdateKey result (-got +want):\n%s", d)
	}
	got, err := db.GetKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("GetKey after update (-got +want):\n%s", d)
	}
	_, err = db.KeyByHash(ctx, secretHash(2))
	wantErr(t, "KeyByHash(replaced previous hash)", err, ErrNotFound)
}

func testKeyConflicts(t *testing.T, db *DB) {
	ctx := context.Background()
	a := testKey("key_a", 1)
	a.PrevHash, a.PrevUntil = secretHash(2), at(time.Hour)
	b := testKey("key_b", 3)
	for _, k := range []*Key{&a, &b} {
		if err := db.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	withPrev := func(k Key, n int) *Key { k.PrevHash = secretHash(n); return &k }
	fresh := testKey("key_c", 9)
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"ID taken", func() error { k := testKey("key_a", 9); return db.CreateKey(ctx, &k) }},
		{"hash taken", func() error { k := testKey("key_c", 1); return db.CreateKey(ctx, &k) }},
		{"hash is another's previous", func() error { k := testKey("key_c", 2); return db.CreateKey(ctx, &k) }},
		{"previous is another's hash", func() error { return db.CreateKey(ctx, withPrev(fresh, 3)) }},
		{"previous is another's previous", func() error { return db.CreateKey(ctx, withPrev(fresh, 2)) }},
		{"update to a taken hash", func() error { k := testKey("key_b", 1); return db.UpdateKey(ctx, &k) }},
		{"update previous to another's hash", func() error { return db.UpdateKey(ctx, withPrev(b, 1)) }},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.do(), ErrConflict) })
	}
	if n := countRows(t, db, "api_keys"); n != 2 {
		t.Errorf("%d keys, want 2", n)
	}
	got, err := db.GetKey(ctx, "key_b")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(got.Hash, secretHash(3)); d != "" || got.PrevHash != nil {
		t.Errorf("key_b changed: hash (-got +want):\n%s\nprevious %x", d, got.PrevHash)
	}
	// A key may keep its own hash as it is updated.
	b.Name = "renamed"
	if err := db.UpdateKey(ctx, &b); err != nil {
		t.Errorf("UpdateKey(same hash): %v", err)
	}
}

func testKeyBadRecords(t *testing.T, db *DB) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		modify func(*Key)
	}{
		{"no ID", func(k *Key) { k.ID = "" }},
		{"ID too long", func(k *Key) { k.ID = strings.Repeat("k", MaxEntityText+1) }},
		{"name with NUL", func(k *Key) { k.Name = "a\x00" }},
		{"tenant ID invalid UTF-8", func(k *Key) { k.TenantID = "\xff" }},
		{"no hash", func(k *Key) { k.Hash = nil }},
		{"short hash", func(k *Key) { k.Hash = k.Hash[:31] }},
		{"short previous hash", func(k *Key) { k.PrevHash = []byte{1, 2, 3} }},
		{"unknown role", func(k *Key) { k.Role = "root" }},
		{"unknown budget period", func(k *Key) { k.BudgetPeriod = "hourly" }},
		{"negative RPM", func(k *Key) { k.RPM = -1 }},
		{"negative budget", func(k *Key) { k.BudgetMicros = -1 }},
		{"model invalid UTF-8", func(k *Key) { k.Models = []string{"gpt\xff"} }},
		{"CIDR with NUL", func(k *Key) { k.AllowedCIDRs = []string{"\x00"} }},
		{"metadata invalid UTF-8", func(k *Key) { k.Metadata = map[string]string{"k": "\xfe"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := testKey("key_1", 1)
			tc.modify(&k)
			wantErr(t, "CreateKey", db.CreateKey(ctx, &k), ErrBadRecord)
			wantErr(t, "UpdateKey", db.UpdateKey(ctx, &k), ErrBadRecord)
		})
	}
	if n := countRows(t, db, "api_keys"); n != 0 {
		t.Errorf("%d keys written, want none", n)
	}
}

func testKeyNotFound(t *testing.T, db *DB) {
	ctx := context.Background()
	k := testKey("key_1", 1)
	if err := db.CreateKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"get", func() error { _, err := db.GetKey(ctx, "nope"); return err }},
		{"get invalid ID", func() error { _, err := db.GetKey(ctx, "\xff"); return err }},
		{"by unknown hash", func() error { _, err := db.KeyByHash(ctx, secretHash(2)); return err }},
		{"by short hash", func() error { _, err := db.KeyByHash(ctx, secretHash(1)[:16]); return err }},
		{"by nil hash", func() error { _, err := db.KeyByHash(ctx, nil); return err }},
		{"update", func() error { k := testKey("nope", 2); return db.UpdateKey(ctx, &k) }},
		{"delete", func() error { return db.DeleteKey(ctx, "nope") }},
		{"delete invalid ID", func() error { return db.DeleteKey(ctx, "a\x00") }},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.do(), ErrNotFound) })
	}
}

func testKeyByHashRotation(t *testing.T, db *DB) {
	ctx := context.Background()
	clk := useClock(db, t0)
	k := testKey("key_rot", 2) // current secret 2
	k.PrevHash, k.PrevUntil = secretHash(1), at(time.Hour)
	if err := db.CreateKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		now   time.Time
		hash  int
		found bool
	}{
		{"current before the deadline", at(time.Minute), 2, true},
		{"previous before the deadline", at(time.Minute), 1, true},
		{"previous just before the deadline", at(time.Hour - time.Microsecond), 1, true},
		{"previous at the deadline", at(time.Hour), 1, false},
		{"previous after the deadline", at(2 * time.Hour), 1, false},
		{"current after the deadline", at(2 * time.Hour), 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk.set(tc.now)
			got, err := db.KeyByHash(ctx, secretHash(tc.hash))
			switch {
			case tc.found && err != nil:
				t.Fatalf("KeyByHash = %v, want the key", err)
			case tc.found:
				if d := cmp.Diff(got, k); d != "" {
					t.Errorf("KeyByHash (-got +want):\n%s", d)
				}
			default:
				wantErr(t, "KeyByHash", err, ErrNotFound)
			}
		})
	}
}
