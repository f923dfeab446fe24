package usage

import (
	"math"
	"math/bits"

	"github.com/sluicehq/sluice/internal/llm"
)

// Price is what one model costs. Token rates are in micro-dollars per
// million tokens (so "$2.50 per 1M tokens" is Input: 2_500_000), PerRequest
// in micro-dollars per call. A zero CachedInput or CacheWrite means those
// tokens cost the Input rate (no discount, no surcharge); a zero Input or
// Output means free. Negative fields count as zero.
type Price struct {
	Input       int64 // uncached prompt tokens
	Output      int64 // completion tokens, reasoning included
	CachedInput int64 // prompt tokens read from the provider's cache
	CacheWrite  int64 // prompt tokens written to the provider's cache
	PerRequest  int64 // flat fee per call, in micro-dollars
}

// Cost returns what u costs at p, in micro-dollars:
//
//	uncached = InputTokens − CachedInputTokens − CacheWriteTokens (never < 0)
//	cost = (uncached×Input + cached×CachedInput + written×CacheWrite
//	        + OutputTokens×Output) / 1e6 + PerRequest
//
// with CachedInput and CacheWrite falling back to Input when zero. The
// division rounds half up, once per call, so summing the costs of many calls
// can differ from the cost of their summed usage by under a micro-dollar per
// call. Arithmetic is exact 128-bit integer math; a result beyond int64
// saturates at math.MaxInt64. Negative token counts count as zero. Audio
// tokens are charged at the text rates (the catalog has no audio prices).
func Cost(p Price, u llm.Usage) int64 {
	in, cached, written, out := nonNeg(u.InputTokens), nonNeg(u.CachedInputTokens),
		nonNeg(u.CacheWriteTokens), nonNeg(u.OutputTokens)
	uncached := uint64(0)
	if in > cached+written {
		uncached = in - cached - written
	}
	cachedRate, writeRate := p.CachedInput, p.CacheWrite
	if cachedRate == 0 {
		cachedRate = p.Input
	}
	if writeRate == 0 {
		writeRate = p.Input
	}
	var acc u128
	acc.addMul(uncached, rate(p.Input))
	acc.addMul(cached, rate(cachedRate))
	acc.addMul(written, rate(writeRate))
	acc.addMul(out, rate(p.Output))
	q, ok := acc.divRound(microsPerDollar)
	if !ok || q > math.MaxInt64 {
		return math.MaxInt64
	}
	total := int64(q)
	if fee := p.PerRequest; fee > 0 {
		if total > math.MaxInt64-fee {
			return math.MaxInt64
		}
		total += fee
	}
	return total
}

func nonNeg(n int) uint64 {
	if n < 0 {
		return 0
	}
	return uint64(n)
}

func rate(r int64) uint64 {
	if r < 0 {
		return 0
	}
	return uint64(r)
}

// u128 is an unsigned 128-bit accumulator; overflow of 128 bits sets sat.
type u128 struct {
	hi, lo uint64
	sat    bool
}

// addMul adds a×b.
func (x *u128) addMul(a, b uint64) {
	hi, lo := bits.Mul64(a, b)
	var carry uint64
	x.lo, carry = bits.Add64(x.lo, lo, 0)
	x.hi, carry = bits.Add64(x.hi, hi, carry)
	if carry != 0 {
		x.sat = true
	}
}

// divRound returns x/d rounded half up; ok is false when the quotient does
// not fit in 64 bits. d must be positive.
func (x *u128) divRound(d uint64) (q uint64, ok bool) {
	if x.sat || x.hi >= d {
		return 0, false
	}
	q, r := bits.Div64(x.hi, x.lo, d)
	if r >= d-r { // r ≥ d/2 without overflow: round half up
		if q == math.MaxUint64 {
			return 0, false
		}
		q++
	}
	return q, true
}

// mulDivRound returns a×b/d rounded half up, saturating at MaxUint64. d must
// be positive.
func mulDivRound(a, b, d uint64) uint64 {
	var x u128
	x.addMul(a, b)
	q, ok := x.divRound(d)
	if !ok {
		return math.MaxUint64
	}
	return q
}
