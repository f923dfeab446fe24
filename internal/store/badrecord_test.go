package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// testLongTextIsCut guards the PostgreSQL log against a client-controlled
// value too long for an index: an 8,000-character model name used to fail
// with "54000 index row size 8056 exceeds …" and so fail its whole batch.
// Every short text field is now cut to its limit at a character boundary,
// and filters cut their values the same way.
func testLongTextIsCut(t *testing.T, db *DB) {
	b := make([]byte, 4000)
	rand.Read(b)
	model := hex.EncodeToString(b) // 8,000 incompressible characters
	rep := func(s string, n int) string { return strings.Repeat(s, n) }
	in := Record{
		ID: "long", ClientRequestID: rep("c", 1000), Time: t0,
		TenantID: "ab" + rep("😀", 100), // 2 + 4k bytes: the cut falls inside a character
		TeamID:   rep("m", 1000), KeyID: rep("k", 1000), ClientIP: rep("i", 1000), Route: rep("r", 1000),
		ModelRequested: model,
		Provider:       rep("p", 1000),
		Model:          "x" + rep("é", 4000), // 1 + 2k bytes
		ErrorCode:      rep("e", 1000), ErrorType: rep("y", 1000), CacheStatus: rep("s", 1000),
		Guardrails: []string{rep("g", 1000), "pii:redact"},
		Metadata: map[string]string{
			rep("k", 100) + "b": `"second"`,
			rep("k", 100) + "a": `"first"`, // equal to the above once cut; first in byte order wins
			"v":                 `"` + rep("v", 2000) + `"`,
		},
		UserAgent: rep("u", 1000),
	}
	want := Record{
		ID: "long", ClientRequestID: rep("c", 256), Time: t0,
		TenantID: "ab" + rep("😀", 63),
		TeamID:   rep("m", 256), KeyID: rep("k", 256), ClientIP: rep("i", 256), Route: rep("r", 256),
		ModelRequested: model[:256],
		Provider:       rep("p", 256),
		Model:          "x" + rep("é", 127),
		ErrorCode:      rep("e", 256), ErrorType: rep("y", 256), CacheStatus: rep("s", 256),
		Guardrails: []string{rep("g", 256), "pii:redact"},
		Metadata: map[string]string{
			rep("k", 64): `"first"`,
			"v":          `"` + rep("v", 1023),
		},
		UserAgent: rep("u", 512),
	}
	insert(t, db, in)
	got, err := db.GetLog(context.Background(), in.ID)
	if err != nil {
		t.Fatalf("GetLog: %v", err)
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("stored record (-got +want):\n%s", d)
	}
	for _, tc := range []struct {
		name string
		f    LogFilter
	}{
		{"model", LogFilter{Model: model}},
		{"served model", LogFilter{Model: in.Model}},
		{"client request id", LogFilter{ClientRequestID: in.ClientRequestID}},
		{"tenant", LogFilter{TenantID: in.TenantID}},
		{"metadata", LogFilter{Metadata: map[string]string{rep("k", 100) + "a": `"first"`, "v": in.Metadata["v"]}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := db.QueryLogs(context.Background(), tc.f)
			if err != nil {
				t.Fatalf("QueryLogs: %v", err)
			}
			if d := cmp.Diff(ids(page.Records), []string{"long"}); d != "" {
				t.Errorf("filter on the uncut value (-got +want):\n%s", d)
			}
		})
	}
}

