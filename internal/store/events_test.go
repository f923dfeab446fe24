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

func TestEventsSQLite(t *testing.T) { testEvents(t, openTest(t, sqliteConfig(t))) }

func TestEventsPostgres(t *testing.T) { testEvents(t, openTest(t, postgresConfig(t))) }

// testEvents is the alert-event contract every driver must meet.
func testEvents(t *testing.T, db *DB) {
	parts := []suitePart{
		{"RoundTrip", testEventsRoundTrip},
		{"Filters", testEventsFilters},
		{"Pagination", testEventsPagination},
		{"BadInput", testEventsBadInput},
		{"TextIsCleanedAndCut", testEventsText},
	}
	for i := range parts {
		run := parts[i].run
		parts[i].run = func(t *testing.T, db *DB) {
			if _, err := db.w.Exec("DELETE FROM events"); err != nil {
				t.Fatalf("clear events: %v", err)
			}
			run(t, db)
		}
	}
	runSuite(t, db, parts)
}

// insertEvent stores e or fails the test.
func insertEvent(t *testing.T, db *DB, e Event) Event {
	t.Helper()
	got, err := db.InsertEvent(context.Background(), e)
	if err != nil {
		t.Fatalf("InsertEvent(%+v): %v", e, err)
	}
	return got
}

// listEvents returns one page or fails the test.
func listEvents(t *testing.T, db *DB, f EventFilter) ([]Event, string) {
	t.Helper()
	es, next, err := db.ListEvents(context.Background(), f)
	if err != nil {
		t.Fatalf("ListEvents(%+v): %v", f, err)
	}
	return es, next
}

// eventMessages lists the Message of each event in order.
func eventMessages(es []Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Message
	}
	return out
}

func testEventsRoundTrip(t *testing.T, db *DB) {
	useClock(db, at(time.Hour))
	full := Event{ID: 999, Time: at(time.Minute + 1500*time.Nanosecond), Kind: "traffic.spike", Severity: SeverityCritical,
		Subject: "key:key_ABC", Message: "traffic spike on key key_ABC", Detail: map[string]string{"rate": "2000", "baseline": "100"}}
	detail := full.Detail
	got1 := insertEvent(t, db, full)
	if got1.ID <= 0 || got1.ID == 999 {
		t.Errorf("InsertEvent ID = %d, want one the store assigned", got1.ID)
	}
	if want := at(time.Minute + time.Microsecond); !got1.Time.Equal(want) || got1.Time.Location() != time.UTC {
		t.Errorf("InsertEvent Time = %v, want %v in UTC (cut to microseconds)", got1.Time, want)
	}
	if len(detail) != 2 {
		t.Errorf("InsertEvent modified its Detail: %v", detail)
	}
	stamped := insertEvent(t, db, Event{Kind: "budget.soft_limit", Subject: "team:t1"}) // no time, no severity
	if !stamped.Time.Equal(at(time.Hour)) || stamped.Severity != SeverityWarning || stamped.ID <= got1.ID {
		t.Errorf("InsertEvent stamped = %+v, want the store's clock, severity warning and a larger ID than %d", stamped, got1.ID)
	}
	got, next := listEvents(t, db, EventFilter{})
	want := []Event{stamped, got1}
	if d := cmp.Diff(got, want); d != "" || next != "" {
		t.Errorf("ListEvents (-got +want):\n%s\nnext %q", d, next)
	}
	if len(got) == 2 && got[0].Detail != nil {
		t.Errorf("empty Detail read back as %v, want nil", got[0].Detail)
	}
}

