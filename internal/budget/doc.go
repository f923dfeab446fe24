// Package budget enforces spend budgets in micro-dollars per gateway key,
// team and tenant over a period (daily, weekly, monthly or lifetime) in a
// time zone. A Tracker keeps the current periods' spend in memory, so a
// check never waits on storage, and adds it to the store (budget_spend)
// in the background, reading back what other replicas spent.
package budget
