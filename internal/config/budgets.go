package config

import "time"

// Budgets configures how spend budgets are enforced. The budgets
// themselves (an amount in dollars, a period and a time zone) are set per
// key, team and tenant through the admin API.
type Budgets struct {
	// AlertPercent is the share of a budget, in percent (0 to 100,
	// exclusive), whose crossing records a "budget.soft_limit" alert
	// event, once per scope and period. Default 80; an explicit 0 records
	// none. Reaching the whole budget always records "budget.exceeded".
	AlertPercent float64 `yaml:"alert_percent"`
	// FlushInterval is how often spend counted in memory is added to the
	// store and the totals of every replica are read back. Default 1s,
	// from 10ms to 1m. Replicas sharing a store may together overshoot a
	// budget by what they spend in about one interval.
	FlushInterval Duration `yaml:"flush_interval"`
}

const (
	defaultBudgetAlertPercent  = 80
	defaultBudgetFlushInterval = Duration(time.Second)
	minBudgetFlushInterval     = Duration(10 * time.Millisecond)
	maxBudgetFlushInterval     = Duration(time.Minute)
)

// budgetsDefaults fills the budgets section.
func (c *Config) budgetsDefaults() {
	c.defaultFloat(&c.Budgets.AlertPercent, "budgets.alert_percent", defaultBudgetAlertPercent)
	c.defaultDuration(&c.Budgets.FlushInterval, "budgets.flush_interval", defaultBudgetFlushInterval)
}

// budgets checks the budgets section.
func (v *validator) budgets() {
	b := &v.c.Budgets
	if !(b.AlertPercent >= 0 && b.AlertPercent < 100) { // also rejects NaN
		v.bad("budgets.alert_percent", "must be from 0 (no soft-limit alerts) to less than 100")
	}
	if b.FlushInterval < minBudgetFlushInterval || b.FlushInterval > maxBudgetFlushInterval {
		v.bad("budgets.flush_interval", "must be from %s to %s", minBudgetFlushInterval, maxBudgetFlushInterval)
	}
}
