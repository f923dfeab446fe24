package injection

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// RuleFloor is the least score of a text on which a rule heuristic fires
// (see ruleMask): "ignore all previous instructions", "reveal your system
// prompt", "<|im_start|>system", persona plus "no restrictions", …
const RuleFloor = 0.95

// Model is a trained detector: logistic regression over hashed features
// and heuristic features. The zero Model is not usable; get one from
// Train or ParseModel. A Model is immutable and safe for concurrent use.
type Model struct {
	bits   uint8 // log2 of the bucket count
	mask   uint32
	window int // tokens per scoring window; longer text is scored in windows
	bias   float32
	heur   [numHeur]float32
	w      []float32 // len 1<<bits
}

// Score returns the probability (0..1) that text is a prompt-injection or
// jailbreak attempt. Apart from the pooled scratch it does not allocate.
func (m *Model) Score(text string) float64 {
	s := getScratch()
	p := m.score(text, s)
	putScratch(s)
	return p
}

// score is Score with caller-provided scratch.
func (m *Model) score(text string, s *scratch) float64 {
	m.prepare(text, s, false)
	w := m.bestWindow(s)
	p := sigmoid(w.z)
	if w.rules != 0 && p < RuleFloor {
		p = RuleFloor
	}
	return p
}

// prepare tokenizes and featurizes text into s and returns the heuristics
// that fire on the text as a whole.
func (m *Model) prepare(text string, s *scratch, withNames bool) uint32 {
	tokenize(text, s)
	classify(s)
	featurize(s, m.mask, withNames)
	return detect(s, text)
}

// heurSum is the sum of the weights of the fired heuristics.
func (m *Model) heurSum(fired uint32) float64 {
	var sum float64
	for h := range numHeur {
		if fired&(1<<h) != 0 {
			sum += float64(m.heur[h])
		}
	}
	return sum
}

// windowScore is what bestWindow finds.
type windowScore struct {
	z      float64 // the text's logit: the best window's, calibrated
	lo, hi int     // the tokens of the best window
	fired  uint32  // the heuristics that fire in the best window
	rules  uint32  // the rule heuristics that fire in any window
	n      int     // how many windows were scored
}

// bestWindow scores the windows of the prepared text in s and returns the
// best. A window's logit is the bias, plus the weights of the heuristics
// that fire in it, plus the sum of the weights of its feature occurrences
// times norm of their count, as in training.
func (m *Model) bestWindow(s *scratch) windowScore {
	n := len(s.toks)
	if n == 0 {
		return windowScore{z: float64(m.bias)}
	}
	s.sum, s.cnt = append(s.sum[:0], 0), append(s.cnt[:0], 0)
	for i := range n {
		var v float64
		for _, f := range s.feats[s.tokFeat[i]:s.tokFeat[i+1]] {
			v += float64(m.w[f])
		}
		c := s.tokFeat[i+1] - s.tokFeat[i]
		if i > 0 {
			v += float64(m.w[s.bigrams[i]])
			c++
		}
		s.sum, s.cnt = append(s.sum, s.sum[i]+v), append(s.cnt, s.cnt[i]+c)
	}
	width := min(n, m.window)
	best := windowScore{z: math.Inf(-1)}
	ev := s.events
	for a := 0; ; a += max(width/2, 1) {
		a = min(a, n-width)
		v, c := s.sum[a+width]-s.sum[a], s.cnt[a+width]-s.cnt[a]
		if a > 0 { // the window's first bigram reaches outside it
			v -= float64(m.w[s.bigrams[a]])
			c--
		}
		for len(ev) > 0 && int(ev[0].pos) < a {
			ev = ev[1:]
		}
		fired := firedIn(ev, a, a+width)
		best.rules |= fired & ruleMask
		best.n++
		if z := float64(m.bias) + m.heurSum(fired) + v*norm(int(c)); z > best.z {
			best.z, best.lo, best.hi, best.fired = z, a, a+width, fired
		}
		if a+width >= n {
			best.z -= windowMargin(best.n)
			return best
		}
	}
}

// sigmoid is the logistic function.
func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// Explain returns up to n of the features that contribute most to the
// score of text, largest magnitude first, as "+0.412 word:ignore",
// "+1.800 heur:override (rule)". For tests and debugging only: the result
// quotes the text, so it must not be logged.
func (m *Model) Explain(text string, n int) []string {
	s := new(scratch)
	m.prepare(text, s, true)
	w := m.bestWindow(s)
	lo, hi, fired := w.lo, w.hi, w.fired
	type contrib struct {
		name string
		v    float64
	}
	sums := map[string]float64{}
	count := 0
	for i := lo; i < hi; i++ {
		for k := s.tokFeat[i]; k < s.tokFeat[i+1]; k++ {
			sums[s.names[k]] += float64(m.w[s.feats[k]])
			count++
		}
		if i > lo {
			sums[s.bnames[i]] += float64(m.w[s.bigrams[i]])
			count++
		}
	}
	var out []contrib
	for name, v := range sums {
		out = append(out, contrib{name, v * norm(count)})
	}
	for h := range numHeur {
		if fired&(1<<h) != 0 {
			name := "heur:" + heurNames[h]
			if ruleMask&(1<<h) != 0 {
				name += " (rule)"
			}
			out = append(out, contrib{name, float64(m.heur[h])})
		}
	}
	out = append(out, contrib{"bias", float64(m.bias)})
	slices.SortFunc(out, func(a, b contrib) int {
		return cmp.Or(cmp.Compare(math.Abs(b.v), math.Abs(a.v)), cmp.Compare(a.name, b.name))
	})
	out = out[:min(max(n, 0), len(out))]
	res := make([]string, 0, len(out))
	for _, c := range out {
		res = append(res, strconv.FormatFloat(c.v, 'f', 3, 64)+" "+c.name)
		if c.v >= 0 {
			res[len(res)-1] = "+" + res[len(res)-1]
		}
	}
	return res
}

// String describes the model's shape, not its weights.
func (m *Model) String() string {
	nz := 0
	for _, w := range m.w {
		if w != 0 {
			nz++
		}
	}
	return fmt.Sprintf("injection.Model{buckets: 2^%d, window: %d, nonzero: %d}", m.bits, m.window, nz)
}
