package store

import (
	"database/sql"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testClock is an injected clock for DB.now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

// useClock makes db read the time from a new testClock set to start.
func useClock(db *DB, start time.Time) *testClock {
	c := &testClock{t: start}
	db.now = c.now
	return c
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// entityTables are the tables of migration 0003, children first.
var entityTables = []string{"api_key_tombstones", "api_keys", "teams", "tenants", "audit_log"}

// clearEntities empties entityTables, so that each part of a contract
// suite starts from nothing.
func clearEntities(t *testing.T, db *DB) {
	t.Helper()
	for _, table := range entityTables {
		if _, err := db.w.Exec("DELETE FROM " + table); err != nil {
			t.Fatalf("clear %s: %v", table, err)
		}
	}
}

// runSuite runs each part of a contract suite on db as a subtest, from
// empty tables and with db's clock reset to the real one.
func runSuite(t *testing.T, db *DB, parts []suitePart) {
	for _, p := range parts {
		t.Run(p.name, func(t *testing.T) {
			clearEntities(t, db)
			db.now = time.Now
			p.run(t, db)
		})
	}
}

type suitePart struct {
	name string
	run  func(*testing.T, *DB)
}

// wantErr fails the test unless err wraps target (or is nil when target
// is nil).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) { // errors.Is(nil, nil) is true

		t.Errorf("%s = %v, want %v", what, err, target)
	}
}

// asNullString turns a jsonColumn value (nil or a string) into what
// scanning it would give.
func asNullString(v any) sql.NullString {
	s, ok := v.(string)
	return sql.NullString{String: s, Valid: ok}
}

func TestJSONColumnsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		list []string
		m    map[string]string
	}{
		{"empty", nil, nil},
		{"plain", []string{"gpt-4o*", "claude-*"}, map[string]string{"env": "prod"}},
		{"unicode and escapes", []string{"日本", `a"b\c`, "<&>", "\u2028"}, map[string]string{"": "", "k\t": "v\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gotList, gotMap := jsonRoundTrip(t, tc.list, tc.m)
			if d := cmp.Diff(gotList, tc.list); d != "" {
				t.Errorf("list (-got +want):\n%s", d)
			}
			if d := cmp.Diff(gotMap, tc.m); d != "" {
				t.Errorf("map (-got +want):\n%s", d)
			}
		})
	}
}

// jsonRoundTrip stores list and m the way the store does and reads them
// back.
func jsonRoundTrip(t *testing.T, list []string, m map[string]string) ([]string, map[string]string) {
	t.Helper()
	var (
		gotList []string
		gotMap  map[string]string
	)
	if err := scanJSON("list", asNullString(listColumn(list)), &gotList); err != nil {
		t.Fatal(err)
	}
	if err := scanJSON("map", asNullString(mapColumn(m)), &gotMap); err != nil {
		t.Fatal(err)
	}
	return gotList, gotMap
}

// FuzzJSONColumns checks that any text checkText accepts comes back
// from a list or map column exactly as it went in.
func FuzzJSONColumns(f *testing.F) {
	f.Add("gpt-4o*", "env", "prod")
	f.Add("日本", "k\t", "v\n")
	f.Add(`a"b\c`, "", "\u2028")
	f.Add("a\xffb", "k\x00", "v")
	f.Fuzz(func(t *testing.T, a, k, v string) {
		if checkText("a", a) != nil || checkText("k", k) != nil || checkText("v", v) != nil {
			return
		}
		list, m := []string{a, a}, map[string]string{k: v}
		gotList, gotMap := jsonRoundTrip(t, list, m)
		if !slices.Equal(gotList, list) || len(gotMap) != 1 || gotMap[k] != v {
			t.Fatalf("%q, %q → %q, %q", list, m, gotList, gotMap)
		}
	})
}
