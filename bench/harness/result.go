package harness

// Result is everything measured for one system in one run. A nil or
// missing entry means the figure was not measured; Problems says why.
type Result struct {
	System System

	// Throughput is the wrk run; Busy the share of one CPU the process
	// under test used during it.
	Throughput *WrkResult
	Busy       float64

	// Rates holds the vegeta runs by rate, with the CPU time each cost.
	Rates map[int]RateResult

	TTFT *TTFTResult
	// Holds holds the held-streams runs by stream count.
	Holds map[int]HoldResult

	// Problems are failures and errors seen, one line each, in run order.
	Problems []string
}

func newResult(s System) *Result {
	return &Result{System: s, Rates: map[int]RateResult{}, Holds: map[int]HoldResult{}}
}
