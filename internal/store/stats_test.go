package store

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSatAdd(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b int64
		want int64
	}{
		{"small", 2, 3, 5},
		{"negative", -2, -3, -5},
		{"mixed signs never overflow", math.MaxInt64, math.MinInt64, -1},
		{"up to the limit", math.MaxInt64 - 1, 1, math.MaxInt64},
		{"past the limit", math.MaxInt64 - 1, 2, math.MaxInt64},
		{"max plus max", math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{"down to the limit", math.MinInt64 + 1, -1, math.MinInt64},
		{"past the lower limit", math.MinInt64 + 1, -2, math.MinInt64},
		{"min plus min", math.MinInt64, math.MinInt64, math.MinInt64},
		{"zero", math.MaxInt64, 0, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := satAdd(tc.a, tc.b); got != tc.want {
				t.Errorf("satAdd(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// TestAccSumsSaturate guards usage totals against wrapping negative: two
// records with huge costs used to add up to a negative total.
func TestAccSumsSaturate(t *testing.T) {
	huge := usageRow{promptTokens: math.MaxInt64 / 2, completionTokens: math.MaxInt64 / 2, cachedTokens: math.MaxInt64 / 2,
		costMicros: math.MaxInt64/2 + 1, savedMicros: math.MaxInt64/2 + 1, status: 200}
	var a acc
	for range 3 {
		a.add(&huge)
	}
	got := a.stats()
	want := Stats{Requests: 3, PromptTokens: math.MaxInt64, CompletionTokens: math.MaxInt64, CachedTokens: math.MaxInt64,
		CostMicros: math.MaxInt64, SavedMicros: math.MaxInt64}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("stats (-got +want):\n%s", d)
	}
}

// testUsageSumsSaturate is TestAccSumsSaturate through a real database.
func testUsageSumsSaturate(t *testing.T, db *DB) {
	const half = math.MaxInt64/2 + 1
	insert(t, db,
		Record{ID: "a", Time: at(time.Minute), ModelRequested: "m", Status: 200, PromptTokens: math.MaxInt64 / 2,
			CostMicros: half, SavedMicros: half},
		Record{ID: "b", Time: at(2 * time.Minute), ModelRequested: "m", Status: 200, PromptTokens: math.MaxInt64 / 2,
			CostMicros: half, SavedMicros: half},
		Record{ID: "c", Time: at(3 * time.Minute), ModelRequested: "m", Status: 200, PromptTokens: 5, CostMicros: 7},
	)
	rep, err := db.Usage(context.Background(), UsageQuery{From: t0, To: at(time.Hour), Bucket: time.Hour, GroupBy: "model"})
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	type sums struct{ Prompt, Cost, Saved int64 }
	got := []sums{{rep.Totals.PromptTokens, rep.Totals.CostMicros, rep.Totals.SavedMicros}}
	for _, g := range rep.Groups {
		got = append(got, sums{g.Totals.PromptTokens, g.Totals.CostMicros, g.Totals.SavedMicros})
		for _, b := range g.Series {
			got = append(got, sums{b.PromptTokens, b.CostMicros, b.SavedMicros})
		}
	}
	top := sums{math.MaxInt64, math.MaxInt64, math.MaxInt64}
	if d := cmp.Diff(got, []sums{top, top, top}); d != "" {
		t.Errorf("totals, group, bucket (-got +want):\n%s", d)
	}
}
