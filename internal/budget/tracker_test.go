package budget

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/store"
)

// memStore is a Store in memory; failWrites and failReads make it fail.
type memStore struct {
	mu                    sync.Mutex
	rows                  map[periodKey]int64
	writes                int
	failWrites, failReads bool
}

func newMemStore() *memStore { return &memStore{rows: map[periodKey]int64{}} }

func (m *memStore) AddSpend(_ context.Context, ds []store.SpendDelta) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWrites {
		return errors.New("store down")
	}
	m.writes++
	for _, d := range ds {
		m.rows[keyOf(d.SpendKey)] += d.Micros
	}
	return nil
}

func (m *memStore) LoadSpend(_ context.Context, keys []store.SpendKey) ([]store.Spend, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failReads {
		return nil, errors.New("store down")
	}
	var out []store.Spend
	for _, k := range keys {
		if v, ok := m.rows[keyOf(k)]; ok {
			out = append(out, store.Spend{SpendKey: k, Micros: v})
		}
	}
	return out, nil
}

func (m *memStore) get(k store.SpendKey) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rows[keyOf(k)]
}

func (m *memStore) add(k store.SpendKey, v int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows[keyOf(k)] += v
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// alerts collects a Tracker's alerts as "kind subject".
type alerts struct {
	mu  sync.Mutex
	got []string
}

func (a *alerts) on(al Alert) {
	a.mu.Lock()
	a.got = append(a.got, al.Kind+" "+al.Status.Scope+":"+al.Status.ID)
	a.mu.Unlock()
}

func (a *alerts) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	got := a.got
	a.got = nil
	return got
}

type fixture struct {
	t      *testing.T
	st     *memStore
	clk    *clock
	alerts *alerts
	tr     *Tracker
}

func newFixture(t *testing.T, st *memStore, at time.Time) *fixture {
	f := &fixture{t: t, st: st, clk: &clock{t: at}, alerts: &alerts{}}
	f.tr = New(Config{Store: st, AlertPercent: 80, OnAlert: f.alerts.on, Now: f.clk.now})
	return f
}

func (f *fixture) sync() {
	f.t.Helper()
	if err := f.tr.Sync(context.Background()); err != nil {
		f.t.Fatalf("Sync: %v", err)
	}
}

// exceeded reports whether p is refused now.
func (f *fixture) exceeded(p *auth.Principal) bool {
	st, ok := f.tr.Check(p)
	return ok && st.Exceeded()
}

func keyWith(id string, micros int64, period, tz string) *auth.Principal {
	return &auth.Principal{KeyID: id, BudgetMicros: micros, BudgetPeriod: period, BudgetTZ: tz}
}

var (
	ny      = func() *time.Location { l, _ := Zone("America/New_York"); return l }()
	nyNoon  = time.Date(2025, 3, 8, 12, 0, 0, 0, ny)
	dollar  = int64(1_000_000)
	noAlert []string
)

