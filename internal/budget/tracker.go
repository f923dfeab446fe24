package budget

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/store"
)

// Store is where a Tracker keeps spend: *store.DB.
type Store interface {
	AddSpend(ctx context.Context, deltas []store.SpendDelta) error
	LoadSpend(ctx context.Context, keys []store.SpendKey) ([]store.Spend, error)
}

// Alert kinds (Alert.Kind), also the kinds of the events they become.
const (
	AlertSoftLimit = "budget.soft_limit"
	AlertExceeded  = "budget.exceeded"
)

// Alert says that a scope's spend crossed its soft limit or its budget.
type Alert struct {
	Kind   string // AlertSoftLimit or AlertExceeded
	Status Status // the scope's state just after the crossing
}

// Config configures a Tracker.
type Config struct {
	// Store holds spend across restarts and replicas. Required.
	Store Store
	// AlertPercent is the share of a budget (0 < p < 100) whose crossing
	// sends an AlertSoftLimit; 0 sends none.
	AlertPercent float64
	// OnAlert receives alerts, on the goroutine of the Add or the refresh
	// that saw the crossing; it must not block. Nil drops them.
	OnAlert func(Alert)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives store failures. Nil discards.
	Logger *slog.Logger
}

// Tracker keeps the spend of the current period of every budget in use,
// in memory: Check and Add never touch the store. Sync (run by Run every
// flush interval) adds what was spent here to the store and reads back
// each period's total, so spend by other processes sharing the store is
// seen within an interval. A Tracker is safe for concurrent use.
//
// An entry is kept per scope (key, team or tenant) whose principal has a
// budget, for the life of the Tracker (a few hundred bytes each): one that
// was dropped would come back knowing nothing of its spend until the next
// Sync, and pass a spent budget meanwhile. Entries unused for idleTTL are
// not read back from the store until they are used again.
type Tracker struct {
	store   Store
	percent float64
	onAlert func(Alert)
	now     func() time.Time
	log     *slog.Logger

	mu      sync.RWMutex
	entries map[entryKey]*entry

	carryMu sync.Mutex
	// carry is spend left behind by periods that ended before it was
	// written; Sync writes it with the rest.
	carry []store.SpendDelta

	syncMu sync.Mutex // one Sync at a time
}

// idleTTL is how long an entry unused by any request is still read back
// from the store at every Sync.
const idleTTL = 15 * time.Minute

type entryKey struct{ kind, id string }

// entry is one scope's current period. Every field but the key is
// guarded by mu.
type entry struct {
	mu  sync.Mutex
	key entryKey

	period, tz string // the settings start and end were computed for
	loc        *time.Location
	budget     int64
	start, end time.Time // end zero: lifetime

	// stored is the period's total as last read from the store; inflight
	// was taken from pending by a Sync that has not read the total back
	// yet; pending is spent here and not yet written.
	stored, inflight, pending int64
	// loaded says the store's total was read for this period; until then
	// nothing is alerted (a restart must not repeat old alerts).
	loaded bool
	// softSent and overSent say the soft limit and the budget were
	// crossed in this period (or already past when it was loaded).
	softSent, overSent bool

	// lastUsed is when a request last checked or charged the entry.
	lastUsed time.Time
}

// New returns a Tracker; call Run to write spend in the background.
func New(cfg Config) *Tracker {
	t := &Tracker{store: cfg.Store, percent: cfg.AlertPercent, onAlert: cfg.OnAlert, now: cfg.Now,
		log: cfg.Logger, entries: map[entryKey]*entry{}}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.onAlert == nil {
		t.onAlert = func(Alert) {}
	}
	return t
}

// Status is one scope's budget in its current period.
type Status struct {
	Scope  string // auth.ScopeKey, auth.ScopeTeam or auth.ScopeTenant
	ID     string
	Budget int64 // micro-dollars
	Spent  int64 // micro-dollars, as known to this process
	Period string
	TZ     string // "" = UTC
	// Start and End bound the period; both zero for a lifetime budget.
	Start, End time.Time
}

// Remaining is what is left of the budget, never below 0.
func (s Status) Remaining() int64 { return max(0, s.Budget-s.Spent) }

// Exceeded reports whether the spend has reached the budget.
func (s Status) Exceeded() bool { return s.Budget > 0 && s.Spent >= s.Budget }

// Check returns the tightest budget of p's scopes (key, team, tenant):
// the first one that is spent, else the one with the least left. ok is
// false when none of them has a budget. It never waits on the store.
func (t *Tracker) Check(p *auth.Principal) (st Status, ok bool) {
	scopes, n := p.Scopes()
	now := t.now()
	for i := range n {
		sc := &scopes[i]
		if sc.Limits.BudgetMicros <= 0 {
			continue
		}
		s := t.status(sc, now)
		if s.Exceeded() {
			return s, true
		}
		if !ok || s.Remaining() < st.Remaining() {
			st, ok = s, true
		}
	}
	return st, ok
}

