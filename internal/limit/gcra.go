package limit

import (
	"math/bits"
	"time"
)

// GCRA in integer ticks (1ns in memory, 1µs in Redis), exact for any rate:
// a bucket's state is its theoretical arrival time tat, the time at which it
// is full again, kept as whole ticks plus frac/limit of a tick. Taking n
// units moves tat forward by n·period/limit ticks, split into quotient and
// remainder so that limit takes of one unit cost exactly one period. A take
// is admitted when the new tat is at most the capacity burst·period/limit
// ticks ahead of now (kept, like tat, as capQ ticks plus capR/limit), which
// is what makes the bucket hold burst units; burst = limit gives a capacity
// of exactly one period. Redis runs the same steps in Lua (redis_scripts.go);
// keep the two in step.

// cell is one bucket's state; the zero tat means "full at tick 0".
type cell struct {
	tat  int64 // ticks; the bucket is full from tat + frac/limit on
	frac int64 // in [0, limit)
}

// gcra holds a rate in ticks.
type gcra struct {
	period  int64 // ≥ 1
	limit   int64 // ≥ 1
	maxDebt int64 // cap on tat − now, so debt cannot overflow
	capQ    int64 // capacity burst·period/limit: whole ticks
	capR    int64 // and remainder in [0, limit)
}

// newGCRA returns rate in ticks of which period is the rate's Period; rate
// must have passed checkRate.
func newGCRA(period int64, rate Rate, maxDebt int64) gcra {
	g := gcra{period: period, limit: rate.Limit, maxDebt: maxDebt}
	g.capQ, g.capR = g.span(uint64(rate.burst()))
	return g
}

// span returns n·period/limit ticks as quotient and remainder (of limit),
// saturating at maxDebt ticks.
func (g gcra) span(n uint64) (q, r int64) {
	hi, lo := bits.Mul64(n, uint64(g.period))
	if hi >= uint64(g.limit) {
		return g.maxDebt, 0
	}
	uq, ur := bits.Div64(hi, lo, uint64(g.limit))
	if uq > uint64(g.maxDebt) {
		return g.maxDebt, 0
	}
	return int64(uq), int64(ur)
}

// norm brings a stored cell up to now: a bucket that filled up in the past
// is full now; a frac that does not fit limit (the key's rate changed) is
// rounded up to the next tick.
func (g gcra) norm(c cell, now int64) cell {
	if c.tat < now {
		return cell{tat: now}
	}
	if c.frac < 0 || c.frac >= g.limit {
		return cell{tat: c.tat + 1}
	}
	return c
}

// add moves a normalised cell forward by q ticks and r/limit, capped at
// maxDebt ahead of now.
func (g gcra) add(c cell, q, r, now int64) cell {
	c.tat += q
	c.frac += r
	if c.frac >= g.limit {
		c.tat++
		c.frac -= g.limit
	}
	if c.tat-now > g.maxDebt {
		return cell{tat: now + g.maxDebt}
	}
	return c
}

// sub moves a normalised cell back by q ticks and r/limit, never before now
// (a bucket cannot be more than full).
func (g gcra) sub(c cell, q, r, now int64) cell {
	c.tat -= q
	c.frac -= r
	if c.frac < 0 {
		c.tat--
		c.frac += g.limit
	}
	if c.tat < now {
		return cell{tat: now}
	}
	return c
}

// fits reports whether a cell is at most the capacity ahead of now.
func (g gcra) fits(c cell, now int64) bool {
	d := c.tat - now
	return d < g.capQ || (d == g.capQ && c.frac <= g.capR)
}

// decision describes state (the cell after an admitted take, or the
// unchanged cell after a refusal) as seen at now. q and r are the refused
// take's span; tick is the length of one tick.
func (g gcra) decision(allowed, tooBig bool, state cell, now, q, r int64, tick time.Duration) Decision {
	d := state.tat - now
	dec := Decision{Allowed: allowed, Limit: g.limit}
	reset := d
	if state.frac > 0 {
		reset++
	}
	dec.ResetAfter = time.Duration(reset) * tick
	if d <= g.capQ {
		// Remaining = floor(((capQ − d)·limit + capR − frac) / period), at
		// most burst since capQ·limit + capR = burst·period (or less when
		// saturated), so the quotient fits whenever the numerator is ≥ 0.
		hi, lo := bits.Mul64(uint64(g.capQ-d), uint64(g.limit))
		lo, carry := bits.Add64(lo, uint64(g.capR), 0)
		hi += carry
		lo, borrow := bits.Sub64(lo, uint64(state.frac), 0)
		hi -= borrow
		if hi < uint64(g.period) { // hi wraps past this when the numerator < 0
			n, _ := bits.Div64(hi, lo, uint64(g.period))
			dec.Remaining = int64(n)
		}
	}
	switch {
	case allowed:
	case tooBig:
		dec.RetryAfter = dec.ResetAfter
	default:
		// Wait w ticks until (d + q − w − capQ)·limit + frac + r − capR ≤ 0;
		// frac + r − capR is in (−limit, 2·limit).
		w := d + q - g.capQ
		switch f := uint64(state.frac) + uint64(r); {
		case f > uint64(g.capR)+uint64(g.limit):
			w += 2
		case f > uint64(g.capR):
			w++
		}
		dec.RetryAfter = time.Duration(max(w, 0)) * tick
	}
	return dec
}