func TestCheckRefusesOnceSpentAndPassesAfterRollover(t *testing.T) {
	f := newFixture(t, newMemStore(), nyNoon)
	p := keyWith("key_a", 10*dollar, PeriodDaily, "America/New_York")
	if _, ok := f.tr.Check(&auth.Principal{KeyID: "key_nobudget"}); ok {
		t.Fatal("a key without a budget has a status")
	}
	if f.exceeded(p) {
		t.Fatal("a fresh budget refuses its first request")
	}
	for range 9 {
		f.tr.Add(p, dollar)
	}
	st, _ := f.tr.Check(p)
	if st.Exceeded() || st.Remaining() != dollar || st.Spent != 9*dollar {
		t.Fatalf("after $9 of $10: %+v", st)
	}
	f.tr.Add(p, dollar)
	if !f.exceeded(p) {
		t.Fatal("spend reached the budget, but the next request passes")
	}
	// 23:59:59 local: still the same day.
	f.clk.set(time.Date(2025, 3, 8, 23, 59, 59, 0, ny))
	if !f.exceeded(p) {
		t.Fatal("refusal ended before local midnight")
	}
	// Local midnight (05:00 UTC): a new day, a new budget.
	f.clk.set(time.Date(2025, 3, 9, 0, 0, 0, 0, ny))
	st, _ = f.tr.Check(p)
	if st.Exceeded() || st.Spent != 0 {
		t.Fatalf("after the rollover: %+v", st)
	}
	wantStart := time.Date(2025, 3, 9, 0, 0, 0, 0, ny)
	if !st.Start.Equal(wantStart) || !st.End.Equal(wantStart.AddDate(0, 0, 1)) || st.End.Sub(st.Start) != 23*time.Hour {
		t.Errorf("period [%v, %v), want the 23-hour DST day from %v", st.Start, st.End, wantStart)
	}
	// The old day's spend, never synced, is written to the old day.
	f.sync()
	oldDay := store.SpendKey{Scope: "key", ScopeID: "key_a", PeriodStart: time.Date(2025, 3, 8, 0, 0, 0, 0, ny)}
	if got := f.st.get(oldDay); got != 10*dollar {
		t.Errorf("old day in the store: %d, want %d", got, 10*dollar)
	}
	if got := f.st.get(store.SpendKey{Scope: "key", ScopeID: "key_a", PeriodStart: wantStart}); got != 0 {
		t.Errorf("new day in the store: %d, want 0", got)
	}
}

func TestLifetimeBudgetNeverResets(t *testing.T) {
	f := newFixture(t, newMemStore(), nyNoon)
	p := keyWith("key_total", 2*dollar, PeriodTotal, "")
	f.tr.Add(p, 2*dollar)
	f.clk.set(nyNoon.AddDate(3, 0, 0))
	st, _ := f.tr.Check(p)
	if !st.Exceeded() || !st.End.IsZero() || !st.Start.IsZero() {
		t.Fatalf("a lifetime budget three years on: %+v", st)
	}
	f.sync()
	if got := f.st.get(store.SpendKey{Scope: "key", ScopeID: "key_total"}); got != 2*dollar {
		t.Errorf("stored at period 0: %d", got)
	}
}

func TestTeamAndTenantCountEveryKey(t *testing.T) {
	f := newFixture(t, newMemStore(), nyNoon)
	team := auth.Limits{BudgetMicros: 5 * dollar, BudgetPeriod: PeriodMonthly}
	tenant := auth.Limits{BudgetMicros: 100 * dollar, BudgetPeriod: PeriodWeekly, BudgetTZ: "Europe/Berlin"}
	a := &auth.Principal{KeyID: "key_a", TeamID: "team_1", TenantID: "ten_1", Team: team, Tenant: tenant}
	b := &auth.Principal{KeyID: "key_b", TeamID: "team_1", TenantID: "ten_1", Team: team, Tenant: tenant}
	other := &auth.Principal{KeyID: "key_c", TeamID: "team_2", TenantID: "ten_1", Tenant: tenant}
	f.tr.Add(a, 3*dollar)
	if f.exceeded(b) {
		t.Fatal("team refused at $3 of $5")
	}
	f.tr.Add(b, 2*dollar)
	for _, p := range []*auth.Principal{a, b} {
		st, _ := f.tr.Check(p)
		if !st.Exceeded() || st.Scope != auth.ScopeTeam || st.ID != "team_1" {
			t.Errorf("%s: %+v, want the team's budget spent", p.KeyID, st)
		}
	}
	st, ok := f.tr.Check(other)
	if !ok || st.Exceeded() || st.Scope != auth.ScopeTenant || st.Spent != 5*dollar {
		t.Errorf("another team of the tenant: %+v", st)
	}
}

