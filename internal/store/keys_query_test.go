package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// keyIDs lists the IDs of keys in order.
func keyIDs(keys []Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.ID
	}
	return out
}

// createKeys stores keys, each created at the clock's time when its turn
// comes; at, when not nil, sets the clock first.
func createKeys(t *testing.T, db *DB, clk *testClock, at func(i int) time.Time, keys ...Key) {
	t.Helper()
	for i := range keys {
		if at != nil {
			clk.set(at(i))
		}
		if err := db.CreateKey(context.Background(), &keys[i]); err != nil {
			t.Fatalf("CreateKey(%s): %v", keys[i].ID, err)
		}
	}
}

func testListKeysFilters(t *testing.T, db *DB) {
	clk := useClock(db, t0)
	mk := func(id string, n int, tenant, team, role string, disabled bool) Key {
		k := testKey(id, n)
		k.TenantID, k.TeamID, k.Role, k.Disabled = tenant, team, role, disabled
		return k
	}
	createKeys(t, db, clk, func(i int) time.Time { return at(time.Duration(i) * time.Second) },
		mk("k1", 1, "t1", "m1", "", false),
		mk("k2", 2, "t1", "m2", "admin", false),
		mk("k3", 3, "t2", "m1", "", true),
		mk("k4", 4, "", "", "viewer", false),
		mk("k5", 5, "t2", "", "", false),
	)
	role := func(r string) *string { return &r }
	for _, tc := range []struct {
		name string
		f    KeyFilter
		want []string
	}{
		{"none: enabled keys, newest first", KeyFilter{}, []string{"k5", "k4", "k2", "k1"}},
		{"disabled included", KeyFilter{IncludeDisabled: true}, []string{"k5", "k4", "k3", "k2", "k1"}},
		{"tenant", KeyFilter{TenantID: "t1"}, []string{"k2", "k1"}},
		{"tenant, disabled included", KeyFilter{TenantID: "t2", IncludeDisabled: true}, []string{"k5", "k3"}},
		{"team", KeyFilter{TeamID: "m1"}, []string{"k1"}},
		{"team, disabled included", KeyFilter{TeamID: "m1", IncludeDisabled: true}, []string{"k3", "k1"}},
		{"tenant and team", KeyFilter{TenantID: "t1", TeamID: "m2"}, []string{"k2"}},
		{"gateway keys", KeyFilter{Role: role("")}, []string{"k5", "k1"}},
		{"admin role", KeyFilter{Role: role("admin")}, []string{"k2"}},
		{"role and tenant, no match", KeyFilter{Role: role("viewer"), TenantID: "t1"}, []string{}},
		{"unknown tenant", KeyFilter{TenantID: "t9"}, []string{}},
		{"tenant that cannot be stored", KeyFilter{TenantID: "t\xff"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, next, err := db.ListKeys(context.Background(), tc.f)
			if err != nil {
				t.Fatalf("ListKeys: %v", err)
			}
			if d := cmp.Diff(keyIDs(keys), tc.want); d != "" || next != "" {
				t.Errorf("ListKeys (-got +want):\n%s\nnext %q", d, next)
			}
		})
	}
}

func testListKeysPagination(t *testing.T, db *DB) {
	ctx := context.Background()
	clk := useClock(db, t0)
	var keys []Key
	for i := range 7 {
		keys = append(keys, testKey(fmt.Sprintf("key_%d", i), i))
	}
	// Three keys share a CreatedAt, so pages must also order by ID.
	createKeys(t, db, clk, func(i int) time.Time { return at(time.Duration(max(i, 2)) * time.Second) }, keys...)
	want := []string{"key_6", "key_5", "key_4", "key_3", "key_2", "key_1", "key_0"}
	for _, limit := range []int{1, 2, 3, 6, 7, 8} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			var got []string
			f := KeyFilter{Limit: limit}
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatalf("more than %d pages", len(want))
				}
				page, next, err := db.ListKeys(ctx, f)
				if err != nil {
					t.Fatalf("ListKeys: %v", err)
				}
				if len(page) > limit {
					t.Fatalf("page of %d keys, limit %d", len(page), limit)
				}
				got = append(got, keyIDs(page)...)
				if next == "" {
					break
				}
				f.Cursor = next
			}
			if d := cmp.Diff(got, want); d != "" {
				t.Errorf("keys over all pages (-got +want):\n%s", d)
			}
		})
	}
	_, _, err := db.ListKeys(ctx, KeyFilter{Cursor: "not a cursor"})
	wantErr(t, "ListKeys(bad cursor)", err, ErrBadCursor)
	_, _, err = db.ListKeys(ctx, KeyFilter{Limit: -1})
	wantErr(t, "ListKeys(negative limit)", err, ErrBadQuery)
}

