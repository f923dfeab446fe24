package harness

import (
	"fmt"
	"time"
)

// Plan is how long and how hard each phase runs.
type Plan struct {
	Quick bool
	// Warmup runs before every measured load run and is discarded.
	Warmup time.Duration
	// Max throughput: wrk with one thread and WrkConns connections for
	// ThroughputFor, against the zero-latency mock.
	ThroughputFor time.Duration
	WrkConns      int
	// Added latency: vegeta at each of Rates for RateFor, against the
	// zero-latency mock. The same runs give CPU per 10k requests.
	Rates   []int
	RateFor time.Duration
	// Rounds splits the throughput and latency runs into that many rounds
	// taken in turn over the systems, each on fresh processes, so that
	// drift on the machine and the luck of one process start spread over
	// every system alike. ThroughputFor and RateFor are the totals.
	Rounds int
	// TTFT: TTFTStreams streams from TTFTConc concurrent clients against
	// the realistic mock.
	TTFTStreams, TTFTConc int
	// Held streams: for each of Holds, that many concurrent streams
	// against the long-stream mock; each waits at most HoldTimeout for
	// every first data line.
	Holds       []int
	HoldTimeout time.Duration
}

// PlanFor returns the full plan (under 10 minutes for five systems on two
// cores) or the quick one (under 3 minutes: same table, shorter runs).
func PlanFor(quick bool) Plan {
	if quick {
		return Plan{
			Quick: true, Warmup: 500 * time.Millisecond, Rounds: 1,
			ThroughputFor: 3 * time.Second, WrkConns: 64,
			Rates: []int{1000, 5000}, RateFor: 2 * time.Second,
			TTFTStreams: 100, TTFTConc: 50,
			Holds: []int{1000, 10000}, HoldTimeout: 30 * time.Second,
		}
	}
	return Plan{
		Warmup: 2 * time.Second, Rounds: 3,
		ThroughputFor: 12 * time.Second, WrkConns: 64,
		Rates: []int{1000, 5000}, RateFor: 15 * time.Second,
		TTFTStreams: 1000, TTFTConc: 100,
		Holds: []int{1000, 10000}, HoldTimeout: 60 * time.Second,
	}
}

// fdReserve is the descriptors a process needs besides its streams'
// sockets: listeners, logs, epoll, idle pool connections.
const fdReserve = 200

// NoFileNeeded is the RLIMIT_NOFILE the largest hold needs: a proxy holds
// two sockets per stream (client and upstream), the harness and the mock one.
func (p Plan) NoFileNeeded() uint64 {
	most := 0
	for _, n := range p.Holds {
		most = max(most, n)
	}
	return uint64(2*most + fdReserve)
}

// FitHolds lowers each stream count that a proxy could not hold under the
// descriptor limit nofile to the largest multiple of 100 that fits, so every
// system is measured at the same count. It returns the counts and, when it
// lowered one, a note saying so.
func FitHolds(holds []int, nofile uint64) ([]int, string) {
	fit := int(max(0, int64(nofile)-fdReserve)/2) / 100 * 100
	out := make([]int, len(holds))
	note := ""
	for i, n := range holds {
		out[i] = n
		if n > fit {
			out[i] = fit
			note = fmt.Sprintf("RLIMIT_NOFILE is %d here and this process may not raise it, and a proxy needs two descriptors per stream: "+
				"%s streams were held instead of %s, the most that fit; the 10,000-stream target is extrapolated from them", nofile, fmtInt(int64(fit)), fmtInt(int64(n)))
		}
	}
	return out, note
}
