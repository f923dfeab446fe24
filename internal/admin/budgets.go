package admin

import (
	"net/http"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/budget"
	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// getBudget serves GET /budgets?scope=key|team|tenant&id=…: the budget of
// one key, team or tenant in its current period, with what the store has
// recorded as spent (the gateways write spend every
// budgets.flush_interval, so the figure may lag by that much). Scoping is
// that of the keys, teams and tenants themselves: a member sees its own
// team's keys and its team, never a tenant.
func (s *server) getBudget(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needRead(&c.p); err != nil {
		return err
	}
	var kind, id string
	perr := eachParam(r.URL.Query(), func(name, v string) *llm.Error {
		switch name {
		case "scope":
			switch v {
			case auth.ScopeKey, auth.ScopeTeam, auth.ScopeTenant:
				kind = v
			default:
				return llm.BadRequest(name, "scope: want key, team or tenant, got %s", short(v))
			}
		case "id":
			id = v
		default:
			return unknownParam(name, v)
		}
		return nil
	})
	switch {
	case perr != nil:
		return perr
	case kind == "":
		return llm.BadRequest("scope", "scope: required (key, team or tenant)")
	case id == "":
		return llm.BadRequest("id", "id: required (the key's, team's or tenant's ID)")
	}
	c.target = id
	var pol store.Policy
	switch kind {
	case auth.ScopeKey:
		k, err := s.db.GetKey(r.Context(), id)
		if err != nil {
			return storeError(err, kindKey, "")
		}
		if !c.scope.allowsKey(&k) || k.Role != "" {
			return hidden(kindKey) // admin keys have no budget
		}
		pol = k.Policy
	case auth.ScopeTeam:
		t, err := s.teamInScope(r, c)
		if err != nil {
			return err
		}
		pol = t.Policy
	case auth.ScopeTenant:
		if err := needOrgRead(&c.p); err != nil {
			return err
		}
		t, err := s.db.GetTenant(r.Context(), id)
		if err != nil {
			return storeError(err, kindTenant, "")
		}
		if !c.scope.allowsTenant(t.ID) {
			return hidden(kindTenant)
		}
		pol = t.Policy
	}
	loc, _ := budget.Zone(pol.BudgetTZ)
	start, end := budget.Bounds(pol.BudgetPeriod, loc, s.now())
	var spent int64
	if pol.BudgetMicros > 0 {
		var err error
		spent, err = s.db.GetSpend(r.Context(), store.SpendKey{Scope: kind, ScopeID: id, PeriodStart: start})
		if err != nil {
			return err
		}
	}
	c.reply(http.StatusOK, appendBudget(nil, kind, id, &pol, start, end, spent))
	return nil
}

// appendBudget writes a budget's view. Amounts come as decimal strings in
// dollars (like usage costs) and as integers in micro-dollars; times in
// the budget's own zone; a lifetime budget has null period_start and
// resets_at.
func appendBudget(dst []byte, kind, id string, p *store.Policy, start, end time.Time, spent int64) []byte {
	dst = append(dst, '{')
	dst = appendStr(dst, "object", "budget")
	dst = appendStr(dst, "scope", kind)
	dst = appendStr(dst, "id", id)
	dst = jsonw.AppendKey(dst, "budget_usd")
	dst = telemetry.AppendUSD(dst, p.BudgetMicros)
	dst = appendInt(dst, "budget_micros", p.BudgetMicros)
	period := p.BudgetPeriod
	if budget.Lifetime(period) {
		period = budget.PeriodTotal
	}
	dst = appendStr(dst, "period", period)
	tz := p.BudgetTZ
	if tz == "" {
		tz = "UTC"
	}
	dst = appendStr(dst, "tz", tz)
	for _, t := range []struct {
		key string
		t   time.Time
	}{{"period_start", start}, {"resets_at", end}} {
		dst = jsonw.AppendKey(dst, t.key)
		if t.t.IsZero() {
			dst = append(dst, "null"...)
		} else {
			dst = jsonw.AppendString(dst, t.t.Format(time.RFC3339))
		}
	}
	dst = jsonw.AppendKey(dst, "spent_usd")
	dst = telemetry.AppendUSD(dst, spent)
	dst = appendInt(dst, "spent_micros", spent)
	remaining := max(p.BudgetMicros-spent, 0)
	dst = jsonw.AppendKey(dst, "remaining_usd")
	dst = telemetry.AppendUSD(dst, remaining)
	dst = appendInt(dst, "remaining_micros", remaining)
	dst = jsonw.AppendKey(dst, "exceeded")
	dst = jsonw.AppendBool(dst, p.BudgetMicros > 0 && spent >= p.BudgetMicros)
	return append(dst, '}')
}