// rejectModel makes db refuse, as a constraint violation, every record
// whose model_requested is model, until the test ends: a trigger raising
// ABORT on SQLite, a CHECK constraint on PostgreSQL. Once text is cut, no
// record InsertLogs writes makes either database refuse it, so tests of
// that path install a rule that does: the refusal, its error and the
// rolled-back transaction are the databases' own.
func rejectModel(t *testing.T, db *DB, model string) {
	t.Helper()
	add, drop := "CREATE TRIGGER test_reject BEFORE INSERT ON request_logs WHEN NEW.model_requested = '"+model+
		"' BEGIN SELECT RAISE(ABORT, 'test: record rejected'); END", "DROP TRIGGER test_reject"
	if db.d.name == DriverPostgres {
		add = "ALTER TABLE request_logs ADD CONSTRAINT test_reject CHECK (model_requested <> '" + model + "')"
		drop = "ALTER TABLE request_logs DROP CONSTRAINT test_reject"
	}
	if _, err := db.w.Exec(add); err != nil {
		t.Fatalf("install the reject rule: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.w.Exec(drop); err != nil {
			t.Errorf("drop the reject rule: %v", err)
		}
	})
}

// testDataRejectionIsBadRecord guards the line between a record the
// database refuses (ErrBadRecord: retrying it is pointless, the others
// can go in alone) and a database that is not there (no ErrBadRecord:
// keep everything for later).
func testDataRejectionIsBadRecord(t *testing.T, db *DB) {
	ctx := context.Background()
	rejectModel(t, db, "reject-me")
	good1 := Record{ID: "good-1", Time: at(0), ModelRequested: "gpt", Metadata: map[string]string{"n": "1"}}
	bad := Record{ID: "bad", Time: at(time.Second), ModelRequested: "reject-me", Metadata: map[string]string{"n": "2"}}
	good2 := Record{ID: "good-2", Time: at(2 * time.Second), ModelRequested: "gpt"}

	err := db.InsertLogs(ctx, []Record{good1, bad, good2})
	if !errors.Is(err, ErrBadRecord) {
		t.Fatalf("InsertLogs(batch with a refused record) = %v, want ErrBadRecord", err)
	}
	if n := countRows(t, db, "request_logs"); n != 0 {
		t.Errorf("%d rows written, want none (the batch is all or nothing)", n)
	}
	for _, r := range []Record{good1, bad, good2} {
		err := db.InsertLogs(ctx, []Record{r})
		if wantBad := r.ID == "bad"; errors.Is(err, ErrBadRecord) != wantBad || (err != nil) != wantBad {
			t.Errorf("InsertLogs(%s) = %v, want ErrBadRecord: %t", r.ID, err, wantBad)
		}
	}
	page, err := db.QueryLogs(ctx, LogFilter{})
	if err != nil {
		t.Fatalf("QueryLogs: %v", err)
	}
	if d := cmp.Diff(page.Records, []Record{good2, good1}); d != "" {
		t.Errorf("stored one by one (-got +want):\n%s", d)
	}

	// Failures that are not the data's.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.InsertLogs(cancelled, []Record{{ID: "c", Time: t0}}); err == nil || errors.Is(err, ErrBadRecord) {
		t.Errorf("InsertLogs(cancelled) = %v, want an error that is not ErrBadRecord", err)
	}
}

func TestIsDataErrorSQLite(t *testing.T) {
	db := openTest(t, sqliteConfig(t))
	testIsDataError(t, db, []dataErrorCase{
		{"NOT NULL", "INSERT INTO request_logs (id, time_us) VALUES (NULL, 1)", true},
		{"STRICT datatype", "INSERT INTO request_logs (id, time_us) VALUES ('x', 'not a number')", true},
		{"duplicate key", "INSERT INTO request_logs (id, time_us) VALUES ('d', 1), ('d', 2)", true},
		{"mismatch: text rowid", "INSERT INTO request_logs (rowid, id, time_us) VALUES ('abc', 'y', 1)", true},
		{"too big", "SELECT zeroblob(2000000000)", true},
		{"syntax", "SELEC 1", false},
		{"no such table", "SELECT * FROM nope", false},
	})
	// A write through the read-only pool is refused for the connection,
	// not the data.
	_, err := db.r.Exec("INSERT INTO request_logs (id, time_us) VALUES ('ro', 1)")
	if err == nil || isDataError(err) {
		t.Errorf("write on the read-only pool: err %v, isDataError %t; want an error that is not", err, isDataError(err))
	}
}

