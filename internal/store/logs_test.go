package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestLogsSQLite(t *testing.T) { testLogs(t, openTest(t, sqliteConfig(t))) }

func TestLogsPostgres(t *testing.T) { testLogs(t, openTest(t, postgresConfig(t))) }

// testLogs is the Logs contract every driver must meet. Each part starts
// from empty tables.
func testLogs(t *testing.T, db *DB) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *DB)
	}{
		{"RoundTrip", testRoundTrip},
		{"DuplicateIDsSkipped", testDuplicateIDs},
		{"BadRecords", testBadRecords},
		{"Filters", testFilters},
		{"PaginationEqualTimes", testPagination},
		{"PageLimits", testPageLimits},
		{"BadCursor", testBadCursor},
		{"Prune", testPrune},
		{"PruneInChunks", testPruneInChunks},
		{"Usage", testUsage},
		{"UsageBadQuery", testUsageBadQuery},
		{"UsageSumsSaturate", testUsageSumsSaturate},
		{"LongTextIsCut", testLongTextIsCut},
		{"DataRejectionIsBadRecord", testDataRejectionIsBadRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearLogs(t, db)
			tc.run(t, db)
		})
	}
}

// fullRecord returns a record with every field set.
func fullRecord(id string, tm time.Time) Record {
	return Record{
		ID: id, ClientRequestID: "client-" + id, Time: tm,
		TenantID: "tenant-1", TeamID: "team-1", KeyID: "key-1", ClientIP: "203.0.113.7",
		Route:          "/v1/chat/completions",
		ModelRequested: "chat-default", Provider: "openai", Model: "gpt-4o-mini", Attempts: 2,
		Status: 200, ErrorCode: "none", ErrorType: "none", Stream: true, CacheStatus: "miss",
		Guardrails:   []string{"pii:redact", "injection:allow"},
		PromptTokens: 120, CompletionTokens: 45, CachedTokens: 20, CacheWriteTokens: 10, ReasoningTokens: 5,
		Estimated: true, CostMicros: 1234, SavedMicros: 56, PriceKnown: true,
		LatencyMicros: 812345, TTFTMicros: 123456,
		Metadata:    map[string]string{"user": `"alice"`, "n": "42", "beta": "true"},
		RequestBody: []byte(`{"model":"chat-default"}`), ResponseBody: []byte{0, 1, 2, 0xff},
		PayloadTruncated: true, UserAgent: "openai-python/1.0", MirrorOf: "req-primary",
		Node: "sluice-0",
	}
}

func testRoundTrip(t *testing.T, db *DB) {
	want := fullRecord("req-full", time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC))
	// A record with a field left zero would not prove that field is stored.
	v := reflect.ValueOf(want)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("fullRecord leaves %s zero: set it", v.Type().Field(i).Name)
		}
	}
	minimal := Record{ID: "req-min", Time: want.Time.Add(-time.Second), Status: 499}
	insert(t, db, want, minimal)

	got, err := db.GetLog(context.Background(), want.ID)
	if err != nil {
		t.Fatalf("GetLog: %v", err)
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("GetLog (-got +want):\n%s", d)
	}
	page, err := db.QueryLogs(context.Background(), LogFilter{})
	if err != nil {
		t.Fatalf("QueryLogs: %v", err)
	}
	if d := cmp.Diff(page, Page{Records: []Record{want, minimal}}); d != "" {
		t.Errorf("QueryLogs (-got +want):\n%s", d)
	}
	if _, err := db.GetLog(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetLog(missing) = %v, want ErrNotFound", err)
	}

	// Text PostgreSQL cannot store is cleaned the same way on every driver.
	dirty := Record{ID: "req-dirty", Time: t0, UserAgent: "a\xffb\x00c", Metadata: map[string]string{"k\x00": "v\xfe"}}
	insert(t, db, dirty)
	got, err = db.GetLog(context.Background(), dirty.ID)
	if err != nil {
		t.Fatalf("GetLog: %v", err)
	}
	wantDirty := Record{ID: "req-dirty", Time: t0, UserAgent: "a\uFFFDb\uFFFDc", Metadata: map[string]string{"k\uFFFD": "v\uFFFD"}}
	if d := cmp.Diff(got, wantDirty); d != "" {
		t.Errorf("cleaned text (-got +want):\n%s", d)
	}
	page, err = db.QueryLogs(context.Background(), LogFilter{Metadata: dirty.Metadata})
	if err != nil {
		t.Fatalf("QueryLogs(dirty metadata): %v", err)
	}
	if d := cmp.Diff(ids(page.Records), []string{dirty.ID}); d != "" {
		t.Errorf("filter on dirty metadata (-got +want):\n%s", d)
	}
	if _, err := db.GetLog(context.Background(), "bad\xff"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetLog(invalid id) = %v, want ErrNotFound", err)
	}
}

