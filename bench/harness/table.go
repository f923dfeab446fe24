package harness

import (
	"fmt"
	"strings"
	"time"
)

// metric is one column of the table.
type metric struct {
	head string
	// get returns r's raw figure, whether it was measured, and whether
	// errors were seen while measuring it.
	get func(r *Result) (v float64, ok, warn bool)
	// added: the figure shown is r's minus the direct row's (an overhead);
	// the direct row shows its own figure.
	added  bool
	format func(float64) string
}

func columns(p Plan) []metric {
	ms := []metric{{
		head: "max req/s",
		get: func(r *Result) (float64, bool, bool) {
			if r.Throughput == nil {
				return 0, false, false
			}
			return r.Throughput.RPS(), true, r.Throughput.Errors() > 0
		},
		format: fmtRPS,
	}}
	for _, rate := range p.Rates {
		for _, q := range []string{"p50", "p99"} {
			ms = append(ms, metric{
				head: fmt.Sprintf("+%s @%s rps", q, fmtInt(int64(rate))),
				get: func(r *Result) (float64, bool, bool) {
					rr, ok := r.Rates[rate]
					if !ok || rr.Requests == 0 {
						return 0, false, false
					}
					v := rr.P50
					if q == "p99" {
						v = rr.P99
					}
					return float64(v), true, rr.Failed()
				},
				added: true, format: durFloat,
			})
		}
	}
	for _, q := range []string{"p50", "p99"} {
		ms = append(ms, metric{
			head: "TTFT +" + q,
			get: func(r *Result) (float64, bool, bool) {
				if r.TTFT == nil || r.TTFT.Streams == 0 {
					return 0, false, false
				}
				v := r.TTFT.P50
				if q == "p99" {
					v = r.TTFT.P99
				}
				return float64(v), true, r.TTFT.Failures > 0
			},
			added: true, format: durFloat,
		})
	}
	for _, rate := range p.Rates {
		ms = append(ms, cpuMetric(rate))
	}
	for _, n := range p.Holds {
		ms = append(ms, metric{
			head: fmt.Sprintf("peak RSS, %s streams", fmtInt(int64(n))),
			get: func(r *Result) (float64, bool, bool) {
				h, ok := r.Holds[n]
				if !ok || h.Mem.Peak == 0 {
					return 0, false, false
				}
				return float64(h.Mem.Peak), true, h.Failures > 0 || h.Live < h.Want
			},
			format: func(v float64) string { return mib(uint64(v)) },
		})
	}
	return ms
}

// cpuMetric is the column of CPU per 10,000 requests at rate.
func cpuMetric(rate int) metric {
	return metric{
		head: fmt.Sprintf("CPU-s / 10k req @%s rps", fmtInt(int64(rate))),
		get: func(r *Result) (float64, bool, bool) {
			rr, ok := r.Rates[rate]
			return float64(rr.CPU10k()), ok && rr.Requests > 0 && rr.CPU > 0, rr.Failed()
		},
		format: func(v float64) string { return fmtCPU(time.Duration(v)) },
	}
}

func durFloat(v float64) string { return fmtDur(time.Duration(v)) }

// find returns the result of the system named name, or nil.
func find(rs []*Result, name string) *Result {
	for _, r := range rs {
		if r.System.Name == name {
			return r
		}
	}
	return nil
}

// value is what a cell shows for r: its figure, or for an added metric
// its figure minus the direct row's. ok is false when either is missing.
func (m metric) value(r, direct *Result) (float64, bool) {
	if r == nil {
		return 0, false
	}
	v, ok, _ := m.get(r)
	if !ok || !m.added || r == direct {
		return v, ok
	}
	if direct == nil {
		return 0, false
	}
	d, ok, _ := m.get(direct)
	if !ok {
		return 0, false
	}
	return v - d, true
}

// cell renders r's figure for m, with its ratio to the baseline row.
func (m metric) cell(r, direct, base *Result) string {
	raw, ok, warn := m.get(r)
	if !ok {
		return "—"
	}
	var s string
	switch {
	case r == direct:
		s = "*" + m.format(raw) + "*"
	default:
		v, ok := m.value(r, direct)
		if !ok {
			return "n/a"
		}
		if m.added {
			s = fmtAdded(time.Duration(v))
		} else {
			s = m.format(v)
		}
		if r != base {
			if b, ok := m.value(base, direct); ok {
				s += fmtRatio(v, b)
			}
		}
	}
	if warn {
		s += " ⚠"
	}
	return s
}

// Table renders the results as one markdown table: a row per system, a
// column per figure, each cell with its ratio to the Go reverse proxy.
func Table(p Plan, rs []*Result) string {
	ms := columns(p)
	direct, base := find(rs, "direct"), find(rs, "go-proxy")
	var b strings.Builder
	b.WriteString("| system |")
	for _, m := range ms {
		b.WriteString(" " + m.head + " |")
	}
	b.WriteString("\n|---|")
	for range ms {
		b.WriteString("--:|")
	}
	b.WriteString("\n")
	for _, r := range rs {
		b.WriteString("| " + r.System.Title + " |")
		for _, m := range ms {
			b.WriteString(" " + m.cell(r, direct, base) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}
