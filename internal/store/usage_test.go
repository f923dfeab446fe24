package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// usageRecords are the records the usage expectations below were worked
// out by hand from. Times are minutes after t0; the range is two hours in
// one-hour buckets.
var usageRecords = []Record{
	{ID: "a", Time: at(10 * time.Minute), TenantID: "t1", ModelRequested: "gpt", Provider: "openai", Status: 200,
		PromptTokens: 10, CompletionTokens: 20, CachedTokens: 5, CostMicros: 100, CacheStatus: "miss",
		LatencyMicros: 1000, TTFTMicros: 100},
	{ID: "b", Time: at(20 * time.Minute), TenantID: "t1", ModelRequested: "gpt", Provider: "openai", Status: 200,
		PromptTokens: 30, CompletionTokens: 40, CostMicros: 300, CacheStatus: "hit", LatencyMicros: 3000},
	{ID: "c", Time: at(70 * time.Minute), TenantID: "t1", ModelRequested: "gpt", Provider: "openai", Status: 500,
		LatencyMicros: 5000},
	{ID: "d", Time: at(80 * time.Minute), TenantID: "t1", ModelRequested: "claude", Provider: "anthropic", Status: 200,
		PromptTokens: 5, CompletionTokens: 5, CostMicros: 50, SavedMicros: 20, CacheStatus: "hit",
		LatencyMicros: 2000, TTFTMicros: 200},
	{ID: "e", Time: at(90 * time.Minute), TenantID: "t1", ModelRequested: "claude", Provider: "anthropic", Status: 429,
		LatencyMicros: 4000},
	// Outside the range or the filter.
	{ID: "late", Time: at(120 * time.Minute), TenantID: "t1", ModelRequested: "gpt", Status: 200, LatencyMicros: 1},
	{ID: "early", Time: at(-time.Microsecond), TenantID: "t1", ModelRequested: "gpt", Status: 200, LatencyMicros: 1},
	{ID: "other-tenant", Time: at(30 * time.Minute), TenantID: "t2", ModelRequested: "gpt", Status: 200, LatencyMicros: 1},
}

// Expected stats, by hand. Latencies sorted: 1000 2000 3000 4000 5000;
// nearest rank of p over n values is ⌈p·n/100⌉.
var (
	statsAll = Stats{Requests: 5, Errors: 2, PromptTokens: 45, CompletionTokens: 65, CachedTokens: 5,
		CostMicros: 450, SavedMicros: 20, CacheHits: 2, CacheHitRatio: 2.0 / 3, // hit, hit of miss, hit, hit
		LatencyP50: 3000, LatencyP95: 5000, LatencyP99: 5000, // ranks 3, 5, 5
		TTFTP50: 100, TTFTP95: 200, TTFTP99: 200} // 100 200: ranks 1, 2, 2
	statsFirstHour = Stats{Requests: 2, PromptTokens: 40, CompletionTokens: 60, CachedTokens: 5,
		CostMicros: 400, CacheHits: 1, CacheHitRatio: 0.5,
		LatencyP50: 1000, LatencyP95: 3000, LatencyP99: 3000, // 1000 3000: ranks 1, 2, 2
		TTFTP50: 100, TTFTP95: 100, TTFTP99: 100}
	statsSecondHour = Stats{Requests: 3, Errors: 2, PromptTokens: 5, CompletionTokens: 5,
		CostMicros: 50, SavedMicros: 20, CacheHits: 1, CacheHitRatio: 1,
		LatencyP50: 4000, LatencyP95: 5000, LatencyP99: 5000, // 2000 4000 5000: ranks 2, 3, 3
		TTFTP50: 200, TTFTP95: 200, TTFTP99: 200}
	statsGPT = Stats{Requests: 3, Errors: 1, PromptTokens: 40, CompletionTokens: 60, CachedTokens: 5,
		CostMicros: 400, CacheHits: 1, CacheHitRatio: 0.5,
		LatencyP50: 3000, LatencyP95: 5000, LatencyP99: 5000, // 1000 3000 5000: ranks 2, 3, 3
		TTFTP50: 100, TTFTP95: 100, TTFTP99: 100}
	statsGPTSecondHour = Stats{Requests: 1, Errors: 1, LatencyP50: 5000, LatencyP95: 5000, LatencyP99: 5000}
	statsClaude        = Stats{Requests: 2, Errors: 1, PromptTokens: 5, CompletionTokens: 5,
		CostMicros: 50, SavedMicros: 20, CacheHits: 1, CacheHitRatio: 1,
		LatencyP50: 2000, LatencyP95: 4000, LatencyP99: 4000, // 2000 4000: ranks 1, 2, 2
		TTFTP50: 200, TTFTP95: 200, TTFTP99: 200}
)