func testDuplicateIDs(t *testing.T, db *DB) {
	first := Record{ID: "a", Time: at(0), Status: 200, Metadata: map[string]string{"x": "1"}}
	insert(t, db, first)
	// A replay of "a" with other fields and metadata, and "b" twice.
	insert(t, db,
		Record{ID: "a", Time: at(time.Hour), Status: 500, Metadata: map[string]string{"y": "2"}},
		Record{ID: "b", Time: at(time.Minute), Status: 201, Metadata: map[string]string{"z": "3"}},
		Record{ID: "b", Time: at(2 * time.Minute), Status: 202, Metadata: map[string]string{"w": "4"}},
	)
	page, err := db.QueryLogs(context.Background(), LogFilter{})
	if err != nil {
		t.Fatalf("QueryLogs: %v", err)
	}
	want := []Record{
		{ID: "b", Time: at(time.Minute), Status: 201, Metadata: map[string]string{"z": "3"}},
		first,
	}
	if d := cmp.Diff(page.Records, want); d != "" {
		t.Errorf("records (-got +want):\n%s", d)
	}
	if n := countRows(t, db, "request_log_metadata"); n != 2 {
		t.Errorf("metadata rows = %d, want 2", n)
	}
}

func testBadRecords(t *testing.T, db *DB) {
	for _, tc := range []struct {
		name string
		id   string
	}{
		{"empty", ""},
		{"too long", string(make([]byte, maxIDLen+1))},
		{"invalid UTF-8", "a\xff"},
		{"NUL", "a\x00b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.InsertLogs(context.Background(), []Record{{ID: "ok", Time: t0}, {ID: tc.id, Time: t0}})
			if !errors.Is(err, ErrBadRecord) {
				t.Fatalf("InsertLogs = %v, want ErrBadRecord", err)
			}
			if n := countRows(t, db, "request_logs"); n != 0 {
				t.Errorf("%d rows written, want none (the batch is all or nothing)", n)
			}
		})
	}
	if err := db.InsertLogs(context.Background(), nil); err != nil {
		t.Errorf("InsertLogs(nil) = %v, want nil", err)
	}
}

