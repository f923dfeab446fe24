package store

import (
	"database/sql"
	"fmt"
	"slices"
)

// Policy is what a team or a tenant imposes on the keys under it: the
// models and provider regions they may use, their rate limits and their
// budget. A Key carries the same fields itself (see Key.Policy). Zero
// values mean "not set here".
type Policy struct {
	Models        []string // allowed model globs; empty = all
	Regions       []string // allowed provider regions; empty = any
	RPM, TPM      int64    // requests / tokens per minute; 0 = no limit
	MaxConcurrent int64    // 0 = no limit
	BudgetMicros  int64    // 0 = no budget
	BudgetPeriod  string   // "", "daily", "weekly", "monthly", "total"
	BudgetTZ      string   // IANA zone, "" = UTC (not checked by the store)
}

// policyColumns are the columns of a Policy in teams, tenants and
// api_keys, in the order policyArgs and policyDest use.
const policyColumns = "models, regions, rpm, tpm, max_concurrent, budget_micros, budget_period, budget_tz"

// policyColumnList is policyColumns as a list, for UPDATE statements.
var policyColumnList = []string{"models", "regions", "rpm", "tpm", "max_concurrent",
	"budget_micros", "budget_period", "budget_tz"}

// checkPolicy reports why p cannot be stored, wrapping ErrBadRecord.
func checkPolicy(p *Policy) error {
	switch {
	case !slices.Contains(budgetPeriods, p.BudgetPeriod):
		return fmt.Errorf("%w: budget period %q (want one of %q)", ErrBadRecord, p.BudgetPeriod, budgetPeriods[1:])
	case p.RPM < 0 || p.TPM < 0 || p.MaxConcurrent < 0 || p.BudgetMicros < 0:
		return fmt.Errorf("%w: negative limit or budget", ErrBadRecord)
	}
	if err := checkText("budget time zone", p.BudgetTZ); err != nil {
		return err
	}
	for _, l := range []struct {
		name string
		vals []string
	}{{"model", p.Models}, {"region", p.Regions}} {
		for _, v := range l.vals {
			if err := checkText(l.name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// policyArgs returns p's values for policyColumns, in order.
func policyArgs(p *Policy) []any {
	return []any{listColumn(p.Models), listColumn(p.Regions), p.RPM, p.TPM, p.MaxConcurrent,
		p.BudgetMicros, p.BudgetPeriod, p.BudgetTZ}
}

// policyScan receives policyColumns from a row; finish decodes the lists.
type policyScan struct {
	models, regions sql.NullString
}

// dest returns the Scan destinations for policyColumns, filling p.
func (s *policyScan) dest(p *Policy) []any {
	return []any{&s.models, &s.regions, &p.RPM, &p.TPM, &p.MaxConcurrent, &p.BudgetMicros,
		&p.BudgetPeriod, &p.BudgetTZ}
}

// finish decodes the JSON lists into p.
func (s *policyScan) finish(p *Policy) error {
	if err := scanJSON("models", s.models, &p.Models); err != nil {
		return err
	}
	return scanJSON("regions", s.regions, &p.Regions)
}

// setPolicy appends ", column = value" for each of policyColumns to an
// UPDATE statement.
func setPolicy(s *stmt, p *Policy) {
	for i, v := range policyArgs(p) {
		s.sql(", " + policyColumnList[i] + " = ").arg(v)
	}
}