func TestIsDataErrorPostgres(t *testing.T) {
	db := openTest(t, postgresConfig(t))
	b := make([]byte, 4000)
	rand.Read(b)
	raise := func(code string) string {
		return "DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '" + code + "'; END $$"
	}
	testIsDataError(t, db, []dataErrorCase{
		// The error the 8,000-character model name caused, for real.
		{"index row too large (54000)", "INSERT INTO request_logs (id, time_us, model_requested) VALUES ('big', 1, '" +
			hex.EncodeToString(b) + "')", true},
		{"division by zero (22012)", "SELECT 1/0", true},
		{"not null (23502)", "INSERT INTO request_logs (id, time_us) VALUES (NULL, 1)", true},
		{"string data right truncation (22001)", raise("22001"), true},
		{"untranslatable character (22P05)", raise("22P05"), true},
		{"check violation (23514)", raise("23514"), true},
		{"foreign key violation (23503)", raise("23503"), true},
		{"statement too complex (54001)", raise("54001"), true},
		{"disk full (53100)", raise("53100"), false},
		{"admin shutdown (57P01)", raise("57P01"), false},
		{"connection failure (08006)", raise("08006"), false},
		{"serialization failure (40001)", raise("40001"), false},
		{"read-only transaction (25006)", raise("25006"), false},
		{"undefined table (42P01)", "SELECT * FROM nope", false},
	})
}

type dataErrorCase struct {
	name string
	sql  string
	want bool
}

// testIsDataError runs each case's statement on db's write pool, which
// must fail, and checks how its error is classified, also once wrapped.
func testIsDataError(t *testing.T, db *DB, cases []dataErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := db.w.Query(tc.sql)
			if err == nil {
				for rows.Next() {
				}
				err = rows.Err()
				rows.Close()
			}
			if err == nil {
				t.Fatal("the statement succeeded; the case needs one that fails")
			}
			if got := isDataError(err); got != tc.want {
				t.Errorf("isDataError(%v) = %t, want %t", err, got, tc.want)
			}
			marked := markBadRecord(wrapf(err))
			if got := errors.Is(marked, ErrBadRecord); got != tc.want {
				t.Errorf("errors.Is(markBadRecord(…), ErrBadRecord) = %t, want %t", got, tc.want)
			}
			if !errors.Is(marked, err) {
				t.Errorf("markBadRecord lost the cause: %v", marked)
			}
		})
	}
	if markBadRecord(nil) != nil {
		t.Error("markBadRecord(nil) is not nil")
	}
	if err := errors.New("plain"); markBadRecord(err) != err {
		t.Error("markBadRecord changed an error that is no database's")
	}
}

// wrapf wraps err the way callers up the stack do.
func wrapf(err error) error { return errors.Join(errors.New("context"), err) }

// FuzzCutText holds cutText to its contract for any input and limit: valid
// UTF-8 without NUL, at most the limit, a prefix of the cleaned text, and
// cut as late as a character boundary allows.
func FuzzCutText(f *testing.F) {
	for _, s := range []string{"", "abc", "ab" + strings.Repeat("😀", 100), "x" + strings.Repeat("é", 200), "a\xffb\x00c", "\xf0\x9f"} {
		f.Add(s, 3)
		f.Add(s, MaxShortText)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 4096 {
			return
		}
		got := cutText(s, max)
		clean := cleanText(s)
		switch {
		case len(got) > max:
			t.Fatalf("cutText(%q, %d) = %q: %d bytes", s, max, got, len(got))
		case !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0:
			t.Fatalf("cutText(%q, %d) = %q: not valid text", s, max, got)
		case !strings.HasPrefix(clean, got):
			t.Fatalf("cutText(%q, %d) = %q: not a prefix of %q", s, max, got, clean)
		case len(got) < len(clean) && len(got)+utf8.RuneLen([]rune(clean[len(got):])[0]) <= max:
			t.Fatalf("cutText(%q, %d) = %q: cut a character early", s, max, got)
		}
	})
}