func testFilters(t *testing.T, db *DB) {
	recs := []Record{
		{ID: "r1", ClientRequestID: "retry-1", Time: at(1 * time.Minute), ModelRequested: "chat-default", Model: "gpt-4o", Provider: "openai",
			Status: 200, KeyID: "k1", TenantID: "t1", TeamID: "m1", CacheStatus: "hit",
			Metadata: map[string]string{"user": `"alice"`, "n": "1"}},
		{ID: "r2", ClientRequestID: "other", Time: at(2 * time.Minute), ModelRequested: "gpt-4o", Model: "gpt-4o", Provider: "openai",
			Status: 429, KeyID: "k2", TenantID: "t1", TeamID: "m2", CacheStatus: "miss", Node: "pod-b",
			Metadata: map[string]string{"user": `"bob"`, "n": "1"}},
		{ID: "r3", ClientRequestID: "retry-1", Time: at(3 * time.Minute), ModelRequested: "claude", Model: "claude-sonnet", Provider: "anthropic",
			Status: 502, KeyID: "k1", TenantID: "t2", TeamID: "m1",
			Metadata: map[string]string{"user": `"alice"`}},
		{ID: "r4", Time: at(4 * time.Minute), ModelRequested: "chat-default", Model: "claude-sonnet", Provider: "anthropic",
			Status: 201, KeyID: "k3", TenantID: "t2", TeamID: "m2", CacheStatus: "bypass", MirrorOf: "r1", Node: "pod-b"},
	}
	insert(t, db, recs...)
	for _, tc := range []struct {
		name string
		f    LogFilter
		want []string
	}{
		{"none", LogFilter{}, []string{"r4", "r3", "r2", "r1"}},
		{"from inclusive", LogFilter{From: at(2 * time.Minute)}, []string{"r4", "r3", "r2"}},
		{"to exclusive", LogFilter{To: at(3 * time.Minute)}, []string{"r2", "r1"}},
		{"from and to", LogFilter{From: at(2 * time.Minute), To: at(4 * time.Minute)}, []string{"r3", "r2"}},
		{"model matches requested", LogFilter{Model: "chat-default"}, []string{"r4", "r1"}},
		{"model matches served", LogFilter{Model: "claude-sonnet"}, []string{"r4", "r3"}},
		{"model matches either", LogFilter{Model: "gpt-4o"}, []string{"r2", "r1"}},
		{"provider", LogFilter{Provider: "anthropic"}, []string{"r4", "r3"}},
		{"status", LogFilter{Status: 429}, []string{"r2"}},
		{"status class 2xx", LogFilter{StatusClass: 2}, []string{"r4", "r1"}},
		{"status class 4xx", LogFilter{StatusClass: 4}, []string{"r2"}},
		{"status class 5xx", LogFilter{StatusClass: 5}, []string{"r3"}},
		{"key", LogFilter{KeyID: "k1"}, []string{"r3", "r1"}},
		{"tenant", LogFilter{TenantID: "t2"}, []string{"r4", "r3"}},
		{"team", LogFilter{TeamID: "m2"}, []string{"r4", "r2"}},
		{"cache status", LogFilter{CacheStatus: "hit"}, []string{"r1"}},
		{"client request id shared by a retry", LogFilter{ClientRequestID: "retry-1"}, []string{"r3", "r1"}},
		{"client request id exact", LogFilter{ClientRequestID: "retry"}, nil},
		{"metadata one key", LogFilter{Metadata: map[string]string{"user": `"alice"`}}, []string{"r3", "r1"}},
		{"metadata every key", LogFilter{Metadata: map[string]string{"user": `"alice"`, "n": "1"}}, []string{"r1"}},
		{"metadata value is JSON text", LogFilter{Metadata: map[string]string{"user": "alice"}}, nil},
		{"metadata missing key", LogFilter{Metadata: map[string]string{"nope": "1"}}, nil},
		{"combined", LogFilter{TenantID: "t1", StatusClass: 2, Model: "gpt-4o"}, []string{"r1"}},
		{"no match", LogFilter{Provider: "gemini"}, nil},
		{"shadows of a request", LogFilter{MirrorOf: "r1"}, []string{"r4"}},
		{"shadows of a request without any", LogFilter{MirrorOf: "r2"}, nil},
		{"shadows only", LogFilter{Mirrors: MirrorsOnly}, []string{"r4"}},
		{"client traffic only", LogFilter{Mirrors: MirrorsExclude}, []string{"r3", "r2", "r1"}},
		{"node", LogFilter{Node: "pod-b"}, []string{"r4", "r2"}},
		{"node that served nothing", LogFilter{Node: "pod-c"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := db.QueryLogs(context.Background(), tc.f)
			if err != nil {
				t.Fatalf("QueryLogs: %v", err)
			}
			if d := cmp.Diff(ids(page.Records), tc.want, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("ids (-got +want):\n%s", d)
			}
			if page.Next != "" {
				t.Errorf("Next = %q on the only page", page.Next)
			}
		})
	}
	for _, tc := range []struct {
		name string
		f    LogFilter
	}{
		{"negative limit", LogFilter{Limit: -1}},
		{"status class 6", LogFilter{StatusClass: 6}},
		{"to before from", LogFilter{From: at(time.Hour), To: at(0)}},
		{"mirrors neither only nor exclude", LogFilter{Mirrors: "all"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.QueryLogs(context.Background(), tc.f); !errors.Is(err, ErrBadQuery) {
				t.Errorf("QueryLogs = %v, want ErrBadQuery", err)
			}
		})
	}
}

func testPagination(t *testing.T, db *DB) {
	// Seven records share one time, so pages must break ties by ID.
	var recs []Record
	var want []string
	for i := 9; i >= 0; i-- {
		tm := at(time.Minute)
		if i >= 7 {
			tm = at(time.Duration(i) * time.Minute)
		}
		recs = append(recs, Record{ID: fmt.Sprintf("id-%02d", i), Time: tm, TenantID: "t"})
		want = append(want, fmt.Sprintf("id-%02d", i))
	}
	insert(t, db, recs...)
	insert(t, db, Record{ID: "other", Time: at(time.Minute), TenantID: "u"}) // filtered out

	var got []string
	f := LogFilter{TenantID: "t", Limit: 3}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		page, err := db.QueryLogs(context.Background(), f)
		if err != nil {
			t.Fatalf("QueryLogs: %v", err)
		}
		if len(page.Records) > 3 {
			t.Fatalf("page of %d records, limit 3", len(page.Records))
		}
		got = append(got, ids(page.Records)...)
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("ids across pages (-got +want):\n%s", d)
	}
}

