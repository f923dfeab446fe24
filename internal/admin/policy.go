package admin

import (
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// policyInput is the part of a key, team or tenant body that sets its
// store.Policy: a nil field was not given.
type policyInput struct {
	Models, Regions                 *[]string
	RPM, TPM, MaxConcurrent, Budget *int64
	BudgetPeriod, BudgetTZ          *string
}

// policyFields are the members policyInput reads, in its parse order.
var policyFields = []string{"models", "regions", "rpm", "tpm", "max_concurrent",
	"budget_usd", "budget_period", "budget_tz"}

// Bounds of a policy's fields beyond the store's.
const (
	maxModels    = 256
	maxRegions   = 64
	maxLimitRate = 1 << 40 // rpm, tpm, max_concurrent
	maxGlobLen   = 256
	maxRegionLen = 64
)

// budgetPeriods are the periods a budget may have; "" is none.
var budgetPeriods = []string{"", "daily", "weekly", "monthly", "total"}

// parse reads policyFields from f in order and checks them; the first
// bad member is refused with a 400 naming it.
func (in *policyInput) parse(f fields) *llm.Error {
	var err *llm.Error
	steps := []func(){
		func() { in.Models, err = f.strings("models", maxModels, maxGlobLen) },
		func() { in.Regions, err = f.strings("regions", maxRegions, maxRegionLen) },
		func() { in.RPM, err = f.count("rpm", maxLimitRate) },
		func() { in.TPM, err = f.count("tpm", maxLimitRate) },
		func() { in.MaxConcurrent, err = f.count("max_concurrent", maxLimitRate) },
		func() { in.Budget, err = f.money("budget_usd") },
		func() { in.BudgetPeriod, err = f.text("budget_period", entityText) },
		func() { in.BudgetTZ, err = f.text("budget_tz", entityText) },
		func() { err = in.check() },
	}
	for _, step := range steps {
		if step(); err != nil {
			return err
		}
	}
	return nil
}

// check checks the decoded values that need more than their JSON type.
func (in *policyInput) check() *llm.Error {
	if in.BudgetPeriod != nil && !slices.Contains(budgetPeriods, *in.BudgetPeriod) {
		return llm.BadRequest("budget_period", "budget_period: want daily, weekly, monthly, total or \"\", got %s", short(*in.BudgetPeriod))
	}
	if in.BudgetTZ != nil && *in.BudgetTZ != "" {
		// "Local" would be the server's zone, which callers cannot know.
		if _, err := time.LoadLocation(*in.BudgetTZ); err != nil || *in.BudgetTZ == "Local" {
			return llm.BadRequest("budget_tz", "budget_tz: want an IANA time zone (Europe/Berlin, UTC), got %s", short(*in.BudgetTZ))
		}
	}
	for _, l := range []struct {
		name string
		vals *[]string
		hint string
	}{{"models", in.Models, "a model glob must not be empty (use \"*\" for every model)"},
		{"regions", in.Regions, "a region must not be empty (leave the list empty for any region)"}} {
		if l.vals != nil && slices.Contains(*l.vals, "") {
			return llm.BadRequest(l.name, "%s: %s", l.name, l.hint)
		}
	}
	return nil
}

// apply sets the given fields of p.
func (in *policyInput) apply(p *store.Policy) {
	for _, l := range []struct{ dst, src *[]string }{{&p.Models, in.Models}, {&p.Regions, in.Regions}} {
		if l.src != nil {
			*l.dst = *l.src
		}
	}
	for _, n := range []struct{ dst, src *int64 }{{&p.RPM, in.RPM}, {&p.TPM, in.TPM},
		{&p.MaxConcurrent, in.MaxConcurrent}, {&p.BudgetMicros, in.Budget}} {
		if n.src != nil {
			*n.dst = *n.src
		}
	}
	for _, s := range []struct{ dst, src *string }{{&p.BudgetPeriod, in.BudgetPeriod}, {&p.BudgetTZ, in.BudgetTZ}} {
		if s.src != nil {
			*s.dst = *s.src
		}
	}
}

// appendPolicy appends p's members (keys, teams and tenants show them
// alike): lists as [], the budget in dollars and in micro-dollars.
func appendPolicy(dst []byte, p *store.Policy) []byte {
	dst = jsonw.AppendKey(dst, "models")
	dst = appendStrings(dst, p.Models)
	dst = jsonw.AppendKey(dst, "regions")
	dst = appendStrings(dst, p.Regions)
	dst = appendInt(dst, "rpm", p.RPM)
	dst = appendInt(dst, "tpm", p.TPM)
	dst = appendInt(dst, "max_concurrent", p.MaxConcurrent)
	dst = jsonw.AppendKey(dst, "budget_usd")
	dst = telemetry.AppendUSD(dst, p.BudgetMicros)
	dst = appendInt(dst, "budget_micros", p.BudgetMicros)
	dst = appendStr(dst, "budget_period", p.BudgetPeriod)
	return appendStr(dst, "budget_tz", p.BudgetTZ)
}