func TestCheckPicksTheTightestBudget(t *testing.T) {
	f := newFixture(t, newMemStore(), nyNoon)
	p := &auth.Principal{KeyID: "key_a", BudgetMicros: 10 * dollar, TeamID: "team_1",
		Team: auth.Limits{BudgetMicros: 4 * dollar}}
	f.tr.Add(p, dollar)
	st, _ := f.tr.Check(p)
	if st.Scope != auth.ScopeTeam || st.Remaining() != 3*dollar {
		t.Errorf("tightest: %+v, want the team with $3 left", st)
	}
}

func TestSyncSharesSpendBetweenTrackers(t *testing.T) {
	st := newMemStore()
	a, b := newFixture(t, st, nyNoon), newFixture(t, st, nyNoon)
	p := keyWith("key_shared", 10*dollar, PeriodDaily, "")
	a.tr.Add(p, 4*dollar)
	b.tr.Add(p, 5*dollar)
	a.sync()
	b.sync()
	a.sync()
	for name, f := range map[string]*fixture{"a": a, "b": b} {
		s, _ := f.tr.Check(p)
		if s.Spent != 9*dollar {
			t.Errorf("%s sees %d spent, want %d", name, s.Spent, 9*dollar)
		}
	}
	b.tr.Add(p, dollar)
	b.sync()
	a.sync()
	if !a.exceeded(p) {
		t.Error("a does not see the budget b spent")
	}
}

func TestPreloadKeepsSpendAcrossRestarts(t *testing.T) {
	st := newMemStore()
	p := keyWith("key_r", 10*dollar, PeriodDaily, "America/New_York")
	first := newFixture(t, st, nyNoon)
	for range 9 {
		first.tr.Add(p, dollar)
	}
	first.sync()
	if got := first.alerts.take(); !cmp.Equal(got, []string{"budget.soft_limit key:key_r"}) {
		t.Fatalf("first run alerts %q", got)
	}

	second := newFixture(t, st, nyNoon.Add(time.Minute))
	scopes, n := p.Scopes()
	if err := second.tr.Preload(context.Background(), scopes[:n]); err != nil {
		t.Fatal(err)
	}
	s, _ := second.tr.Check(p)
	if s.Spent != 9*dollar {
		t.Fatalf("after a restart: %d spent, want %d", s.Spent, 9*dollar)
	}
	second.tr.Add(p, dollar)
	second.sync()
	if got := second.alerts.take(); !cmp.Equal(got, []string{"budget.exceeded key:key_r"}) {
		t.Errorf("after a restart: alerts %q, want only budget.exceeded (the soft limit was alerted before)", got)
	}
	third := newFixture(t, st, nyNoon.Add(2*time.Minute))
	if err := third.tr.Preload(context.Background(), scopes[:n]); err != nil {
		t.Fatal(err)
	}
	if !third.exceeded(p) {
		t.Error("a restarted tracker passes a spent budget")
	}
	third.sync()
	if got := third.alerts.take(); got != nil {
		t.Errorf("a restart alerts again: %q", got)
	}
}

func TestAlertsOncePerPeriod(t *testing.T) {
	f := newFixture(t, newMemStore(), nyNoon)
	p := keyWith("key_al", 100, PeriodDaily, "America/New_York")
	scopes, n := p.Scopes()
	if err := f.tr.Preload(context.Background(), scopes[:n]); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		add  int64
		want []string
	}{
		{50, noAlert},
		{29, noAlert},
		{1, []string{"budget.soft_limit key:key_al"}},
		{5, noAlert},
		{20, []string{"budget.exceeded key:key_al"}},
		{20, noAlert},
	} {
		f.tr.Add(p, step.add)
		if got := f.alerts.take(); !cmp.Equal(got, step.want) {
			t.Fatalf("after adding %d: alerts %q, want %q", step.add, got, step.want)
		}
	}
	f.sync()
	if got := f.alerts.take(); got != nil {
		t.Fatalf("sync re-alerted: %q", got)
	}
	// The next day alerts again, crossing both at once, when the new
	// day's total has been read.
	f.clk.set(nyNoon.AddDate(0, 0, 1))
	f.tr.Add(p, 100)
	if got := f.alerts.take(); got != nil {
		t.Fatalf("alerted before the new day's total was read: %q", got)
	}
	f.sync()
	if got := f.alerts.take(); !cmp.Equal(got, []string{"budget.soft_limit key:key_al", "budget.exceeded key:key_al"}) {
		t.Errorf("next day: %q", got)
	}
}

