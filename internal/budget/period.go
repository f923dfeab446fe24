package budget

import (
	"sync"
	"time"
)

// Budget periods (auth.Limits.BudgetPeriod). PeriodTotal and "" are both
// a lifetime budget: spend is never reset.
const (
	PeriodDaily   = "daily"
	PeriodWeekly  = "weekly"
	PeriodMonthly = "monthly"
	PeriodTotal   = "total"
)

// Bounds returns the period of kind that contains t, in loc: daily periods
// start at midnight, weekly ones at midnight on Monday (ISO weeks), monthly
// ones at midnight on the first. end is the next period's start. A
// lifetime budget ("total", "" or any other kind) has zero start and end.
//
// Days are calendar days, not 24 hours: across a DST change a day lasts 23
// or 25 hours. Where midnight does not exist (a DST gap at 00:00, as in
// Havana or formerly São Paulo) the day starts when the gap ends; where it
// happens twice, at the first one.
func Bounds(kind string, loc *time.Location, t time.Time) (start, end time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	switch kind {
	case PeriodDaily:
		return dayStart(y, m, d, loc), dayStart(y, m, d+1, loc)
	case PeriodWeekly:
		wd := time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday() // the local date's weekday
		back := (int(wd) + 6) % 7                                 // days since Monday
		return dayStart(y, m, d-back, loc), dayStart(y, m, d-back+7, loc)
	case PeriodMonthly:
		return dayStart(y, m, 1, loc), dayStart(y, m+1, 1, loc)
	}
	return time.Time{}, time.Time{}
}

// Lifetime reports whether kind is a budget that never resets.
func Lifetime(kind string) bool {
	return kind != PeriodDaily && kind != PeriodWeekly && kind != PeriodMonthly
}

// dayStart returns the first instant of the local date y-m-d in loc (the
// date is normalised like time.Date's: day 0 is the previous month's last).
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	y, m, d = time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Date() // normalised
	if ty, tm, td := t.Date(); ty != y || tm != m || td != d {
		// Midnight fell in a DST gap and time.Date answered with the last
		// day's evening: the date begins where the gap ends.
		_, gapEnd := t.ZoneBounds()
		return gapEnd
	}
	// Midnight may have happened twice (clocks set back from 01:00 to
	// 00:00): time.Date may have picked the second one; if the zone began
	// today and the instant before it was on the same date, the date
	// started at midnight of the earlier offset.
	if zs, _ := t.ZoneBounds(); !zs.IsZero() && !zs.After(t) && t.Sub(zs) < 2*time.Hour {
		before := zs.Add(-time.Nanosecond)
		if by, bm, bd := before.Date(); by == y && bm == m && bd == d {
			_, off := before.Zone()
			return time.Date(y, m, d, 0, 0, 0, 0, time.FixedZone("", off)).In(loc)
		}
	}
	return t
}

// zones caches time zones by name: time.LoadLocation reads the zone
// database each time.
var zones sync.Map // string → *time.Location

// Zone returns the IANA zone name ("" is UTC). A name that does not load
// (the admin API refuses such names, so only a hand-edited database holds
// one) falls back to UTC, and ok is false.
func Zone(name string) (loc *time.Location, ok bool) {
	if name == "" || name == "UTC" {
		return time.UTC, true
	}
	if v, hit := zones.Load(name); hit {
		l := v.(*time.Location)
		return l, l != time.UTC
	}
	l, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		l = time.UTC
	}
	zones.Store(name, l)
	return l, l != time.UTC
}