func testPageLimits(t *testing.T, db *DB) {
	recs := make([]Record, maxPageSize+1)
	for i := range recs {
		recs[i] = Record{ID: fmt.Sprintf("id-%04d", i), Time: at(time.Duration(i) * time.Millisecond)}
	}
	insert(t, db, recs...)
	for _, tc := range []struct {
		name  string
		limit int
		want  int
	}{
		{"default", 0, defaultPageSize},
		{"asked", 7, 7},
		{"capped", 5000, maxPageSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := db.QueryLogs(context.Background(), LogFilter{Limit: tc.limit})
			if err != nil {
				t.Fatalf("QueryLogs: %v", err)
			}
			if len(page.Records) != tc.want || page.Next == "" {
				t.Errorf("got %d records, Next %q; want %d and a cursor", len(page.Records), page.Next, tc.want)
			}
		})
	}
}

func testBadCursor(t *testing.T, db *DB) {
	insert(t, db, Record{ID: "a", Time: t0})
	for _, c := range badCursors {
		if _, err := db.QueryLogs(context.Background(), LogFilter{Cursor: c}); !errors.Is(err, ErrBadCursor) {
			t.Errorf("QueryLogs(cursor %q) = %v, want ErrBadCursor", c, err)
		}
	}
}

func testPrune(t *testing.T, db *DB) {
	seed := func() {
		clearLogs(t, db)
		var recs []Record
		for i := range 10 {
			recs = append(recs, Record{ID: fmt.Sprintf("id-%d", i), Time: at(time.Duration(i/2) * time.Minute),
				Metadata: map[string]string{"i": fmt.Sprint(i)}})
		}
		insert(t, db, recs...)
	}
	for _, tc := range []struct {
		name        string
		before      time.Time
		keep        int
		wantDeleted int64
		want        []string
	}{
		{"nothing asked", time.Time{}, 0, 0, []string{"id-9", "id-8", "id-7", "id-6", "id-5", "id-4", "id-3", "id-2", "id-1", "id-0"}},
		{"by age", at(3 * time.Minute), 0, 6, []string{"id-9", "id-8", "id-7", "id-6"}},
		{"by count", time.Time{}, 4, 6, []string{"id-9", "id-8", "id-7", "id-6"}},
		{"by count splits equal times by id", time.Time{}, 3, 7, []string{"id-9", "id-8", "id-7"}},
		{"count above total", time.Time{}, 50, 0, []string{"id-9", "id-8", "id-7", "id-6", "id-5", "id-4", "id-3", "id-2", "id-1", "id-0"}},
		{"age then count", at(time.Minute), 5, 5, []string{"id-9", "id-8", "id-7", "id-6", "id-5"}},
		{"everything", at(time.Hour), 0, 10, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed()
			n, err := db.PruneLogs(context.Background(), tc.before, tc.keep)
			if err != nil {
				t.Fatalf("PruneLogs: %v", err)
			}
			if n != tc.wantDeleted {
				t.Errorf("deleted %d, want %d", n, tc.wantDeleted)
			}
			page, err := db.QueryLogs(context.Background(), LogFilter{})
			if err != nil {
				t.Fatalf("QueryLogs: %v", err)
			}
			if d := cmp.Diff(ids(page.Records), tc.want, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("left (-got +want):\n%s", d)
			}
			if n := countRows(t, db, "request_log_metadata"); n != len(tc.want) {
				t.Errorf("%d metadata rows left, want %d (one per record left)", n, len(tc.want))
			}
		})
	}
}

func testPruneInChunks(t *testing.T, db *DB) {
	var recs []Record
	for i := range 11 {
		recs = append(recs, Record{ID: fmt.Sprintf("id-%02d", i), Time: at(time.Duration(i) * time.Second)})
	}
	insert(t, db, recs...)
	n, err := db.pruneOlder(context.Background(), at(10*time.Second).UnixMicro(), "", 3)
	if err != nil {
		t.Fatalf("pruneOlder: %v", err)
	}
	if left := countRows(t, db, "request_logs"); n != 10 || left != 1 {
		t.Errorf("deleted %d with %d left, want 10 and 1", n, left)
	}
}
