package telemetry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

func TestRateLimitMetrics(t *testing.T) {
	var nilMetrics *RateLimitMetrics
	nilMetrics.Refused(0, 0) // a nil *RateLimitMetrics counts nothing
	nilMetrics.BackendError("local")

	reg := prometheus.NewRegistry()
	m := NewRateLimitMetrics(reg)
	m.Refused(0, 0)
	m.Refused(0, 0)
	m.Refused(3, 2)
	m.Refused(4, 0)  // out of range: ignored
	m.Refused(0, -1) // out of range: ignored
	m.BackendError("closed")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range mt.GetLabel() {
				name += " " + l.GetName() + "=" + l.GetValue()
			}
			if v := mt.GetCounter().GetValue(); v != 0 {
				got[name] = v
			}
		}
	}
	want := map[string]float64{
		"sluice_rate_limited_total kind=requests scope=key":    2,
		"sluice_rate_limited_total kind=concurrency scope=ip":  1,
		"sluice_rate_limit_backend_errors_total policy=closed": 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
}
