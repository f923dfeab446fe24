package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestAuditSQLite(t *testing.T) { testAudit(t, openTest(t, sqliteConfig(t))) }

func TestAuditPostgres(t *testing.T) { testAudit(t, openTest(t, postgresConfig(t))) }

// testAudit is the audit-log contract every driver must meet.
func testAudit(t *testing.T, db *DB) {
	runSuite(t, db, []suitePart{
		{"RoundTrip", testAuditRoundTrip},
		{"Filters", testAuditFilters},
		{"Pagination", testAuditPagination},
		{"BadQueries", testAuditBadQueries},
		{"TextIsCleanedAndCut", testAuditText},
	})
}

// appendAudit stores entries or fails the test.
func appendAudit(t *testing.T, db *DB, entries ...AuditEntry) {
	t.Helper()
	if err := db.AppendAudit(context.Background(), entries); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
}

// queryAudit returns one page or fails the test.
func queryAudit(t *testing.T, db *DB, f AuditFilter) ([]AuditEntry, string) {
	t.Helper()
	es, next, err := db.QueryAudit(context.Background(), f)
	if err != nil {
		t.Fatalf("QueryAudit(%+v): %v", f, err)
	}
	return es, next
}

// actions lists the Action of each entry in order.
func actions(es []AuditEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Action
	}
	return out
}

func testAuditRoundTrip(t *testing.T, db *DB) {
	useClock(db, at(time.Hour))
	full := AuditEntry{
		ID: 999, Time: at(time.Minute), Actor: "alice@example.com", ActorKeyID: "key_admin", Action: "key.create",
		Target: "key_ABC", ClientIP: "203.0.113.7", Detail: map[string]string{"name": "prod", "models": "gpt-4o*"},
	}
	stamped := AuditEntry{Action: "tenant.delete", Target: "ten_1"} // no time: the store's clock
	entries := []AuditEntry{full, stamped}
	appendAudit(t, db, entries...)
	if entries[0].ID != 999 || !entries[1].Time.IsZero() {
		t.Errorf("AppendAudit modified its argument: %+v", entries)
	}
	if err := db.AppendAudit(context.Background(), nil); err != nil {
		t.Errorf("AppendAudit(nil) = %v", err)
	}
	got, next := queryAudit(t, db, AuditFilter{})
	wantStamped := stamped
	wantStamped.Time = at(time.Hour)
	want := []AuditEntry{wantStamped, full}
	if d := cmp.Diff(got, want, cmpopts.IgnoreFields(AuditEntry{}, "ID")); d != "" || next != "" {
		t.Errorf("QueryAudit (-got +want):\n%s\nnext %q", d, next)
	}
	if len(got) == 2 && (got[1].ID <= 0 || got[0].ID <= got[1].ID) {
		t.Errorf("IDs %d then %d: want positive and increasing in append order", got[1].ID, got[0].ID)
	}
}

func testAuditFilters(t *testing.T, db *DB) {
	appendAudit(t, db,
		AuditEntry{Time: at(1 * time.Minute), Actor: "alice", Action: "a1", Target: "key_1"},
		AuditEntry{Time: at(2 * time.Minute), Actor: "bob", Action: "a2", Target: "key_1"},
		AuditEntry{Time: at(3 * time.Minute), Actor: "alice", Action: "a3", Target: "ten_1"},
		AuditEntry{Time: at(4 * time.Minute), Actor: "carol", Action: "a4", Target: "key_2"},
	)
	for _, tc := range []struct {
		name string
		f    AuditFilter
		want []string
	}{
		{"none", AuditFilter{}, []string{"a4", "a3", "a2", "a1"}},
		{"from inclusive", AuditFilter{From: at(2 * time.Minute)}, []string{"a4", "a3", "a2"}},
		{"to exclusive", AuditFilter{To: at(3 * time.Minute)}, []string{"a2", "a1"}},
		{"from and to", AuditFilter{From: at(2 * time.Minute), To: at(4 * time.Minute)}, []string{"a3", "a2"}},
		{"actor", AuditFilter{Actor: "alice"}, []string{"a3", "a1"}},
		{"action", AuditFilter{Action: "a2"}, []string{"a2"}},
		{"target", AuditFilter{Target: "key_1"}, []string{"a2", "a1"}},
		{"actor and target", AuditFilter{Actor: "alice", Target: "key_1"}, []string{"a1"}},
		{"no match", AuditFilter{Actor: "mallory"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next := queryAudit(t, db, tc.f)
			if d := cmp.Diff(actions(got), tc.want); d != "" || next != "" {
				t.Errorf("QueryAudit (-got +want):\n%s\nnext %q", d, next)
			}
		})
	}
}