func testTouchKeys(t *testing.T, db *DB) {
	ctx := context.Background()
	clk := useClock(db, t0)
	createKeys(t, db, clk, nil, testKey("a", 1), testKey("b", 2), testKey("c", 3))
	clk.set(at(time.Hour))
	steps := []struct {
		name  string
		touch map[string]time.Time
		want  map[string]time.Time // LastUsedAt by key
	}{
		{"first use; unknown and zero skipped",
			map[string]time.Time{"a": at(5 * time.Second), "b": at(3 * time.Second), "nope": at(4 * time.Second), "c": {}},
			map[string]time.Time{"a": at(5 * time.Second), "b": at(3 * time.Second), "c": {}}},
		{"never backwards",
			map[string]time.Time{"a": at(4 * time.Second), "b": at(6 * time.Second)},
			map[string]time.Time{"a": at(5 * time.Second), "b": at(6 * time.Second), "c": {}}},
		{"nothing to do", nil,
			map[string]time.Time{"a": at(5 * time.Second), "b": at(6 * time.Second), "c": {}}},
	}
	for _, s := range steps { // in order: each builds on the one before
		if err := db.TouchKeys(ctx, s.touch); err != nil {
			t.Fatalf("%s: TouchKeys: %v", s.name, err)
		}
		got := map[string]time.Time{}
		for _, id := range []string{"a", "b", "c"} {
			k, err := db.GetKey(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			got[id] = k.LastUsedAt
			if !k.UpdatedAt.Equal(t0) {
				t.Errorf("%s: key %s UpdatedAt %v, want %v (a touch is no update)", s.name, id, k.UpdatedAt, t0)
			}
		}
		if d := cmp.Diff(got, s.want); d != "" {
			t.Errorf("%s: LastUsedAt (-got +want):\n%s", s.name, d)
		}
	}
	changed, err := db.KeysChangedSince(ctx, at(time.Microsecond))
	if err != nil || len(changed) != 0 {
		t.Errorf("KeysChangedSince after touches = %v, %v; want none", keyIDs(changed), err)
	}
}

func testTouchManyKeys(t *testing.T, db *DB) {
	ctx := context.Background()
	const n = touchChunk + 50 // two statements
	keys := make([]Key, n)
	touch := make(map[string]time.Time, n)
	for i := range keys {
		keys[i] = testKey(fmt.Sprintf("key_%04d", i), i)
		touch[keys[i].ID] = at(time.Duration(i) * time.Millisecond)
	}
	createKeys(t, db, nil, nil, keys...)
	if err := db.TouchKeys(ctx, touch); err != nil {
		t.Fatalf("TouchKeys: %v", err)
	}
	got, _, err := db.ListKeys(ctx, KeyFilter{Limit: maxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	gotTimes := make(map[string]time.Time, len(got))
	for _, k := range got {
		gotTimes[k.ID] = k.LastUsedAt
	}
	if d := cmp.Diff(gotTimes, touch); d != "" {
		t.Errorf("LastUsedAt (-got +want):\n%s", d)
	}
}

func testKeysChangedSince(t *testing.T, db *DB) {
	ctx := context.Background()
	clk := useClock(db, at(1*time.Second))
	k1, k2, k3 := testKey("k1", 1), testKey("k2", 2), testKey("k3", 3)
	k2.TenantID, k2.TeamID, k2.PrevHash, k2.PrevUntil = "t1", "m1", secretHash(20), at(time.Hour)
	createKeys(t, db, clk, func(i int) time.Time { return at(time.Duration(i+1) * time.Second) }, k1, k2, k3)
	clk.set(at(4 * time.Second))
	k1.Name = "renamed"
	if err := db.UpdateKey(ctx, &k1); err != nil {
		t.Fatal(err)
	}
	clk.set(at(5 * time.Second))
	k3.Disabled = true
	if err := db.UpdateKey(ctx, &k3); err != nil {
		t.Fatal(err)
	}
	clk.set(at(6 * time.Second))
	if err := db.DeleteKey(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	deleted := Key{ID: "k2", TenantID: "t1", TeamID: "m1", Hash: secretHash(2), PrevHash: secretHash(20),
		UpdatedAt: at(6 * time.Second), Disabled: true}

	check := func(name string, since time.Time, want []Key) {
		t.Helper()
		got, err := db.KeysChangedSince(ctx, since)
		if err != nil {
			t.Fatalf("%s: KeysChangedSince: %v", name, err)
		}
		if d := cmp.Diff(got, want); d != "" {
			t.Errorf("%s: KeysChangedSince(%v) (-got +want):\n%s", name, since, d)
		}
	}
	check("all", time.Time{}, []Key{k1, k3, deleted})
	check("since the first update, inclusive", at(4*time.Second), []Key{k1, k3, deleted})
	check("since the revocation", at(5*time.Second), []Key{k3, deleted})
	check("since the deletion", at(6*time.Second), []Key{deleted})
	check("after everything", at(6*time.Second+time.Microsecond), nil)

	// The hash of a deleted key is free, and creating its ID again
	// replaces the deletion.
	clk.set(at(7 * time.Second))
	again := testKey("k2", 2)
	if err := db.CreateKey(ctx, &again); err != nil {
		t.Fatalf("CreateKey(deleted ID and hash): %v", err)
	}
	check("after re-creating", at(6*time.Second), []Key{again})
	wantErr(t, "DeleteKey(k1)", db.DeleteKey(ctx, "k1"), nil)
	wantErr(t, "DeleteKey(k1) again", db.DeleteKey(ctx, "k1"), ErrNotFound)
	if n, err := db.CountKeys(ctx); err != nil || n != 2 {
		t.Errorf("CountKeys = %d, %v; want 2 (k2 again and k3)", n, err)
	}
}