func TestAlertWithoutPreloadComesWithTheFirstSync(t *testing.T) {
	st := newMemStore()
	f := newFixture(t, st, nyNoon)
	p := keyWith("key_new", 100, PeriodDaily, "")
	f.tr.Add(p, 90) // the entry's total is not known yet: no alert yet
	if got := f.alerts.take(); got != nil {
		t.Fatalf("alerted before the total was read: %q", got)
	}
	f.sync()
	if got := f.alerts.take(); !cmp.Equal(got, []string{"budget.soft_limit key:key_new"}) {
		t.Fatalf("first sync: %q", got)
	}
	f.sync()
	if got := f.alerts.take(); got != nil {
		t.Fatalf("second sync: %q", got)
	}

	// Spend that another process already recorded past the soft limit
	// is history: only this process's own crossing alerts.
	start, _ := Bounds(PeriodDaily, time.UTC, nyNoon)
	st.add(store.SpendKey{Scope: "key", ScopeID: "key_old", PeriodStart: start}, 85)
	q := keyWith("key_old", 100, PeriodDaily, "")
	f.tr.Add(q, 10)
	f.sync()
	if got := f.alerts.take(); got != nil {
		t.Fatalf("alerted a crossing it did not make: %q", got)
	}
	f.tr.Add(q, 5)
	if got := f.alerts.take(); !cmp.Equal(got, []string{"budget.exceeded key:key_old"}) {
		t.Fatalf("own crossing: %q", got)
	}
}

