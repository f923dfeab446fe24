package harness

import (
	"context"
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The measurements, one per phase. Each runs against a fresh Stand and
// records into res: figures, and problems (errors, failed requests) as
// seen. An error return means the measurement could not be taken at all.
// throughput and latency run once per round and add to what earlier rounds
// measured.

// rateAccum gathers one system's runs at one rate over the rounds.
type rateAccum struct {
	m   vegeta.Metrics
	d   time.Duration // asked for, in all
	cpu time.Duration // of the process under test, in all
}

func (r *runner) throughput(ctx context.Context, st *Stand, res *Result) error {
	url := st.BaseURL + ChatPath
	if _, err := RunWrk(ctx, r.env.Wrk, r.env.Dir, url, r.plan.WrkConns, r.plan.Warmup); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	cpu0, err := CPUTime(st.SUT.PID())
	if err != nil {
		return err
	}
	w, err := RunWrk(ctx, r.env.Wrk, r.env.Dir, url, r.plan.WrkConns, r.plan.ThroughputFor/time.Duration(r.plan.Rounds))
	if err != nil {
		return err
	}
	cpu1, err := CPUTime(st.SUT.PID())
	if err != nil {
		return err
	}
	r.logf("[throughput] %s: %.0f req/s, process under test busy %.0f%% of a CPU", res.System.Name, w.RPS(), (cpu1-cpu0).Seconds()/w.Duration.Seconds()*100)
	if w.Errors() > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("throughput: wrk saw %d errors in %d requests: connect %d, read %d, write %d, timeout %d, non-2xx %d",
			w.Errors(), w.Requests, w.Connect, w.Read, w.Write, w.Timeout, w.Non2xx))
	}
	if res.Throughput == nil {
		res.Throughput = &WrkResult{}
	}
	t := res.Throughput
	busy := res.Busy*t.Duration.Seconds() + (cpu1 - cpu0).Seconds()
	t.Requests, t.Duration = t.Requests+w.Requests, t.Duration+w.Duration
	t.Connect, t.Read, t.Write, t.Timeout, t.Non2xx = t.Connect+w.Connect, t.Read+w.Read, t.Write+w.Write, t.Timeout+w.Timeout, t.Non2xx+w.Non2xx
	res.Busy = busy / t.Duration.Seconds()
	return nil
}

func (r *runner) latency(ctx context.Context, st *Stand, res *Result) error {
	url := st.BaseURL + ChatPath
	var warm vegeta.Metrics
	if err := RunRate(ctx, url, r.plan.Rates[0], r.plan.Warmup, &warm); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	d := r.plan.RateFor / time.Duration(r.plan.Rounds)
	for _, rate := range r.plan.Rates {
		acc := r.rateAccum(res, rate)
		before := acc.m.Requests
		cpu0, err := CPUTime(st.SUT.PID())
		if err != nil {
			return err
		}
		if err := RunRate(ctx, url, rate, d, &acc.m); err != nil {
			return err
		}
		cpu1, err := CPUTime(st.SUT.PID())
		if err != nil {
			return err
		}
		acc.d += d
		acc.cpu += cpu1 - cpu0
		rr := SummariseRate(&acc.m, rate, acc.d, acc.cpu)
		res.Rates[rate] = rr
		r.logf("[latency] %s @%d rps: %d requests, CPU %v; so far p50 %v p99 %v", res.System.Name, rate, acc.m.Requests-before, cpu1-cpu0, rr.P50, rr.P99)
	}
	return nil
}

// rateAccum returns the accumulator of res's runs at rate.
func (r *runner) rateAccum(res *Result, rate int) *rateAccum {
	key := fmt.Sprintf("%s@%d", res.System.Name, rate)
	if r.rates == nil {
		r.rates = map[string]*rateAccum{}
	}
	if r.rates[key] == nil {
		r.rates[key] = &rateAccum{}
	}
	return r.rates[key]
}

// rateProblems records, once every round has run, the failures of each
// system's constant-rate runs.
func (r *runner) rateProblems(results []*Result) {
	for _, res := range results {
		for _, rate := range r.plan.Rates {
			if rr, ok := res.Rates[rate]; ok && rr.Failed() {
				res.Problems = append(res.Problems, fmt.Sprintf("latency @%d rps: %s", rate, rr.Describe()))
			}
		}
	}
}

func (r *runner) ttft(ctx context.Context, st *Stand, res *Result) error {
	url := st.BaseURL + ChatPath
	RunTTFT(ctx, url, r.plan.TTFTConc, r.plan.TTFTConc) // warm-up: open the connections
	t := RunTTFT(ctx, url, r.plan.TTFTStreams, r.plan.TTFTConc)
	res.TTFT = &t
	r.logf("[ttft] %s: p50 %v p99 %v over %d streams", res.System.Name, t.P50, t.P99, t.Streams)
	if t.Failures > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("ttft: %d of %d streams failed; first: %s", t.Failures, t.Failures+t.Streams, t.First))
	}
	return nil
}

func (r *runner) hold(ctx context.Context, st *Stand, res *Result, counts []int) error {
	hs, err := HoldStreams(ctx, st.BaseURL+ChatPath, counts, st.SUT.PID(), r.plan.HoldTimeout)
	if err != nil {
		return err
	}
	for _, h := range hs {
		res.Holds[h.Want] = h
		r.logf("[streams] %s: %d of %d live, peak RSS %s, after %v", res.System.Name, h.Live, h.Want, mib(h.Mem.Peak), h.Ramp.Round(time.Millisecond))
		if h.Failures > 0 || h.Live < h.Want {
			res.Problems = append(res.Problems, fmt.Sprintf("streams-%d: %d of %d streams live when sampled, %d failed; first: %s", h.Want, h.Live, h.Want, h.Failures, h.First))
		}
	}
	return nil
}
