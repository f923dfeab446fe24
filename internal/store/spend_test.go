package store

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSpendSQLite(t *testing.T) { testSpend(t, openTest(t, sqliteConfig(t))) }

func TestSpendPostgres(t *testing.T) { testSpend(t, openTest(t, postgresConfig(t))) }

// testSpend is the budget-spend contract every driver must meet.
func testSpend(t *testing.T, db *DB) {
	parts := []suitePart{
		{"AddsUp", testSpendAddsUp},
		{"ManyKeys", testSpendManyKeys},
		{"BadInput", testSpendBadInput},
		{"ConcurrentAdders", testSpendConcurrent},
	}
	for i := range parts {
		run := parts[i].run
		parts[i].run = func(t *testing.T, db *DB) {
			if _, err := db.w.Exec("DELETE FROM budget_spend"); err != nil {
				t.Fatalf("clear budget_spend: %v", err)
			}
			run(t, db)
		}
	}
	runSuite(t, db, parts)
}

func addSpend(t *testing.T, db *DB, ds ...SpendDelta) {
	t.Helper()
	if err := db.AddSpend(context.Background(), ds); err != nil {
		t.Fatalf("AddSpend: %v", err)
	}
}

func getSpend(t *testing.T, db *DB, k SpendKey) int64 {
	t.Helper()
	v, err := db.GetSpend(context.Background(), k)
	if err != nil {
		t.Fatalf("GetSpend(%+v): %v", k, err)
	}
	return v
}

func testSpendAddsUp(t *testing.T, db *DB) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2025, 3, 9, 0, 0, 0, 0, ny)
	t0 := time.Date(2025, 3, 9, 12, 0, 0, 0, time.UTC)
	db.now = func() time.Time { return t0 }
	k := SpendKey{Scope: "key", ScopeID: "key_a", PeriodStart: day}
	life := SpendKey{Scope: "team", ScopeID: "team_1"}                          // lifetime: period 0
	addSpend(t, db, SpendDelta{k, 100}, SpendDelta{life, 7}, SpendDelta{k, 20}) // same period twice in one call
	db.now = func() time.Time { return t0.Add(time.Second) }
	addSpend(t, db, SpendDelta{k, 3})
	addSpend(t, db) // nothing: no statement
	addSpend(t, db, SpendDelta{SpendKey{Scope: "key", ScopeID: "key_zero"}, 0})
	if got := getSpend(t, db, k); got != 123 {
		t.Errorf("key spend %d, want 123", got)
	}
	if got := getSpend(t, db, life); got != 7 {
		t.Errorf("lifetime spend %d, want 7", got)
	}
	// The same instant in another zone is the same period.
	if got := getSpend(t, db, SpendKey{Scope: "key", ScopeID: "key_a", PeriodStart: day.UTC()}); got != 123 {
		t.Errorf("the period given in UTC: %d", got)
	}
	if got := getSpend(t, db, SpendKey{Scope: "key", ScopeID: "key_a", PeriodStart: day.AddDate(0, 0, 1)}); got != 0 {
		t.Errorf("the next day: %d, want 0", got)
	}
	if n := countRows(t, db, "budget_spend"); n != 2 {
		t.Errorf("%d rows, want 2 (a zero delta writes nothing)", n)
	}
	got, err := db.LoadSpend(context.Background(), []SpendKey{life, k, {Scope: "tenant", ScopeID: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Scope < got[j].Scope })
	want := []Spend{
		{SpendKey: SpendKey{Scope: "key", ScopeID: "key_a", PeriodStart: day.UTC()}, Micros: 123, UpdatedAt: t0.Add(time.Second)},
		{SpendKey: life, Micros: 7, UpdatedAt: t0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LoadSpend (-want +got):\n%s", diff)
	}
}

func testSpendManyKeys(t *testing.T, db *DB) {
	var (
		ds   []SpendDelta
		keys []SpendKey
	)
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2*spendChunk + 7 {
		k := SpendKey{Scope: "key", ScopeID: fmt.Sprintf("key_%04d", i), PeriodStart: start}
		ds = append(ds, SpendDelta{k, int64(i + 1)})
		keys = append(keys, k)
	}
	addSpend(t, db, ds...)
	addSpend(t, db, ds...)
	got, err := db.LoadSpend(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(keys) {
		t.Fatalf("%d rows, want %d", len(got), len(keys))
	}
	for _, sp := range got {
		var i int
		fmt.Sscanf(sp.ScopeID, "key_%d", &i)
		if sp.Micros != 2*int64(i+1) {
			t.Errorf("%s: %d, want %d", sp.ScopeID, sp.Micros, 2*(i+1))
		}
	}
}

func testSpendBadInput(t *testing.T, db *DB) {
	for _, d := range []SpendDelta{
		{SpendKey{Scope: "", ScopeID: "x"}, 1},
		{SpendKey{Scope: "key", ScopeID: ""}, 1},
		{SpendKey{Scope: "key", ScopeID: "a\x00b"}, 1},
		{SpendKey{Scope: "key", ScopeID: string([]byte{0xff})}, 1},
	} {
		good := SpendDelta{SpendKey{Scope: "key", ScopeID: "good"}, 5}
		err := db.AddSpend(context.Background(), []SpendDelta{good, d})
		wantErr(t, fmt.Sprintf("AddSpend(%q)", d.ScopeID), err, ErrBadRecord)
	}
	if n := countRows(t, db, "budget_spend"); n != 0 {
		t.Errorf("a refused call wrote %d rows", n)
	}
}

// testSpendConcurrent adds from several goroutines (as replicas would):
// every delta counts once.
func testSpendConcurrent(t *testing.T, db *DB) {
	k := SpendKey{Scope: "tenant", ScopeID: "t1", PeriodStart: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
	const workers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				errs <- db.AddSpend(context.Background(), []SpendDelta{{k, 2}, {SpendKey{Scope: "key", ScopeID: "k"}, 1}})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := getSpend(t, db, k); got != 2*workers*each {
		t.Errorf("spend %d, want %d", got, 2*workers*each)
	}
}
