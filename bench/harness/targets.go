package harness

import (
	"fmt"
	"slices"
	"time"
)

// Targets are issue 3's goals, checked on one run. Each line says PASS or
// FAIL with the figure and, on a miss, by how much; or that the figure was
// not measured.
func Targets(p Plan, rs []*Result) []string {
	direct, base := find(rs, "direct"), find(rs, "go-proxy")
	prod, proxy := find(rs, "sluice-production"), find(rs, "sluice-proxy")
	var out []string
	cpu := cpuMetric(1000)
	for _, t := range []struct {
		name  string
		r     *Result
		limit float64
	}{{"production config", prod, 1.5}, {"proxy config", proxy, 1.15}} {
		what := fmt.Sprintf("CPU per request at 1,000 rps, %s, vs the Go reverse proxy", t.name)
		v, ok1 := cpu.value(t.r, direct)
		b, ok2 := cpu.value(base, direct)
		ratio, ok3 := Ratio(v, b)
		if !ok1 || !ok2 || !ok3 {
			out = append(out, notMeasured(what))
			continue
		}
		out = append(out, verdict(ratio <= t.limit, what,
			fmt.Sprintf("%.2f×", ratio), fmt.Sprintf("≤ %.2f×", t.limit), overBy(ratio, t.limit)))
	}

	if len(p.Rates) > 0 && p.Rates[0] == 1000 {
		what := "added p99 at 1,000 rps, production config"
		p99 := metric{added: true, get: func(r *Result) (float64, bool, bool) {
			rr, ok := r.Rates[1000]
			return float64(rr.P99), ok && rr.Requests > 0, false
		}}
		if v, ok := p99.value(prod, direct); ok && prod != direct {
			d := time.Duration(v)
			out = append(out, verdict(d < time.Millisecond, what, fmtAdded(d), "< 1 ms", overBy(v, float64(time.Millisecond))))
		} else {
			out = append(out, notMeasured(what))
		}
	}

	out = append(out, rssTarget(p, prod))
	return out
}

// streamsTarget is the stream count of the memory target.
const streamsTarget = 10000

// rssTarget checks the memory target. When fewer streams than the target
// could be held (descriptor limits), it extrapolates linearly from the two
// largest counts measured, and says so.
func rssTarget(p Plan, r *Result) string {
	what := "peak RSS holding 10,000 streams, production config"
	holds := slices.Sorted(slices.Values(p.Holds))
	if len(holds) == 0 {
		return notMeasured(what)
	}
	h, ok := holdOf(r, holds[len(holds)-1])
	if !ok || h.Live == 0 {
		return notMeasured(what)
	}
	caveat := ""
	if h.Failures > 0 || h.Live < h.Want {
		caveat = fmt.Sprintf(", with %s of %s streams open (see Problems)", fmtInt(int64(h.Live)), fmtInt(int64(h.Want)))
	}
	if h.Live >= streamsTarget {
		return verdict(h.Mem.Peak < 1<<30, what, mib(h.Mem.Peak)+caveat, "< 1 GiB", overBy(float64(h.Mem.Peak), 1<<30))
	}
	// Extrapolate from the streams actually open when memory was sampled.
	est := float64(h.Mem.Peak) * streamsTarget / float64(h.Live)
	if len(holds) > 1 {
		if h0, ok := holdOf(r, holds[len(holds)-2]); ok && h0.Live > 0 && h0.Live < h.Live {
			slope := (float64(h.Mem.Peak) - float64(h0.Mem.Peak)) / float64(h.Live-h0.Live)
			est = float64(h.Mem.Peak) + slope*float64(streamsTarget-h.Live)
		}
	}
	got := fmt.Sprintf("≈%s, extrapolated from %s measured with %s streams open%s", mib(uint64(est)), mib(h.Mem.Peak), fmtInt(int64(h.Live)), caveat)
	return verdict(est < 1<<30, what, got, "< 1 GiB", overBy(est, 1<<30))
}

func holdOf(r *Result, n int) (HoldResult, bool) {
	if r == nil {
		return HoldResult{}, false
	}
	h, ok := r.Holds[n]
	return h, ok && h.Mem.Peak > 0
}

func verdict(pass bool, what, got, target, over string) string {
	if pass {
		return fmt.Sprintf("**PASS** %s: %s (target %s)", what, got, target)
	}
	return fmt.Sprintf("**FAIL** %s: %s (target %s; %s)", what, got, target, over)
}

func notMeasured(what string) string {
	return fmt.Sprintf("**not measured** %s", what)
}

// overBy says by how much v exceeds limit, as a percentage of the limit.
func overBy(v, limit float64) string {
	return fmt.Sprintf("over by %.0f%%", (v/limit-1)*100)
}