func TestSoftLimitOff(t *testing.T) {
	st := newMemStore()
	tr := New(Config{Store: st, AlertPercent: 0, OnAlert: func(a Alert) {
		if a.Kind == AlertSoftLimit {
			t.Errorf("soft-limit alert with alert_percent 0: %+v", a)
		}
	}})
	p := keyWith("key_x", 100, PeriodDaily, "")
	tr.Add(p, 99)
	if err := tr.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestChangedBudgetIsNotACrossing(t *testing.T) {
	f := newFixture(t, newMemStore(), nyNoon)
	p := keyWith("key_ch", 100, PeriodDaily, "")
	f.tr.Add(p, 10)
	f.sync()
	f.tr.Add(p, 90)
	if got := f.alerts.take(); len(got) != 2 {
		t.Fatalf("crossing both: %q", got)
	}
	// Raised to 1000: passes again; lowered below the spend: refused,
	// without alerts for either change.
	p.BudgetMicros = 1000
	if f.exceeded(p) {
		t.Fatal("a raised budget still refuses")
	}
	f.tr.Add(p, 700) // 800 of 1000: the soft limit crossed anew
	if got := f.alerts.take(); !cmp.Equal(got, []string{"budget.soft_limit key:key_ch"}) {
		t.Fatalf("after raising: %q", got)
	}
	p.BudgetMicros = 500
	if !f.exceeded(p) {
		t.Fatal("a budget lowered below the spend passes")
	}
	f.tr.Add(p, 1)
	if got := f.alerts.take(); got != nil {
		t.Fatalf("lowering alerted: %q", got)
	}
}

func TestChangedPeriodStartsFromTheStore(t *testing.T) {
	st := newMemStore()
	f := newFixture(t, st, nyNoon)
	p := keyWith("key_p", 100*dollar, PeriodDaily, "")
	f.tr.Add(p, 3*dollar)
	f.sync()
	monthStart, _ := Bounds(PeriodMonthly, time.UTC, nyNoon)
	st.add(store.SpendKey{Scope: "key", ScopeID: "key_p", PeriodStart: monthStart}, 40*dollar)
	p.BudgetPeriod = PeriodMonthly
	f.tr.Add(p, dollar)
	f.sync()
	s, _ := f.tr.Check(p)
	if s.Spent != 41*dollar || !s.Start.Equal(monthStart) {
		t.Errorf("monthly after daily: %+v, want $41 from %v", s, monthStart)
	}
}

func TestStoreFailuresKeepSpend(t *testing.T) {
	st := newMemStore()
	f := newFixture(t, st, nyNoon)
	p := keyWith("key_f", 10*dollar, PeriodDaily, "")
	k := store.SpendKey{Scope: "key", ScopeID: "key_f", PeriodStart: time.Date(2025, 3, 8, 0, 0, 0, 0, time.UTC)}
	st.failWrites = true
	f.tr.Add(p, 4*dollar)
	if err := f.tr.Sync(context.Background()); err == nil {
		t.Fatal("Sync with a failing store: no error")
	}
	if s, _ := f.tr.Check(p); s.Spent != 4*dollar {
		t.Fatalf("spend after a failed write: %d", s.Spent)
	}
	st.failWrites, st.failReads = false, true
	f.tr.Add(p, dollar)
	if err := f.tr.Sync(context.Background()); err == nil {
		t.Fatal("Sync with failing reads: no error")
	}
	if s, _ := f.tr.Check(p); s.Spent != 5*dollar || st.get(k) != 5*dollar {
		t.Fatalf("after a failed read: %d spent, %d stored", s.Spent, st.get(k))
	}
	st.failReads = false
	f.sync()
	f.sync()
	if s, _ := f.tr.Check(p); s.Spent != 5*dollar || st.get(k) != 5*dollar {
		t.Fatalf("recovered: %d spent, %d stored", s.Spent, st.get(k))
	}
	// A write failing across a rollover still lands on the old day.
	st.failWrites = true
	f.tr.Add(p, dollar)
	f.tr.Sync(context.Background()) //nolint:errcheck // fails by design
	f.clk.set(nyNoon.AddDate(0, 0, 1))
	f.tr.Check(p)
	st.failWrites = false
	f.sync()
	if got := st.get(k); got != 6*dollar {
		t.Errorf("old day after a failed write and a rollover: %d, want %d", got, 6*dollar)
	}
}

func TestIdleEntriesKeepTheirSpend(t *testing.T) {
	st := newMemStore()
	f := newFixture(t, st, nyNoon)
	p := keyWith("key_i", 2*dollar, PeriodTotal, "")
	f.tr.Add(p, 2*dollar)
	f.sync()
	f.clk.set(nyNoon.Add(idleTTL + time.Minute))
	st.add(store.SpendKey{Scope: "key", ScopeID: "key_i"}, dollar) // another replica
	st.mu.Lock()
	st.failReads = true
	st.mu.Unlock()
	f.sync() // idle: not read back, so the failing reads are not reached
	st.mu.Lock()
	st.failReads = false
	st.mu.Unlock()
	// Coming back, the budget is refused at once, from the last known total.
	if s, _ := f.tr.Check(p); !s.Exceeded() || s.Spent != 2*dollar {
		t.Fatalf("back from idling: %+v", s)
	}
	f.sync()
	if s, _ := f.tr.Check(p); s.Spent != 3*dollar {
		t.Errorf("after a sync: %d spent, want the other replica's dollar too", s.Spent)
	}
}

// TestConcurrentAddAndSync adds from many goroutines while syncs run; no
// micro-dollar may be lost or counted twice.
func TestConcurrentAddAndSync(t *testing.T) {
	st := newMemStore()
	f := newFixture(t, st, nyNoon)
	ps := []*auth.Principal{
		{KeyID: "key_1", TeamID: "team", BudgetMicros: 1 << 50, Team: auth.Limits{BudgetMicros: 1 << 50}},
		{KeyID: "key_2", TeamID: "team", BudgetMicros: 1 << 50, Team: auth.Limits{BudgetMicros: 1 << 50}},
	}
	stop := make(chan struct{})
	var syncs sync.WaitGroup
	syncs.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				f.tr.Sync(context.Background()) //nolint:errcheck
			}
		}
	})
	var wg sync.WaitGroup
	const workers, each = 8, 2000
	for w := range workers {
		wg.Go(func() {
			for range each {
				f.tr.Add(ps[w%2], 3)
				f.tr.Check(ps[w%2])
			}
		})
	}
	wg.Wait()
	close(stop)
	syncs.Wait()
	f.sync()
	if got, want := st.get(store.SpendKey{Scope: "team", ScopeID: "team"}), int64(workers*each*3); got != want {
		t.Errorf("team stored %d, want %d", got, want)
	}
	s, _ := f.tr.Check(keyWith("key_1", 1<<50, "", ""))
	if s.Spent != workers*each*3/2 {
		t.Errorf("key_1 spent %d, want %d", s.Spent, workers*each*3/2)
	}
}