func testUsage(t *testing.T, db *DB) {
	insert(t, db, usageRecords...)
	// The filter's own From, To, Limit and Cursor are ignored.
	filter := LogFilter{TenantID: "t1", From: at(time.Hour), To: at(time.Hour), Limit: 1, Cursor: "not a cursor"}
	hour0, hour1 := at(0), at(time.Hour)
	for _, tc := range []struct {
		name string
		q    UsageQuery
		want UsageReport
	}{
		{"ungrouped", UsageQuery{From: at(0), To: at(2 * time.Hour), Bucket: time.Hour, Filter: filter},
			UsageReport{From: at(0), To: at(2 * time.Hour), Bucket: time.Hour, Totals: statsAll,
				Groups: []UsageGroup{{Key: "", Totals: statsAll, Series: []Bucket{
					{Start: hour0, Stats: statsFirstHour}, {Start: hour1, Stats: statsSecondHour}}}}}},
		{"by model", UsageQuery{From: at(0), To: at(2 * time.Hour), Bucket: time.Hour, GroupBy: "model", Filter: filter},
			UsageReport{From: at(0), To: at(2 * time.Hour), Bucket: time.Hour, Totals: statsAll,
				Groups: []UsageGroup{
					{Key: "gpt", Totals: statsGPT, Series: []Bucket{
						{Start: hour0, Stats: statsFirstHour}, {Start: hour1, Stats: statsGPTSecondHour}}},
					{Key: "claude", Totals: statsClaude, Series: []Bucket{{Start: hour1, Stats: statsClaude}}},
				}}},
		// t0 is 15:00 UTC, a multiple of 3h since the epoch: one bucket.
		{"by provider", UsageQuery{From: at(0), To: at(2 * time.Hour), Bucket: 3 * time.Hour, GroupBy: "provider", Filter: filter},
			UsageReport{From: at(0), To: at(2 * time.Hour), Bucket: 3 * time.Hour, Totals: statsAll,
				Groups: []UsageGroup{
					{Key: "openai", Totals: statsGPT, Series: []Bucket{{Start: hour0, Stats: statsGPT}}},
					{Key: "anthropic", Totals: statsClaude, Series: []Bucket{{Start: hour0, Stats: statsClaude}}},
				}}},
		// A range starting mid-hour still gets hour-aligned buckets; the
		// records before From do not count.
		{"buckets aligned to the hour", UsageQuery{From: at(30 * time.Minute), To: at(2 * time.Hour), Bucket: time.Hour,
			Filter: LogFilter{TenantID: "t1", Model: "claude"}},
			UsageReport{From: at(30 * time.Minute), To: at(2 * time.Hour), Bucket: time.Hour, Totals: statsClaude,
				Groups: []UsageGroup{{Key: "", Totals: statsClaude, Series: []Bucket{{Start: hour1, Stats: statsClaude}}}}}},
		{"filtered by model", UsageQuery{From: at(0), To: at(2 * time.Hour), Bucket: time.Hour,
			Filter: LogFilter{TenantID: "t1", Model: "claude"}},
			UsageReport{From: at(0), To: at(2 * time.Hour), Bucket: time.Hour, Totals: statsClaude,
				Groups: []UsageGroup{{Key: "", Totals: statsClaude, Series: []Bucket{{Start: hour1, Stats: statsClaude}}}}}},
		{"default bucket", UsageQuery{From: at(0), To: at(2 * time.Hour), GroupBy: "tenant", Filter: LogFilter{Provider: "anthropic"}},
			UsageReport{From: at(0), To: at(2 * time.Hour), Bucket: 2 * time.Minute, Totals: statsClaude,
				Groups: []UsageGroup{{Key: "t1", Totals: statsClaude, Series: []Bucket{
					{Start: at(80 * time.Minute), Stats: Stats{Requests: 1, PromptTokens: 5, CompletionTokens: 5,
						CostMicros: 50, SavedMicros: 20, CacheHits: 1, CacheHitRatio: 1,
						LatencyP50: 2000, LatencyP95: 2000, LatencyP99: 2000, TTFTP50: 200, TTFTP95: 200, TTFTP99: 200}},
					{Start: at(90 * time.Minute), Stats: Stats{Requests: 1, Errors: 1,
						LatencyP50: 4000, LatencyP95: 4000, LatencyP99: 4000}},
				}}}}},
		{"empty range", UsageQuery{From: at(-2 * time.Hour), To: at(-time.Hour), Bucket: time.Hour, GroupBy: "key"},
			UsageReport{From: at(-2 * time.Hour), To: at(-time.Hour), Bucket: time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.Usage(context.Background(), tc.q)
			if err != nil {
				t.Fatalf("Usage: %v", err)
			}
			if d := cmp.Diff(got, tc.want); d != "" {
				t.Errorf("Usage (-got +want):\n%s", d)
			}
		})
	}
}

