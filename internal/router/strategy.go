package router

import "math"

// arrange puts ts in the order strategy says, in place. It does not
// allocate for up to stackTargets targets.
func (r *Router) arrange(ts []Target, strategy string, stream bool) {
	if len(ts) < 2 {
		return
	}
	switch strategy {
	case StrategyFallback:
		// config order
	case StrategyLeastLatency:
		r.leastLatency(ts, stream)
	case StrategyLeastBusy:
		// Rotate by a random offset first, so that ties (all idle) are
		// broken at random rather than always in config order.
		rotate(ts, r.intN(len(ts)))
		sortBy(ts, func(t *Target) float64 { return float64(t.h.InFlight()) })
	case StrategyCost:
		sortBy(ts, func(t *Target) float64 { return float64(t.price) })
	default:
		r.weighted(ts)
	}
}

// weighted orders ts by weight without replacement: each position is
// drawn by weight among the targets not yet placed. Zero-weight targets
// never lead but stay, in config order, as last-resort fallbacks.
func (r *Router) weighted(ts []Target) {
	for pos := 0; pos < len(ts)-1; pos++ {
		total := 0
		for i := pos; i < len(ts); i++ {
			total += ts[i].Weight
		}
		if total <= 0 {
			return
		}
		n := r.intN(total)
		i := pos
		for ; i < len(ts)-1; i++ {
			if n -= ts[i].Weight; n < 0 {
				break
			}
		}
		moveTo(ts, i, pos)
	}
}

// leastLatency sorts by the decaying average (unmeasured targets first, so
// each gets measured) and then, with probability Explore, moves a random
// other target to the front, so a recovered target is noticed.
func (r *Router) leastLatency(ts []Target, stream bool) {
	if stream {
		sortBy(ts, func(t *Target) float64 { return t.h.score(true) })
	} else {
		sortBy(ts, func(t *Target) float64 { return t.h.score(false) })
	}
	if x := r.health.cfg.Load().Explore; x > 0 && r.float64() < x {
		moveTo(ts, 1+r.intN(len(ts)-1), 0)
	}
}

// stackTargets is how many targets sortBy sorts without allocating.
const stackTargets = 16

// sortBy sorts ts by key, ascending and stable. Keys are read once, so a
// key that changes meanwhile (an in-flight count) cannot upset the sort.
// Insertion sort: virtual models have a handful of targets.
func sortBy(ts []Target, key func(*Target) float64) {
	var stack [stackTargets]float64
	keys := stack[:0]
	if len(ts) > stackTargets {
		keys = make([]float64, 0, len(ts))
	}
	for i := range ts {
		k := key(&ts[i])
		if math.IsNaN(k) {
			k = math.Inf(1)
		}
		keys = append(keys, k)
	}
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// moveTo moves ts[from] to position to (to <= from), shifting the targets
// between one place back.
func moveTo(ts []Target, from, to int) {
	if from == to {
		return
	}
	t := ts[from]
	copy(ts[to+1:from+1], ts[to:from])
	ts[to] = t
}

// rotate moves the first k targets to the end.
func rotate(ts []Target, k int) {
	for ; k > 0; k-- {
		moveTo(ts, len(ts)-1, 0)
	}
}