func BenchmarkCheck(b *testing.B) {
	tr := New(Config{Store: newMemStore()})
	p := &auth.Principal{KeyID: "key_bench", TeamID: "team_bench", BudgetMicros: 1 << 40, BudgetPeriod: PeriodDaily,
		BudgetTZ: "America/New_York", Team: auth.Limits{BudgetMicros: 1 << 40, BudgetPeriod: PeriodMonthly}}
	tr.Check(p)
	b.ReportAllocs()
	for b.Loop() {
		tr.Check(p)
	}
}

func BenchmarkAdd(b *testing.B) {
	tr := New(Config{Store: newMemStore(), AlertPercent: 80})
	p := &auth.Principal{KeyID: "key_bench", TeamID: "team_bench", BudgetMicros: 1 << 40, BudgetPeriod: PeriodDaily,
		BudgetTZ: "America/New_York", Team: auth.Limits{BudgetMicros: 1 << 40, BudgetPeriod: PeriodMonthly}}
	tr.Add(p, 1)
	b.ReportAllocs()
	for b.Loop() {
		tr.Add(p, 1)
	}
}

func BenchmarkCheckParallel(b *testing.B) {
	tr := New(Config{Store: newMemStore()})
	p := &auth.Principal{KeyID: "key_bench", BudgetMicros: 1 << 40, BudgetPeriod: PeriodDaily}
	tr.Check(p)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tr.Check(p)
			tr.Add(p, 1)
		}
	})
}

// TestPeriodChangeOnASharedStartMovesTheEnd: switching a monthly budget
// to daily on the 1st keeps the spend row (both periods start at the
// same instant) but the budget must now end at the next midnight.
func TestPeriodChangeOnASharedStartMovesTheEnd(t *testing.T) {
	first := time.Date(2025, 11, 1, 9, 0, 0, 0, time.UTC)
	f := newFixture(t, newMemStore(), first)
	p := keyWith("key_m", 5*dollar, PeriodMonthly, "")
	f.tr.Add(p, dollar)
	f.sync()
	p.BudgetPeriod = PeriodDaily
	st, _ := f.tr.Check(p)
	if want := time.Date(2025, 11, 2, 0, 0, 0, 0, time.UTC); !st.End.Equal(want) || st.Spent != dollar {
		t.Fatalf("daily after monthly on the 1st: %+v, want end %v and the day's $1", st, want)
	}
	f.clk.set(time.Date(2025, 11, 2, 0, 0, 1, 0, time.UTC))
	if st, _ := f.tr.Check(p); st.Spent != 0 || !st.Start.Equal(time.Date(2025, 11, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the next day: %+v, want a fresh day", st)
	}
}
