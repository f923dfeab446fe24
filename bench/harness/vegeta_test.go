package harness

import (
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestRateResultFailed(t *testing.T) {
	tests := []struct {
		name string
		r    RateResult
		want bool
	}{
		{"all sent, all succeeded", RateResult{Rate: 1000, Duration: 2 * time.Second, Requests: 2000, Success: 1}, false},
		{"a few short of the schedule is fine", RateResult{Rate: 1000, Duration: 2 * time.Second, Requests: 1950, Success: 1}, false},
		{"fell behind the rate", RateResult{Rate: 1000, Duration: 2 * time.Second, Requests: 1000, Success: 1}, true},
		{"errors", RateResult{Rate: 1000, Duration: 2 * time.Second, Requests: 2000, Success: 0.999}, true},
		{"nothing sent is no figure, not a failure", RateResult{Rate: 1000, Duration: 2 * time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Failed(); got != tt.want {
				t.Errorf("Failed() = %v, want %v (%s)", got, tt.want, tt.r.Describe())
			}
		})
	}
}

func TestSummariseRatePoolsRounds(t *testing.T) {
	var m vegeta.Metrics
	add := func(n int, code uint16, latency time.Duration) {
		for range n {
			m.Add(&vegeta.Result{Code: code, Latency: latency, Timestamp: time.Unix(0, 0)})
		}
	}
	add(99, 200, time.Millisecond)
	first := SummariseRate(&m, 1000, time.Second, 100*time.Millisecond)
	add(1, 502, time.Second) // a second round
	got := SummariseRate(&m, 1000, 2*time.Second, 300*time.Millisecond)

	if first.Requests != 99 || first.Success != 1 {
		t.Errorf("first round: %d requests, success %v; want 99, 1", first.Requests, first.Success)
	}
	if got.Requests != 100 || got.Success != 0.99 || got.Codes["502"] != 1 || got.Codes["200"] != 99 {
		t.Errorf("pooled: %+v; want 100 requests, 99%% success, one 502", got)
	}
	if first.Codes["502"] != 0 {
		t.Errorf("the first summary changed after more results: codes %v", first.Codes)
	}
	if want := 30 * time.Second; got.CPU10k() != want {
		t.Errorf("CPU10k = %v, want %v (0.3 s over 100 requests)", got.CPU10k(), want)
	}
	if got.Expected() != 2000 {
		t.Errorf("Expected = %d, want 2000 (1,000 rps for 2 s in all)", got.Expected())
	}
}
