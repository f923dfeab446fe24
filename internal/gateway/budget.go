package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/budget"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/usage"
)

// budgetFinalSync bounds the last write of spend at Close.
const budgetFinalSync = 5 * time.Second

// startBudgets builds the spend tracker over the store, loads the current
// periods' spend of every budget the key cache knows (so a restarted
// gateway refuses an exhausted budget from its first request) and starts
// writing spend every budgets.flush_interval.
func (g *Gateway) startBudgets(db *store.DB, now func() time.Time) error {
	t := budget.New(budget.Config{Store: db, AlertPercent: g.cfg.Budgets.AlertPercent,
		OnAlert: g.budgetAlert, Now: now, Logger: g.log})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := t.Preload(ctx, g.keys.budgetScopes()); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.Run(runCtx, g.cfg.Budgets.FlushInterval.Std())
	}()
	g.budgets = t
	g.stopBudgets = func() {
		stop()
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), budgetFinalSync)
		defer cancel()
		if err := t.Sync(ctx); err != nil {
			g.log.Error("budget spend not written at shutdown", "err", err)
		}
	}
	return nil
}

// closeBudgets stops the background writes and writes what is left.
func (g *Gateway) closeBudgets() {
	if g.stopBudgets != nil {
		g.stopBudgets()
		g.stopBudgets = nil
	}
}

// budgetScopes lists the key, team and tenant of every usable gateway key
// whose budget is set, once each.
func (c *keyCache) budgetScopes() []auth.Scope {
	idx := c.byHash.Load()
	if idx == nil {
		return nil
	}
	seen := make(map[[2]string]bool)
	var out []auth.Scope
	for _, ck := range *idx {
		if ck.principal.Role != "" {
			continue
		}
		ss, n := ck.principal.Scopes()
		for _, s := range ss[:n] {
			k := [2]string{s.Kind, s.ID}
			if s.Limits.BudgetMicros > 0 && !seen[k] {
				seen[k] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// budgetStage refuses a request once a budget of its key, team or tenant
// is spent. It only reads memory; the spend is added when the request has
// finished (see chargeBudget), so requests in flight together may
// overshoot a budget by their own cost.
func (g *Gateway) budgetStage(next Handler) Handler {
	if g.budgets == nil {
		return next
	}
	return HandlerFunc(func(ctx context.Context, ex *Exchange) error {
		if p := infoFrom(ctx).principal; p != nil {
			if st, ok := g.budgets.Check(p); ok {
				ex.budget = st
				if st.Exceeded() {
					return budgetExceeded(st, g.budgets.Now())
				}
			}
		}
		return next.Serve(ctx, ex)
	})
}

// chargeBudget counts a finished request's cost against its caller's
// budgets. A cache hit costs nothing (rec.CostMicros is 0).
func (g *Gateway) chargeBudget(ri *requestInfo, rec *store.Record) {
	if g.budgets != nil && ri.principal != nil && rec.CostMicros > 0 {
		g.budgets.Add(ri.principal, rec.CostMicros)
	}
}

// budgetStatus is a budget's state, as the Exchange keeps it.
type budgetStatus = budget.Status

// setBudgetHeaders tells a caller with a budget what is left of its
// tightest one before this request (x-sluice-budget-remaining-usd, in
// dollars with six decimals). A refusal for a spent budget also carries
// x-should-retry: false, which OpenAI's SDKs obey instead of retrying a
// 429 that cannot pass before the period ends.
func setBudgetHeaders(h http.Header, ex *Exchange) { setBudgetStatus(h, &ex.budget) }

func setBudgetStatus(h http.Header, st *budgetStatus) {
	if st.Budget <= 0 {
		return
	}
	h["X-Sluice-Budget-Remaining-Usd"] = []string{usage.FormatUSD(st.Remaining())}
	if st.Exceeded() {
		h["X-Should-Retry"] = []string{"false"}
	}
}

// budgetScopeName is how a refusal names a scope to its caller.
func budgetScopeName(kind string) string {
	switch kind {
	case auth.ScopeTeam:
		return "this key's team"
	case auth.ScopeTenant:
		return "this key's tenant"
	}
	return "this key"
}

// budgetExceeded is the 429 for a spent budget: OpenAI's quota error type
// (SDKs raise it as a rate-limit error with type insufficient_quota) and
// the code budget_exceeded. It names the scope's kind, never its id, and
// says when the budget resets; Retry-After is the time until then.
func budgetExceeded(st budget.Status, now time.Time) *llm.Error {
	e := &llm.Error{Status: http.StatusTooManyRequests, Type: "insufficient_quota", Code: "budget_exceeded",
		Fault: llm.FaultPolicy}
	amount := budget.FormatUSD(st.Budget)
	if st.End.IsZero() {
		e.Message = fmt.Sprintf("budget exceeded: %s has spent its budget of %s, which does not reset; "+
			"an administrator can raise it", budgetScopeName(st.Scope), amount)
		return e
	}
	e.RetryAfter = max(st.End.Sub(now), time.Second)
	e.Message = fmt.Sprintf("budget exceeded: %s has spent its %s budget of %s; it resets at %s",
		budgetScopeName(st.Scope), st.Period, amount, st.End.Format(time.RFC3339))
	return e
}

// budgetAlert records a soft-limit or exceeded alert as an event.
func (g *Gateway) budgetAlert(a budget.Alert) {
	st := a.Status
	subject := st.Scope + ":" + st.ID
	severity, what := store.SeverityWarning, "reached "+strconv.FormatFloat(g.cfg.Budgets.AlertPercent, 'f', -1, 64)+"% of"
	if a.Kind == budget.AlertExceeded {
		severity, what = store.SeverityCritical, "spent"
	}
	period := st.Period
	if st.End.IsZero() {
		period = "lifetime"
	}
	detail := map[string]string{
		"budget_usd": usage.FormatUSD(st.Budget),
		"spent_usd":  usage.FormatUSD(st.Spent),
		"period":     period,
	}
	if !st.Start.IsZero() {
		detail["period_start"] = st.Start.Format(time.RFC3339)
		detail["resets_at"] = st.End.Format(time.RFC3339)
	}
	g.event(store.Event{Kind: a.Kind, Severity: severity, Subject: subject, Detail: detail,
		Message: fmt.Sprintf("%s %s %s its %s budget of %s (%s spent)", st.Scope, st.ID, what,
			period, budget.FormatUSD(st.Budget), budget.FormatUSD(st.Spent))})
}
