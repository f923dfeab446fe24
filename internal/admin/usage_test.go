package admin

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/store"
)

// TestUsageGolden checks whole usage answers over the fixture records
// against golden files (go test -update rewrites them); the same files
// serve every backend, so SQLite and PostgreSQL must agree.
func TestUsageGolden(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		golden string
	}{
		{name: "three hours by the hour", query: "from=2026-03-01T09:00:00Z&to=2026-03-01T12:00:00Z&bucket=1h",
			golden: "usage_hourly.json"},
		{name: "grouped by model", query: "from=2026-03-01T09:00:00Z&to=2026-03-01T12:00:00Z&bucket=1h&group_by=model",
			golden: "usage_by_model.json"},
		{name: "successes grouped by provider", query: "from=2026-03-01T09:00:00Z&to=2026-03-01T12:00:00Z&bucket=3600&group_by=provider&status=2xx",
			golden: "usage_by_provider_2xx.json"},
		{name: "default range is the last day", query: "", golden: "usage_default.json"},
		{name: "metadata filter and team grouping", query: "from=1772355600&to=1772366400&group_by=team&metadata.team=a",
			golden: "usage_team_metadata.json"},
		{name: "client request id", query: "from=2026-03-01T09:00:00Z&to=2026-03-01T12:00:00Z&bucket=1h&client_request_id=envoy-1",
			golden: "usage_client_request_id.json"},
		{name: "nothing matches", query: "tenant_id=zzz&from=2026-03-01T09:00:00Z&to=2026-03-01T10:00:00Z",
			golden: "usage_empty.json"},
	}
	eachBackend(t, func(t *testing.T, db *store.DB) {
		base := seeded(t, db)
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := get(t, base, "/admin/v1/usage?"+tc.query)
				if r.status != 200 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				goldenJSON(t, "testdata/"+tc.golden, r.body)
			})
		}
	})
}

// TestUsageNumbers spells out the hourly totals that the golden file
// holds, computed by hand from the fixtures, so a wrong golden file cannot
// be regenerated into agreement unnoticed.
func TestUsageNumbers(t *testing.T) {
	type pct struct{ P50, P95, P99 json.Number }
	type stats struct {
		Requests         int64       `json:"requests"`
		Errors           int64       `json:"errors"`
		PromptTokens     int64       `json:"prompt_tokens"`
		CompletionTokens int64       `json:"completion_tokens"`
		CachedTokens     int64       `json:"cached_tokens"`
		CostUSD          string      `json:"cost_usd"`
		CostMicros       int64       `json:"cost_micros"`
		SavedUSD         string      `json:"saved_usd"`
		SavedMicros      int64       `json:"saved_micros"`
		CacheHits        int64       `json:"cache_hits"`
		CacheHitRatio    json.Number `json:"cache_hit_ratio"`
		Latency          pct         `json:"latency_ms"`
		TTFT             pct         `json:"ttft_ms"`
	}
	type bucket struct {
		Start string `json:"start"`
		stats
	}
	var got struct {
		From          string `json:"from"`
		To            string `json:"to"`
		BucketSeconds int64  `json:"bucket_seconds"`
		Totals        stats  `json:"totals"`
		Groups        []struct {
			Key    string   `json:"key"`
			Totals stats    `json:"totals"`
			Series []bucket `json:"series"`
		} `json:"groups"`
	}
	// In [09:00, 12:00): r00–r06. Latencies (ms) sorted: 0.7, 5, 50, 800,
	// 1200, 2000, 3000 → nearest-rank p50 = 4th = 800, p95 = p99 = 3000.
	// TTFTs: 4, 100, 300, 500 → p50 = 2nd = 100, p95 = p99 = 500.
	// Cache: r01 miss, r03 bypass, r04 hit, r05 hit, r06 miss → 2/5.
	want := stats{Requests: 7, Errors: 3, PromptTokens: 1430, CompletionTokens: 490, CachedTokens: 800,
		CostUSD: "0.002650", CostMicros: 2650, SavedUSD: "0.002100", SavedMicros: 2100, CacheHits: 2,
		CacheHitRatio: "0.4", Latency: pct{"800.000", "3000.000", "3000.000"}, TTFT: pct{"100.000", "500.000", "500.000"}}
	eachBackend(t, func(t *testing.T, db *store.DB) {
		base := seeded(t, db)
		r := get(t, base, "/admin/v1/usage?from=2026-03-01T09:00:00Z&to=2026-03-01T12:00:00Z&bucket=1h")
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if err := unmarshalNumber(r.body, &got); err != nil {
			t.Fatal(err)
		}
		if got.From != "2026-03-01T09:00:00Z" || got.To != "2026-03-01T12:00:00Z" || got.BucketSeconds != 3600 {
			t.Errorf("range %s–%s step %d", got.From, got.To, got.BucketSeconds)
		}
		if diff := cmp.Diff(got.Totals, want); diff != "" {
			t.Errorf("totals (-got +want):\n%s", diff)
		}
		if len(got.Groups) != 1 || got.Groups[0].Key != "" {
			t.Fatalf("want one ungrouped group, got %+v", got.Groups)
		}
		if diff := cmp.Diff(got.Groups[0].Totals, want); diff != "" {
			t.Errorf("group totals (-got +want):\n%s", diff)
		}
		var starts []string
		var requests []int64
		for _, b := range got.Groups[0].Series {
			starts = append(starts, b.Start)
			requests = append(requests, b.Requests)
		}
		if diff := cmp.Diff(starts, []string{"2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"}); diff != "" {
			t.Errorf("series starts (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(requests, []int64{5, 1, 1}); diff != "" {
			t.Errorf("series requests (-got +want):\n%s", diff)
		}
	})
}