func testUsageBadQuery(t *testing.T, db *DB) {
	for _, tc := range []struct {
		name string
		q    UsageQuery
	}{
		{"unknown group", UsageQuery{From: at(0), To: at(time.Hour), GroupBy: "colour"}},
		{"no from", UsageQuery{To: at(time.Hour)}},
		{"no to", UsageQuery{From: at(0)}},
		{"to before from", UsageQuery{From: at(time.Hour), To: at(0)}},
		{"bucket under a minute", UsageQuery{From: at(0), To: at(time.Hour), Bucket: 30 * time.Second}},
		{"too many buckets", UsageQuery{From: at(0), To: at(1001 * time.Minute), Bucket: time.Minute}},
		{"bad status class", UsageQuery{From: at(0), To: at(time.Hour), Filter: LogFilter{StatusClass: 9}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.Usage(context.Background(), tc.q); !errors.Is(err, ErrBadQuery) {
				t.Errorf("Usage = %v, want ErrBadQuery", err)
			}
		})
	}
}

func TestUsageRange(t *testing.T) {
	for _, tc := range []struct {
		name       string
		q          UsageQuery
		wantBucket time.Duration
		wantErr    bool
	}{
		{"default one hour", UsageQuery{From: at(0), To: at(time.Hour)}, time.Minute, false},
		{"default rounds up to a minute", UsageQuery{From: at(0), To: at(61 * time.Minute)}, 2 * time.Minute, false},
		{"default short range", UsageQuery{From: at(0), To: at(time.Second)}, time.Minute, false},
		{"default one day", UsageQuery{From: at(0), To: at(24 * time.Hour)}, 24 * time.Minute, false},
		{"exactly 1000 buckets", UsageQuery{From: at(0), To: at(1000 * time.Minute), Bucket: time.Minute}, time.Minute, false},
		{"1001 buckets", UsageQuery{From: at(0), To: at(1000*time.Minute + time.Microsecond), Bucket: time.Minute}, 0, true},
		{"sub-microsecond bucket truncated", UsageQuery{From: at(0), To: at(time.Hour), Bucket: time.Minute + 999}, time.Minute, false},
		{"one minute minimum", UsageQuery{From: at(0), To: at(time.Hour), Bucket: time.Minute - 1}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, bucketUS, err := usageRange(tc.q)
			if (err != nil) != tc.wantErr {
				t.Fatalf("usageRange error = %v, want error %v", err, tc.wantErr)
			}
			if got := time.Duration(bucketUS) * time.Microsecond; !tc.wantErr && got != tc.wantBucket {
				t.Errorf("bucket = %s, want %s", got, tc.wantBucket)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sorted []int64
		p      int
		want   int64
	}{
		{"empty", nil, 50, 0},
		{"one value", []int64{7}, 99, 7},
		{"median of four is the second", []int64{1, 2, 3, 4}, 50, 2},
		{"p95 of twenty is the nineteenth", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 95, 19},
		{"p99 of twenty is the last", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 99, 20},
		{"p100", []int64{1, 5, 9}, 100, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("percentile(%v, %d) = %d, want %d", tc.sorted, tc.p, got, tc.want)
			}
		})
	}
}
