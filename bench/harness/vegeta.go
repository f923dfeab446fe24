package harness

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxWorkers bounds vegeta's requests in flight (and so its connections).
const maxWorkers = 1024

// RateResult is one constant-rate vegeta run.
type RateResult struct {
	Rate     int           // requests per second asked for
	Duration time.Duration // how long the rate was asked for
	Requests int           // requests sent
	P50, P99 time.Duration // latency percentiles from vegeta's metrics
	Success  float64       // share of 2xx/3xx answers, 0..1
	Codes    map[string]int
	Errors   []string // distinct errors, as vegeta reports them
	// CPU is the CPU time the process under test used during the runs;
	// 0 when not measured.
	CPU time.Duration
}

// CPU10k is the process under test's CPU time per 10,000 requests.
func (r RateResult) CPU10k() time.Duration { return PerTenK(r.CPU, r.Requests) }

// Expected is how many requests the rate and duration ask for.
func (r RateResult) Expected() int { return int(float64(r.Rate) * r.Duration.Seconds()) }

// Failed reports whether any request failed, or the system fell so far
// behind that fewer than 95% of the expected requests could be sent.
func (r RateResult) Failed() bool {
	return r.Requests > 0 && (r.Success < 1 || float64(r.Requests) < 0.95*float64(r.Expected()))
}

// Describe summarises the failures of r for the report.
func (r RateResult) Describe() string {
	codes := slices.Sorted(maps.Keys(r.Codes))
	s := fmt.Sprintf("%s of %s requests sent (%d in flight at most), %.2f%% succeeded; status codes:",
		fmtInt(int64(r.Requests)), fmtInt(int64(r.Expected())), maxWorkers, r.Success*100)
	for _, c := range codes {
		s += fmt.Sprintf(" %s×%d", c, r.Codes[c])
	}
	if len(r.Errors) > 0 {
		s += fmt.Sprintf("; errors: %.300q", r.Errors)
	}
	return s
}

// RunRate sends ChatBody to url at a constant rate for d with vegeta (an
// open model: requests are sent on schedule whether or not earlier ones
// have been answered) and adds every result to m, so that several runs can
// make one set of figures. Connections are kept alive.
func RunRate(ctx context.Context, url string, rate int, d time.Duration, m *vegeta.Metrics) error {
	atk := vegeta.NewAttacker(
		vegeta.KeepAlive(true),
		vegeta.HTTP2(false),
		vegeta.Timeout(10*time.Second),
		vegeta.Workers(64),
		// Enough in flight for 5,000 rps at 200 ms; without a cap, one stall
		// makes vegeta open thousands of connections at once and the run
		// measures SYN retransmits instead of the system.
		vegeta.MaxWorkers(maxWorkers),
		vegeta.Connections(4096),
		// Bodies are drained, not kept: the figures need the status and
		// the time, and the generator shares its CPU with the mock.
		vegeta.MaxBody(0),
		vegeta.Redirects(vegeta.NoFollow),
	)
	target := vegeta.NewStaticTargeter(vegeta.Target{Method: "POST", URL: url, Body: ChatBody, Header: Headers()})
	results := atk.Attack(target, vegeta.Rate{Freq: rate, Per: time.Second}, d, "")
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	for res := range results {
		m.Add(res)
	}
	return ctx.Err()
}

// SummariseRate turns the metrics of runs at rate, lasting d in all and
// costing the process under test cpu, into a RateResult. m may receive
// more results afterwards.
func SummariseRate(m *vegeta.Metrics, rate int, d, cpu time.Duration) RateResult {
	m.Close()
	return RateResult{
		Rate: rate, Duration: d, Requests: int(m.Requests), P50: m.Latencies.P50, P99: m.Latencies.P99,
		Success: m.Success, Codes: maps.Clone(m.StatusCodes), Errors: slices.Clone(m.Errors), CPU: cpu,
	}
}
