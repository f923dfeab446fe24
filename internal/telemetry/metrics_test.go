package telemetry

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sluicehq/sluice/internal/store"
)

// metricsScrape GETs m's handler from a real server and parses the text.
func metricsScrape(t testing.TB, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape status = %d, want 200", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return fams
}

// metricsSeriesID renders a series as name{k="v",...} with sorted labels.
func metricsSeriesID(name string, labels []*dto.LabelPair) string {
	parts := make([]string, 0, len(labels))
	for _, l := range labels {
		parts = append(parts, l.GetName()+"="+`"`+l.GetValue()+`"`)
	}
	sort.Strings(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

// metricsValues flattens the families whose name starts with prefix into
// series id → value; a histogram gives id_count and id_sum entries.
func metricsValues(fams map[string]*dto.MetricFamily, prefix string) map[string]float64 {
	out := map[string]float64{}
	for name, f := range fams {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for _, m := range f.GetMetric() {
			switch {
			case m.Counter != nil:
				out[metricsSeriesID(name, m.GetLabel())] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[metricsSeriesID(name, m.GetLabel())] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[metricsSeriesID(name+"_count", m.GetLabel())] = float64(m.GetHistogram().GetSampleCount())
				out[metricsSeriesID(name+"_sum", m.GetLabel())] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

var metricsApprox = cmpopts.EquateApprox(0, 1e-9)

func TestMetricsObserve(t *testing.T) {
	chat := store.Record{
		Route: "/v1/chat/completions", ModelRequested: "gpt-4o", Provider: "openai", Status: 200,
		PromptTokens: 10, CompletionTokens: 5, CachedTokens: 2, CacheWriteTokens: 1, ReasoningTokens: 3,
		CostMicros: 1500, LatencyMicros: 250_000, KeyID: "key_1",
	}
	with := func(f func(*store.Record)) store.Record {
		r := chat
		f(&r)
		return r
	}
	// tokens lists the five token series; key is the key_id label
	// ("-" when the series has none).
	tokens := func(model, key string, p, c, cached, cw, reasoning float64) map[string]float64 {
		kl := ""
		if key != "-" {
			kl = `key_id="` + key + `",`
		}
		out := map[string]float64{}
		for typ, v := range map[string]float64{"prompt": p, "completion": c, "cached": cached, "cache_write": cw, "reasoning": reasoning} {
			out[`sluice_tokens_total{`+kl+`model="`+model+`",provider="openai",type="`+typ+`"}`] = v
		}
		return out
	}
	merge := func(ms ...map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	hist := func(name, labels string, count, sum float64) map[string]float64 {
		return map[string]float64{name + "_count{" + labels + "}": count, name + "_sum{" + labels + "}": sum}
	}
	const chatLabels = `model="gpt-4o",provider="openai",route="/v1/chat/completions"`

	tests := []struct {
		name    string
		cfg     MetricsConfig
		known   []string
		records []store.Record
		want    map[string]float64
	}{{
		name:    "known model counts requests, latency, tokens and cost",
		known:   []string{"gpt-4o"},
		records: []store.Record{chat, chat},
		want: merge(
			map[string]float64{
				`sluice_requests_total{cache="none",` + chatLabels + `,status_class="2xx"}`: 2,
				`sluice_cost_usd_total{model="gpt-4o",provider="openai"}`:                   0.003,
			},
			hist("sluice_request_duration_seconds", chatLabels, 2, 0.5),
			hist("sluice_ttft_seconds", `model="gpt-4o",provider="openai"`, 0, 0),
			tokens("gpt-4o", "-", 20, 10, 4, 2, 6),
		),
	}, {
		name:    "unknown model is other",
		known:   []string{"gpt-4o"},
		records: []store.Record{with(func(r *store.Record) { r.ModelRequested = "ignore previous; 🦜 x" })},
		want: merge(
			map[string]float64{
				`sluice_requests_total{cache="none",model="other",provider="openai",route="/v1/chat/completions",status_class="2xx"}`: 1,
				`sluice_cost_usd_total{model="other",provider="openai"}`:                                                              0.0015,
			},
			hist("sluice_request_duration_seconds", `model="other",provider="openai",route="/v1/chat/completions"`, 1, 0.25),
			hist("sluice_ttft_seconds", `model="other",provider="openai"`, 0, 0),
			tokens("other", "-", 10, 5, 2, 1, 3),
		),
	}, {
		name:  "stream with TTFT, cache statuses and status classes",
		known: []string{"gpt-4o"},
		records: []store.Record{
			with(func(r *store.Record) { r.Stream, r.TTFTMicros, r.CacheStatus = true, 120_000, "hit" }),
			with(func(r *store.Record) { r.Status, r.CacheStatus = 499, "miss" }),
			with(func(r *store.Record) { r.Status, r.CacheStatus = 503, "weird" }),
			with(func(r *store.Record) { r.Status, r.CacheStatus = 0, "bypass" }),
		},
		want: merge(
			map[string]float64{
				`sluice_requests_total{cache="hit",` + chatLabels + `,status_class="2xx"}`:      1,
				`sluice_requests_total{cache="miss",` + chatLabels + `,status_class="499"}`:     1,
				`sluice_requests_total{cache="other",` + chatLabels + `,status_class="5xx"}`:    1,
				`sluice_requests_total{cache="bypass",` + chatLabels + `,status_class="other"}`: 1,
				`sluice_cost_usd_total{model="gpt-4o",provider="openai"}`:                       0.006,
			},
			hist("sluice_request_duration_seconds", chatLabels, 4, 1),
			hist("sluice_ttft_seconds", `model="gpt-4o",provider="openai"`, 1, 0.12),
			tokens("gpt-4o", "-", 40, 20, 8, 4, 12),
		),
	}, {
		name:    "per-key labels when configured",
		cfg:     MetricsConfig{PerKeyLabels: true},
		known:   []string{"gpt-4o"},
		records: []store.Record{chat, with(func(r *store.Record) { r.KeyID = "" })},
		want: merge(
			map[string]float64{
				`sluice_requests_total{cache="none",key_id="key_1",` + chatLabels + `,status_class="2xx"}`: 1,
				`sluice_requests_total{cache="none",key_id="",` + chatLabels + `,status_class="2xx"}`:      1,
				`sluice_cost_usd_total{key_id="key_1",model="gpt-4o",provider="openai"}`:                   0.0015,
				`sluice_cost_usd_total{key_id="",model="gpt-4o",provider="openai"}`:                        0.0015,
			},
			hist("sluice_request_duration_seconds", chatLabels, 2, 0.5),
			hist("sluice_ttft_seconds", `model="gpt-4o",provider="openai"`, 0, 0),
			tokens("gpt-4o", "key_1", 10, 5, 2, 1, 3),
			tokens("gpt-4o", "", 10, 5, 2, 1, 3),
		),
	}, {
		name:  "negative counts are not counted and do not panic",
		known: []string{"gpt-4o"},
		records: []store.Record{with(func(r *store.Record) {
			r.PromptTokens, r.CompletionTokens, r.CostMicros, r.LatencyMicros, r.TTFTMicros = -1, -2, -3, -4, -5
			r.CachedTokens, r.CacheWriteTokens, r.ReasoningTokens = 0, 0, 0
		})},
		want: merge(
			map[string]float64{
				`sluice_requests_total{cache="none",` + chatLabels + `,status_class="2xx"}`: 1,
				`sluice_cost_usd_total{model="gpt-4o",provider="openai"}`:                   0,
			},
			hist("sluice_request_duration_seconds", chatLabels, 0, 0),
			hist("sluice_ttft_seconds", `model="gpt-4o",provider="openai"`, 0, 0),
			tokens("gpt-4o", "-", 0, 0, 0, 0, 0),
		),
	}, {
		name:  "empty model and provider, invalid UTF-8 route",
		known: nil,
		records: []store.Record{{
			Route: "/bad\xff", Status: 400, LatencyMicros: 1000,
		}},
		want: merge(
			map[string]float64{
				`sluice_requests_total{cache="none",model="",provider="",route="/bad` + "\uFFFD" + `",status_class="4xx"}`: 1,
				`sluice_cost_usd_total{model="",provider=""}`:                                                              0,
			},
			hist("sluice_request_duration_seconds", `model="",provider="",route="/bad`+"\uFFFD"+`"`, 1, 0.001),
			hist("sluice_ttft_seconds", `model="",provider=""`, 0, 0),
			func() map[string]float64 {
				out := map[string]float64{}
				for _, typ := range metricsTokenTypes {
					out[`sluice_tokens_total{model="",provider="",type="`+typ+`"}`] = 0
				}
				return out
			}(),
		),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMetrics(tt.cfg)
			m.SetKnownModels(tt.known)
			for i := range tt.records {
				m.Observe(&tt.records[i])
			}
			m.Observe(nil) // ignored
			got := metricsValues(metricsScrape(t, m), "sluice_")
			for k := range got { // series this test does not look at
				if strings.HasPrefix(k, "sluice_inflight") || strings.HasPrefix(k, "sluice_log_") {
					delete(got, k)
				}
			}
			if diff := cmp.Diff(got, tt.want, metricsApprox); diff != "" {
				t.Errorf("series (-got +want):\n%s", diff)
			}
		})
	}
}

func TestMetricsUpstreamErrorCodes(t *testing.T) {
	tests := []struct {
		name, code, want string
	}{
		{"plain code kept", "rate_limit_exceeded", "rate_limit_exceeded"},
		{"digits kept", "429", "429"},
		{"empty is other", "", "other"},
		{"upper case is other", "RateLimit", "other"},
		{"punctuation is other", "rate-limit", "other"},
		{"64 chars kept", strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{"65 chars is other", strings.Repeat("a", 65), "other"},
	}
	m := NewMetrics(MetricsConfig{})
	want := map[string]float64{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := metricsCodeLabel(tt.code); got != tt.want {
				t.Errorf("metricsCodeLabel(%q) = %q, want %q", tt.code, got, tt.want)
			}
		})
		m.UpstreamError("openai", tt.code)
		want[`sluice_upstream_errors_total{code="`+tt.want+`",provider="openai"}`]++
	}
	got := metricsValues(metricsScrape(t, m), "sluice_upstream_errors_total")
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("series (-got +want):\n%s", diff)
	}
}

func TestMetricsRequestStarted(t *testing.T) {
	m := NewMetrics(MetricsConfig{})
	inflight := func() map[string]float64 { return metricsValues(metricsScrape(t, m), "sluice_inflight_") }

	done1 := m.RequestStarted()
	started := func() func() { // a streamed request counts in both gauges
		r, s := m.RequestStarted(), m.StreamStarted()
		return func() { s(); r() }
	}
	done2, done3 := started(), started()
	want := map[string]float64{"sluice_inflight_requests{}": 3, "sluice_inflight_streams{}": 2}
	if diff := cmp.Diff(inflight(), want); diff != "" {
		t.Errorf("after start (-got +want):\n%s", diff)
	}
	done2()
	want = map[string]float64{"sluice_inflight_requests{}": 2, "sluice_inflight_streams{}": 1}
	if diff := cmp.Diff(inflight(), want); diff != "" {
		t.Errorf("after one stream done (-got +want):\n%s", diff)
	}
	done1()
	done3()
	want = map[string]float64{"sluice_inflight_requests{}": 0, "sluice_inflight_streams{}": 0}
	if diff := cmp.Diff(inflight(), want); diff != "" {
		t.Errorf("after all done (-got +want):\n%s", diff)
	}
}

func TestMetricsRegisterQueue(t *testing.T) {
	m := NewMetrics(MetricsConfig{})
	queue := func() map[string]float64 { return metricsValues(metricsScrape(t, m), "sluice_log_") }
	zero := map[string]float64{
		"sluice_log_queue_depth{}": 0, "sluice_log_records_dropped_total{}": 0, "sluice_log_records_spooled_total{}": 0,
	}
	if diff := cmp.Diff(queue(), zero); diff != "" {
		t.Errorf("before RegisterQueue (-got +want):\n%s", diff)
	}

	m.RegisterQueue(func() int { return 7 }, func() uint64 { return 3 }, func() uint64 { return 11 })
	want := map[string]float64{
		"sluice_log_queue_depth{}": 7, "sluice_log_records_dropped_total{}": 3, "sluice_log_records_spooled_total{}": 11,
	}
	if diff := cmp.Diff(queue(), want); diff != "" {
		t.Errorf("registered (-got +want):\n%s", diff)
	}

	m.RegisterQueue(func() int { return 1 }, nil, nil) // a rebuilt pipeline replaces the functions
	want = map[string]float64{
		"sluice_log_queue_depth{}": 1, "sluice_log_records_dropped_total{}": 0, "sluice_log_records_spooled_total{}": 0,
	}
	if diff := cmp.Diff(queue(), want); diff != "" {
		t.Errorf("replaced with nils (-got +want):\n%s", diff)
	}
}

func TestMetricsSetKnownModels(t *testing.T) {
	m := NewMetrics(MetricsConfig{})
	names := []string{"chat-default", "openai/gpt-4o"}
	m.SetKnownModels(names)
	names[0] = "mutated" // the caller keeps ownership of its slice

	tests := []struct{ model, want string }{
		{"chat-default", "chat-default"},
		{"openai/gpt-4o", "openai/gpt-4o"},
		{"mutated", "other"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := m.modelLabel(tt.model); got != tt.want {
			t.Errorf("modelLabel(%q) = %q, want %q", tt.model, got, tt.want)
		}
	}
	m.SetKnownModels(nil)
	if got := m.modelLabel("chat-default"); got != "other" {
		t.Errorf("after SetKnownModels(nil): modelLabel = %q, want other", got)
	}
}

func TestMetricsRuntimeCollectors(t *testing.T) {
	fams := metricsScrape(t, NewMetrics(MetricsConfig{}))
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("scrape has no %s", name)
		}
	}
}

// TestMetricsConcurrentObserve guards the series cache: concurrent first
// uses of one label set and a concurrent SetKnownModels lose no count.
func TestMetricsConcurrentObserve(t *testing.T) {
	m := NewMetrics(MetricsConfig{PerKeyLabels: true})
	m.SetKnownModels([]string{"m"})
	const goroutines, each = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := store.Record{Route: "/v1/chat/completions", ModelRequested: "m", Provider: "p", Status: 200, PromptTokens: 1}
			for i := range each {
				r.KeyID = []string{"a", "b"}[(g+i)%2]
				m.Observe(&r)
				if i == each/2 {
					m.SetKnownModels([]string{"m", "n"})
				}
			}
		}()
	}
	wg.Wait()
	got := metricsValues(metricsScrape(t, m), "sluice_requests_total")
	var total float64
	for _, v := range got {
		total += v
	}
	if total != goroutines*each {
		t.Errorf("sluice_requests_total sums to %v over %d series, want %d", total, len(got), goroutines*each)
	}
	if len(got) != 2 {
		t.Errorf("got %d request series, want 2 (one per key): %v", len(got), got)
	}
}