func testAuditPagination(t *testing.T, db *DB) {
	var entries []AuditEntry
	var want []string
	for i := range 7 {
		// Four entries share a time, so pages must also order by ID.
		entries = append(entries, AuditEntry{Time: at(time.Duration(max(i, 3)) * time.Second), Action: fmt.Sprint(i)})
		want = append([]string{fmt.Sprint(i)}, want...)
	}
	appendAudit(t, db, entries...)
	for _, limit := range []int{1, 2, 3, 7, 8} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			var got []string
			f := AuditFilter{Limit: limit}
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatalf("more than %d pages", len(want))
				}
				page, next := queryAudit(t, db, f)
				if len(page) > limit {
					t.Fatalf("page of %d entries, limit %d", len(page), limit)
				}
				got = append(got, actions(page)...)
				if next == "" {
					break
				}
				f.Cursor = next
			}
			if d := cmp.Diff(got, want); d != "" {
				t.Errorf("entries over all pages (-got +want):\n%s", d)
			}
		})
	}
}

func testAuditBadQueries(t *testing.T, db *DB) {
	for _, tc := range []struct {
		name string
		f    AuditFilter
		want error
	}{
		{"negative limit", AuditFilter{Limit: -1}, ErrBadQuery},
		{"to before from", AuditFilter{From: at(time.Minute), To: t0}, ErrBadQuery},
		{"garbage cursor", AuditFilter{Cursor: "%%%"}, ErrBadCursor},
		{"a key cursor", AuditFilter{Cursor: encodeCursor(1, "key_1")}, ErrBadCursor},
		{"zero id", AuditFilter{Cursor: encodeCursor(1, "0")}, ErrBadCursor},
		{"padded id", AuditFilter{Cursor: encodeCursor(1, "07")}, ErrBadCursor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := db.QueryAudit(context.Background(), tc.f)
			wantErr(t, "QueryAudit", err, tc.want)
		})
	}
}

func testAuditText(t *testing.T, db *DB) {
	long := strings.Repeat("é", MaxShortText) // 2 bytes a character
	appendAudit(t, db, AuditEntry{
		Time: t0, Actor: long, Action: "a\xffb", Target: "t\x00",
		Detail: map[string]string{strings.Repeat("k", MaxMetadataKey+1): strings.Repeat("v", MaxAuditDetail+1)},
	})
	want := []AuditEntry{{
		Time: t0, Actor: long[:MaxShortText], Action: "a\uFFFDb", Target: "t\uFFFD",
		Detail: map[string]string{strings.Repeat("k", MaxMetadataKey): strings.Repeat("v", MaxAuditDetail)},
	}}
	got, _ := queryAudit(t, db, AuditFilter{Actor: long, Action: "a\xffb", Target: "t\x00"})
	if d := cmp.Diff(got, want, cmpopts.IgnoreFields(AuditEntry{}, "ID")); d != "" {
		t.Errorf("QueryAudit by the uncut text (-got +want):\n%s", d)
	}
}

// FuzzDecodeAuditCursor checks that decodeAuditCursor never panics, fails
// only with ErrBadCursor, and accepts only what QueryAudit would issue.
func FuzzDecodeAuditCursor(f *testing.F) {
	for _, c := range badCursors {
		f.Add(c)
	}
	for _, c := range []string{encodeCursor(1741964966535897, "42"), encodeCursor(-1, "1"),
		encodeCursor(1, "07"), encodeCursor(1, "-3"), encodeCursor(1, "+3"), encodeCursor(1, "key_1"),
		encodeCursor(1, "9223372036854775808")} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c string) {
		tm, id, err := decodeAuditCursor(c)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("decodeAuditCursor(%q) = %v, not wrapping ErrBadCursor", c, err)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("decodeAuditCursor(%q) accepted id %d", c, id)
		}
		if again := encodeCursor(tm, fmt.Sprint(id)); again != c {
			t.Fatalf("decodeAuditCursor(%q) = %d, %d, which encodes to %q", c, tm, id, again)
		}
	})
}