// status returns the current status of one budgeted scope.
func (t *Tracker) status(sc *auth.Scope, now time.Time) Status {
	e := t.entry(sc)
	e.mu.Lock()
	e.current(&sc.Limits, now, t)
	e.lastUsed = now
	s := e.status()
	e.mu.Unlock()
	return s
}

// Add counts micros spent by p against each of its scopes that has a
// budget. Zero and negative amounts are ignored.
func (t *Tracker) Add(p *auth.Principal, micros int64) {
	if micros <= 0 {
		return
	}
	scopes, n := p.Scopes()
	now := t.now()
	for i := range n {
		sc := &scopes[i]
		if sc.Limits.BudgetMicros <= 0 {
			continue
		}
		e := t.entry(sc)
		e.mu.Lock()
		e.current(&sc.Limits, now, t)
		e.lastUsed = now
		before := e.spent()
		e.pending += micros
		alerts := e.crossed(before, t.percent)
		s := e.status()
		e.mu.Unlock()
		t.send(alerts, s)
	}
}

// entry returns sc's entry, creating it.
func (t *Tracker) entry(sc *auth.Scope) *entry {
	k := entryKey{sc.Kind, sc.ID}
	t.mu.RLock()
	e := t.entries[k]
	t.mu.RUnlock()
	if e != nil {
		return e
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e = t.entries[k]; e == nil {
		e = &entry{key: k}
		t.entries[k] = e
	}
	return e
}

// current moves e to the period of now under settings l: a new period (or
// new settings) starts from nothing until Sync reads the store's total,
// and spend not yet written for the old period is carried to the next
// Sync. The caller holds e.mu.
func (e *entry) current(l *auth.Limits, now time.Time, t *Tracker) {
	if l.BudgetMicros != e.budget && e.loaded {
		// A changed amount: what is already past the new thresholds is
		// not a crossing.
		e.budget = l.BudgetMicros
		e.markAt(e.spent(), t.percent)
	}
	e.budget = l.BudgetMicros
	if e.loc != nil && l.BudgetPeriod == e.period && l.BudgetTZ == e.tz &&
		(e.end.IsZero() || now.Before(e.end)) && !now.Before(e.start) {
		return
	}
	var start, end time.Time
	loc, _ := Zone(l.BudgetTZ)
	start, end = Bounds(l.BudgetPeriod, loc, now)
	e.period, e.tz, e.loc = l.BudgetPeriod, l.BudgetTZ, loc
	if start.Equal(e.start) && e.loaded {
		// The same first instant: the zone's name changed, the clock went
		// back within the period, or the period changed on a day both
		// start (monthly to daily on the 1st) — which still moves the end.
		e.end = end
		return
	}
	if e.pending != 0 {
		t.carryMu.Lock()
		t.carry = append(t.carry, store.SpendDelta{SpendKey: e.spendKey(), Micros: e.pending})
		t.carryMu.Unlock()
	}
	e.start, e.end = start, end
	e.stored, e.inflight, e.pending = 0, 0, 0
	e.loaded, e.softSent, e.overSent = false, false, false
}

func (e *entry) spendKey() store.SpendKey {
	return store.SpendKey{Scope: e.key.kind, ScopeID: e.key.id, PeriodStart: e.start}
}

func (e *entry) spent() int64 { return e.stored + e.inflight + e.pending }

func (e *entry) status() Status {
	return Status{Scope: e.key.kind, ID: e.key.id, Budget: e.budget, Spent: e.spent(), Period: e.period,
		TZ: e.tz, Start: e.start, End: e.end}
}

// softLimit is the spend that crosses the soft limit; 0 when there is none.
func softLimit(budget int64, percent float64) int64 {
	if percent <= 0 || budget <= 0 {
		return 0
	}
	return max(1, int64(float64(budget)*percent/100))
}

// markAt sets the alert flags to the thresholds a spend of s is past,
// without alerting: after a load, and after the amount changed.
func (e *entry) markAt(s int64, percent float64) {
	soft := softLimit(e.budget, percent)
	e.softSent = soft > 0 && s >= soft
	e.overSent = s >= e.budget
}

// crossed returns the alerts that spend moving from before to its
// current value raises, once each per period; none before the period's
// total was read (Sync alerts then, for what this process spent).
func (e *entry) crossed(before int64, percent float64) (alerts [2]string) {
	if !e.loaded || e.budget <= 0 {
		return alerts
	}
	s := e.spent()
	if soft := softLimit(e.budget, percent); soft > 0 && !e.softSent && s >= soft && before < soft {
		e.softSent = true
		alerts[0] = AlertSoftLimit
	}
	if !e.overSent && s >= e.budget && before < e.budget {
		e.overSent = true
		alerts[1] = AlertExceeded
	}
	return alerts
}

func (t *Tracker) send(alerts [2]string, s Status) {
	for _, k := range alerts {
		if k != "" {
			t.onAlert(Alert{Kind: k, Status: s})
		}
	}
}

// Now is the Tracker's clock.
func (t *Tracker) Now() time.Time { return t.now() }
