package budget

import (
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, ok := Zone(name)
	if !ok && name != "" {
		t.Fatalf("zone %q did not load", name)
	}
	return loc
}

func TestBounds(t *testing.T) {
	const layout = "2006-01-02 15:04:05 -0700"
	for _, tc := range []struct {
		name, period, zone, at string
		start, end             string // "" for zero
	}{
		{"daily UTC", "daily", "", "2025-03-09 13:00:00 +0000", "2025-03-09 00:00:00 +0000", "2025-03-10 00:00:00 +0000"},
		{"daily exactly at midnight", "daily", "", "2025-03-09 00:00:00 +0000", "2025-03-09 00:00:00 +0000", "2025-03-10 00:00:00 +0000"},
		{"daily New York evening is the local day", "daily", "America/New_York", "2025-01-15 03:30:00 +0000",
			"2025-01-14 00:00:00 -0500", "2025-01-15 00:00:00 -0500"},
		{"daily New York spring forward: a 23-hour day", "daily", "America/New_York", "2025-03-09 12:00:00 -0400",
			"2025-03-09 00:00:00 -0500", "2025-03-10 00:00:00 -0400"},
		{"daily New York fall back: a 25-hour day", "daily", "America/New_York", "2025-11-02 12:00:00 -0500",
			"2025-11-02 00:00:00 -0400", "2025-11-03 00:00:00 -0500"},
		{"daily Havana: midnight skipped, the day starts at 01:00", "daily", "America/Havana", "2023-03-12 12:00:00 -0400",
			"2023-03-12 01:00:00 -0400", "2023-03-13 00:00:00 -0400"},
		{"daily Havana: the day before ends at the gap", "daily", "America/Havana", "2023-03-11 23:30:00 -0500",
			"2023-03-11 00:00:00 -0500", "2023-03-12 01:00:00 -0400"},
		{"daily Havana: midnight twice, the day starts at the first", "daily", "America/Havana", "2023-11-05 12:00:00 -0500",
			"2023-11-05 00:00:00 -0400", "2023-11-06 00:00:00 -0500"},
		{"daily half-hour zone", "daily", "Asia/Kolkata", "2025-06-30 20:00:00 +0000",
			"2025-07-01 00:00:00 +0530", "2025-07-02 00:00:00 +0530"},
		{"weekly Monday", "weekly", "", "2025-03-10 08:00:00 +0000", "2025-03-10 00:00:00 +0000", "2025-03-17 00:00:00 +0000"},
		{"weekly Sunday belongs to the week before", "weekly", "", "2025-03-16 23:59:59 +0000",
			"2025-03-10 00:00:00 +0000", "2025-03-17 00:00:00 +0000"},
		{"weekly across a year", "weekly", "Europe/Berlin", "2025-01-01 12:00:00 +0100",
			"2024-12-30 00:00:00 +0100", "2025-01-06 00:00:00 +0100"},
		{"weekly across DST", "weekly", "Europe/Berlin", "2025-03-30 12:00:00 +0200",
			"2025-03-24 00:00:00 +0100", "2025-03-31 00:00:00 +0200"},
		{"monthly", "monthly", "", "2025-02-28 23:59:59 +0000", "2025-02-01 00:00:00 +0000", "2025-03-01 00:00:00 +0000"},
		{"monthly December", "monthly", "Asia/Tokyo", "2025-12-31 15:00:00 +0000",
			"2026-01-01 00:00:00 +0900", "2026-02-01 00:00:00 +0900"},
		{"monthly across DST", "monthly", "America/New_York", "2025-03-20 12:00:00 -0400",
			"2025-03-01 00:00:00 -0500", "2025-04-01 00:00:00 -0400"},
		{"total", "total", "America/New_York", "2025-03-20 12:00:00 -0400", "", ""},
		{"empty is lifetime", "", "", "2025-03-20 12:00:00 +0000", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, err := time.Parse(layout, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			start, end := Bounds(tc.period, mustZone(t, tc.zone), at)
			check := func(what string, got time.Time, want string) {
				t.Helper()
				if want == "" {
					if !got.IsZero() {
						t.Errorf("%s = %v, want zero", what, got)
					}
					return
				}
				w, err := time.Parse(layout, want)
				if err != nil {
					t.Fatal(err)
				}
				if !got.Equal(w) {
					t.Errorf("%s = %v, want %v", what, got, w)
				}
			}
			check("start", start, tc.start)
			check("end", end, tc.end)
			if !start.IsZero() && (at.Before(start) || !at.Before(end)) {
				t.Errorf("%v is not in [%v, %v)", at, start, end)
			}
		})
	}
}

// TestBoundsTile checks over two years of hours in several zones that
// each instant lies in its period and that each period ends where the
// next begins.
func TestBoundsTile(t *testing.T) {
	for _, zone := range []string{"", "America/New_York", "America/Havana", "Australia/Lord_Howe", "Asia/Kathmandu"} {
		loc := mustZone(t, zone)
		for _, period := range []string{PeriodDaily, PeriodWeekly, PeriodMonthly} {
			at := time.Date(2023, 1, 1, 0, 30, 0, 0, time.UTC)
			for i := 0; i < 2*365*24; i += 5 {
				at := at.Add(time.Duration(i) * time.Hour)
				start, end := Bounds(period, loc, at)
				if at.Before(start) || !at.Before(end) {
					t.Fatalf("%s %s: %v not in [%v, %v)", zone, period, at, start, end)
				}
				if ps, _ := Bounds(period, loc, end); !ps.Equal(end) {
					t.Fatalf("%s %s: the period after [%v, %v) starts at %v", zone, period, start, end, ps)
				}
				if hs, _ := Bounds(period, loc, end.Add(-time.Nanosecond)); !hs.Equal(start) {
					t.Fatalf("%s %s: the last instant of [%v, %v) is in a period starting %v", zone, period, start, end, hs)
				}
			}
		}
	}
}

func TestZone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		wantOK bool
		utc    bool
	}{
		{"", true, true}, {"UTC", true, true}, {"Europe/Berlin", true, false},
		{"Not/AZone", false, true}, {"Local", false, true},
	} {
		loc, ok := Zone(tc.name)
		if ok != tc.wantOK || (loc == time.UTC) != tc.utc {
			t.Errorf("Zone(%q) = %v, %v; want ok %v, utc %v", tc.name, loc, ok, tc.wantOK, tc.utc)
		}
		if again, _ := Zone(tc.name); again != loc {
			t.Errorf("Zone(%q) is not cached", tc.name)
		}
	}
}

func TestFormatUSD(t *testing.T) {
	for _, tc := range []struct {
		micros int64
		want   string
	}{
		{0, "$0.00"}, {10_000_000, "$10.00"}, {500_000, "$0.50"}, {123, "$0.000123"},
		{1_234_500, "$1.2345"}, {-1_500_000, "-$1.50"},
	} {
		if got := FormatUSD(tc.micros); got != tc.want {
			t.Errorf("FormatUSD(%d) = %q, want %q", tc.micros, got, tc.want)
		}
	}
}