func testEventsFilters(t *testing.T, db *DB) {
	for i, e := range []Event{
		{Kind: "traffic.spike", Subject: "key:a"},
		{Kind: "traffic.spike", Subject: "ip:203.0.113.7"},
		{Kind: "budget.exceeded", Subject: "key:a"},
		{Kind: "budget.soft_limit", Subject: "team:t1"},
		{Kind: "credential.disabled", Subject: "credential:c1"},
	} {
		e.Time = at(time.Duration(i) * time.Minute)
		e.Message = fmt.Sprint(i)
		insertEvent(t, db, e)
	}
	for _, tc := range []struct {
		name string
		f    EventFilter
		want []string
	}{
		{"all, newest first", EventFilter{}, []string{"4", "3", "2", "1", "0"}},
		{"kind", EventFilter{Kind: "traffic.spike"}, []string{"1", "0"}},
		{"subject", EventFilter{Subject: "key:a"}, []string{"2", "0"}},
		{"kind and subject", EventFilter{Kind: "budget.exceeded", Subject: "key:a"}, []string{"2"}},
		{"from inclusive", EventFilter{From: at(3 * time.Minute)}, []string{"4", "3"}},
		{"to exclusive", EventFilter{To: at(time.Minute)}, []string{"0"}},
		{"from and to", EventFilter{From: at(time.Minute), To: at(3 * time.Minute)}, []string{"2", "1"}},
		{"subjects", EventFilter{Subjects: []string{"key:a", "team:t1"}}, []string{"3", "2", "0"}},
		{"subjects and subject", EventFilter{Subject: "key:a", Subjects: []string{"team:t1"}}, []string{}},
		{"empty subjects match nothing", EventFilter{Subjects: []string{}}, []string{}},
		{"unknown kind", EventFilter{Kind: "nope"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := listEvents(t, db, tc.f)
			if d := cmp.Diff(eventMessages(got), tc.want, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("(-got +want):\n%s", d)
			}
		})
	}
}

func testEventsPagination(t *testing.T, db *DB) {
	// Seven events, two of them sharing each time, so the cursor must
	// break ties by ID.
	var want []string
	for i := range 7 {
		insertEvent(t, db, Event{Kind: "k", Time: at(time.Duration(i/2) * time.Second), Message: fmt.Sprint(i)})
		want = append([]string{fmt.Sprint(i)}, want...)
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		es, next := listEvents(t, db, EventFilter{Limit: 3, Cursor: cursor})
		if len(es) > 3 {
			t.Fatalf("page of %d, want at most 3", len(es))
		}
		got = append(got, eventMessages(es)...)
		if next == "" {
			break
		}
		cursor = next
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("pages (-got +want):\n%s", d)
	}
	// A cursor from an exactly full last page returns an empty page.
	es, next := listEvents(t, db, EventFilter{Limit: 7})
	if len(es) != 7 || next != "" {
		t.Errorf("Limit 7 of 7: %d events, next %q; want 7 and no cursor", len(es), next)
	}
}

func testEventsBadInput(t *testing.T, db *DB) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		e    Event
	}{
		{"no kind", Event{Subject: "key:a"}},
		{"unknown severity", Event{Kind: "k", Severity: "fatal"}},
	} {
		if _, err := db.InsertEvent(ctx, tc.e); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s: InsertEvent = %v, want ErrBadRecord", tc.name, err)
		}
	}
	if n := countRows(t, db, "events"); n != 0 {
		t.Errorf("%d events stored after bad input, want 0", n)
	}
	for _, tc := range []struct {
		name   string
		f      EventFilter
		target error
	}{
		{"negative limit", EventFilter{Limit: -1}, ErrBadQuery},
		{"to before from", EventFilter{From: at(time.Hour), To: at(0)}, ErrBadQuery},
		{"too many subjects", EventFilter{Subjects: make([]string, maxEventSubjects+1)}, ErrBadQuery},
		{"garbage cursor", EventFilter{Cursor: "!!"}, ErrBadCursor},
		{"log cursor", EventFilter{Cursor: encodeCursor(1, "req_1")}, ErrBadCursor},
	} {
		if _, _, err := db.ListEvents(ctx, tc.f); !errors.Is(err, tc.target) {
			t.Errorf("%s: ListEvents = %v, want %v", tc.name, err, tc.target)
		}
	}
}

func testEventsText(t *testing.T, db *DB) {
	long := strings.Repeat("é", MaxEventMessage) // 2 bytes each
	got := insertEvent(t, db, Event{Kind: "k\x00", Subject: "key:\xff", Message: long,
		Detail: map[string]string{strings.Repeat("k", 100): long, "bad": "a\x00b"}})
	want := Event{ID: got.ID, Time: got.Time, Kind: "k\uFFFD", Severity: SeverityWarning, Subject: "key:\uFFFD",
		Message: strings.Repeat("é", MaxEventMessage/2),
		Detail: map[string]string{strings.Repeat("k", MaxMetadataKey): strings.Repeat("é", MaxEventDetail/2),
			"bad": "a\uFFFDb"}}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("InsertEvent (-got +want):\n%s", d)
	}
	read, _ := listEvents(t, db, EventFilter{Kind: "k\x00"}) // the filter is cleaned the same way
	if d := cmp.Diff(read, []Event{want}); d != "" {
		t.Errorf("ListEvents (-got +want):\n%s", d)
	}
}
