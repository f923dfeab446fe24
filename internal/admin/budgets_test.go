package admin

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/store"
)

// budgetObject is GET /budgets's answer.
type budgetObject struct {
	Object          string  `json:"object"`
	Scope           string  `json:"scope"`
	ID              string  `json:"id"`
	BudgetUSD       string  `json:"budget_usd"`
	BudgetMicros    int64   `json:"budget_micros"`
	Period          string  `json:"period"`
	TZ              string  `json:"tz"`
	PeriodStart     *string `json:"period_start"`
	ResetsAt        *string `json:"resets_at"`
	SpentUSD        string  `json:"spent_usd"`
	SpentMicros     int64   `json:"spent_micros"`
	RemainingUSD    string  `json:"remaining_usd"`
	RemainingMicros int64   `json:"remaining_micros"`
	Exceeded        bool    `json:"exceeded"`
}

func strp(s string) *string { return &s }

func TestBudgets(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// 2026-03-01 12:00 UTC is 07:00 in New York, on Sunday 1 March.
		api := serveKeys(t, db, nil)
		ny := store.Policy{BudgetMicros: 10_000_000, BudgetPeriod: "daily", BudgetTZ: "America/New_York"}
		for _, tn := range []store.Tenant{{ID: "t1", Name: "one", Policy: store.Policy{BudgetMicros: 500_000_000, BudgetPeriod: "monthly"}},
			{ID: "t2", Name: "two"}} {
			if err := db.CreateTenant(ctx, &tn); err != nil {
				t.Fatal(err)
			}
		}
		for _, tm := range []store.Team{{ID: "a", TenantID: "t1", Name: "a", Policy: store.Policy{BudgetMicros: 3_000_000, BudgetPeriod: "total"}},
			{ID: "b", TenantID: "t1", Name: "b"}} {
			if err := db.CreateTeam(ctx, &tm); err != nil {
				t.Fatal(err)
			}
		}
		_, keyA := mint(t, db, store.Key{Name: "app", TenantID: "t1", TeamID: "a", Policy: ny})
		_, keyB := mint(t, db, store.Key{Name: "other", TenantID: "t1", TeamID: "b"})
		member, _ := mint(t, db, store.Key{Role: "member", TenantID: "t1", TeamID: "a"})
		viewer2, _ := mint(t, db, store.Key{Role: "viewer", TenantID: "t2"})
		day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.FixedZone("EST", -5*3600))
		if err := db.AddSpend(ctx, []store.SpendDelta{
			{SpendKey: store.SpendKey{Scope: "key", ScopeID: keyA.ID, PeriodStart: day}, Micros: 12_500_000},
			{SpendKey: store.SpendKey{Scope: "key", ScopeID: keyA.ID, PeriodStart: day.AddDate(0, 0, -1)}, Micros: 99},
			{SpendKey: store.SpendKey{Scope: "team", ScopeID: "a"}, Micros: 1_000_000},
		}); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			name, token, query string
			status             int
			want               *budgetObject
		}{
			{name: "a key's daily budget in its zone, spent", token: testKey, query: "scope=key&id=" + keyA.ID, status: 200,
				want: &budgetObject{Object: "budget", Scope: "key", ID: keyA.ID, BudgetUSD: "10.000000", BudgetMicros: 10_000_000,
					Period: "daily", TZ: "America/New_York", PeriodStart: strp("2026-03-01T00:00:00-05:00"),
					ResetsAt: strp("2026-03-02T00:00:00-05:00"), SpentUSD: "12.500000", SpentMicros: 12_500_000,
					RemainingUSD: "0.000000", Exceeded: true}},
			{name: "a team's lifetime budget", token: member, query: "scope=team&id=a", status: 200,
				want: &budgetObject{Object: "budget", Scope: "team", ID: "a", BudgetUSD: "3.000000", BudgetMicros: 3_000_000,
					Period: "total", TZ: "UTC", SpentUSD: "1.000000", SpentMicros: 1_000_000,
					RemainingUSD: "2.000000", RemainingMicros: 2_000_000}},
			{name: "a tenant's monthly budget, nothing spent", token: testKey, query: "scope=tenant&id=t1", status: 200,
				want: &budgetObject{Object: "budget", Scope: "tenant", ID: "t1", BudgetUSD: "500.000000", BudgetMicros: 500_000_000,
					Period: "monthly", TZ: "UTC", PeriodStart: strp("2026-03-01T00:00:00Z"), ResetsAt: strp("2026-04-01T00:00:00Z"),
					SpentUSD: "0.000000", RemainingUSD: "500.000000", RemainingMicros: 500_000_000}},
			{name: "no budget", token: testKey, query: "scope=key&id=" + keyB.ID, status: 200,
				want: &budgetObject{Object: "budget", Scope: "key", ID: keyB.ID, BudgetUSD: "0.000000", Period: "total", TZ: "UTC",
					SpentUSD: "0.000000", RemainingUSD: "0.000000"}},
			{name: "member reads its team's key", token: member, query: "scope=key&id=" + keyA.ID, status: 200},
			{name: "member: another team's key is hidden", token: member, query: "scope=key&id=" + keyB.ID, status: 404},
			{name: "member: another team is hidden", token: member, query: "scope=team&id=b", status: 404},
			{name: "member: no tenants", token: member, query: "scope=tenant&id=t1", status: 403},
			{name: "other tenant's viewer: key hidden", token: viewer2, query: "scope=key&id=" + keyA.ID, status: 404},
			{name: "other tenant's viewer: tenant hidden", token: viewer2, query: "scope=tenant&id=t1", status: 404},
			{name: "viewer reads its tenant", token: viewer2, query: "scope=tenant&id=t2", status: 200},
			{name: "admin keys have no budget", token: testKey, query: "scope=key&id=" + mustKeyID(t, db, member), status: 404},
			{name: "unknown key", token: testKey, query: "scope=key&id=key_nope", status: 404},
			{name: "bad scope", token: testKey, query: "scope=user&id=x", status: 400},
			{name: "no scope", token: testKey, query: "id=x", status: 400},
			{name: "no id", token: testKey, query: "scope=key", status: 400},
			{name: "unknown parameter", token: testKey, query: "scope=key&id=x&period=daily", status: 400},
			{name: "no credential", token: "", query: "scope=team&id=a", status: 401},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := api.call(t, tc.token, "GET", "/admin/v1/budgets?"+tc.query, "")
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
				}
				if tc.want == nil {
					return
				}
				var got budgetObject
				decodeStrict(t, r.body, &got)
				if diff := cmp.Diff(*tc.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	})
}

// mustKeyID returns the ID of the key whose secret is secret.
func mustKeyID(t *testing.T, db *store.DB, secret string) string {
	t.Helper()
	p, ok := storeResolver(db, func() time.Time { return testNow })(secret)
	if !ok {
		t.Fatal("secret does not resolve")
	}
	return p.KeyID
}
