package telemetry

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/store"
)

func metricsBenchRecord() store.Record {
	return store.Record{
		Route: "/v1/chat/completions", ModelRequested: "gpt-4o", Provider: "openai", Status: 200,
		KeyID: "key_1", Stream: true, PromptTokens: 120, CompletionTokens: 300, CachedTokens: 64,
		CostMicros: 4200, LatencyMicros: 1_800_000, TTFTMicros: 240_000,
	}
}

// BenchmarkObserve is the steady-state cost per finished request: the
// label children are cached, so no label hashing happens.
func BenchmarkObserve(b *testing.B) {
	for _, perKey := range []bool{false, true} {
		name := "default"
		if perKey {
			name = "per_key"
		}
		b.Run(name, func(b *testing.B) {
			m := NewMetrics(MetricsConfig{PerKeyLabels: perKey})
			m.SetKnownModels([]string{"gpt-4o", "claude-sonnet-4"})
			r := metricsBenchRecord()
			m.Observe(&r)
			b.ReportAllocs()
			for b.Loop() {
				m.Observe(&r)
			}
		})
	}
}

func BenchmarkObserveParallel(b *testing.B) {
	m := NewMetrics(MetricsConfig{})
	m.SetKnownModels([]string{"gpt-4o"})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := metricsBenchRecord()
		for pb.Next() {
			m.Observe(&r)
		}
	})
}

func BenchmarkRequestStarted(b *testing.B) {
	m := NewMetrics(MetricsConfig{})
	b.ReportAllocs()
	for b.Loop() {
		m.RequestStarted()()
	}
}

// FuzzMetricsCodeLabel checks the error-code label is the code itself or
// "other", and always a short [a-z0-9_] string.
func FuzzMetricsCodeLabel(f *testing.F) {
	for _, seed := range []string{"rate_limit_exceeded", "429", "", "RateLimit", "rate-limit", strings.Repeat("a", 65), "\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, code string) {
		got := metricsCodeLabel(code)
		if got != code && got != metricsOtherLabel {
			t.Fatalf("metricsCodeLabel(%q) = %q, want the code or other", code, got)
		}
		if len(got) == 0 || len(got) > 64 || strings.Trim(got, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Fatalf("metricsCodeLabel(%q) = %q, not a bounded code", code, got)
		}
	})
}

// FuzzMetricsObserve feeds arbitrary strings and numbers from a record
// to Observe: it must not panic (client_golang panics on invalid UTF-8
// labels and negative counter adds) and the model label must stay in
// the known set.
func FuzzMetricsObserve(f *testing.F) {
	f.Add("/v1/chat/completions", "gpt-4o", "openai", "hit", "key_1", 200, 10, int64(1500), int64(250_000))
	f.Add("/bad\xff", "ignore previous; 🦜 x", "", "weird", "", 499, -1, int64(-3), int64(-4))
	f.Add("", "", "\xfe", "", "\xff", 0, 0, int64(0), int64(0))
	m := NewMetrics(MetricsConfig{PerKeyLabels: true})
	m.SetKnownModels([]string{"gpt-4o"})
	f.Fuzz(func(t *testing.T, route, model, provider, cache, key string, status, tokens int, cost, latency int64) {
		r := store.Record{
			Route: route, ModelRequested: model, Provider: provider, CacheStatus: cache, KeyID: key,
			Status: status, PromptTokens: tokens, CompletionTokens: tokens, CostMicros: cost,
			LatencyMicros: latency, TTFTMicros: latency,
		}
		m.Observe(&r)
		if got := m.modelLabel(model); got != "" && got != "gpt-4o" && got != metricsOtherLabel {
			t.Fatalf("modelLabel(%q) = %q, outside the known set", model, got)
		}
		if !utf8.ValidString(metricsValidLabel(route)) {
			t.Fatalf("metricsValidLabel(%q) is not UTF-8", route)
		}
	})
}
