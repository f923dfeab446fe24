package injection

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"slices"
)

// ReadExamples reads JSON lines of {"text": …, "label": 0|1}; other fields
// are ignored, blank lines skipped, and a missing label is 0.
func ReadExamples(r io.Reader) ([]Example, error) {
	var out []Example
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var ex Example
		if err := json.Unmarshal(b, &ex); err != nil {
			return nil, fmt.Errorf("injection: line %d: %w", line, err)
		}
		if ex.Label != 0 && ex.Label != 1 {
			return nil, fmt.Errorf("injection: line %d: label %d is not 0 or 1", line, ex.Label)
		}
		out = append(out, ex)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("injection: reading examples: %w", err)
	}
	return out, nil
}

// textHash is the key that orders examples for splitting and folding.
func textHash(s string) uint64 {
	h := fnv.New64a()
	io.WriteString(h, s)
	return h.Sum64()
}

// stratifiedRanks returns, for every example, its rank among the examples
// of the same label when those are ordered by textHash (ties by text).
func stratifiedRanks(examples []Example) (rank []int, perLabel [2]int) {
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ea, eb := examples[a], examples[b]
		return cmp.Or(cmp.Compare(ea.Label, eb.Label), cmp.Compare(textHash(ea.Text), textHash(eb.Text)), cmp.Compare(ea.Text, eb.Text))
	})
	rank = make([]int, len(examples))
	for _, i := range order {
		l := min(max(examples[i].Label, 0), 1)
		rank[i] = perLabel[l]
		perLabel[l]++
	}
	return rank, perLabel
}

// Split divides examples deterministically into a training part and a
// held-out part of about frac of each label: within each label the
// examples are ordered by a hash of their text and the first
// round(frac·n) are held out. Both parts keep the input order.
func Split(examples []Example, frac float64) (train, heldOut []Example) {
	rank, per := stratifiedRanks(examples)
	for i, ex := range examples {
		l := min(max(ex.Label, 0), 1)
		if rank[i] < int(math.Round(frac*float64(per[l]))) {
			heldOut = append(heldOut, ex)
		} else {
			train = append(train, ex)
		}
	}
	return train, heldOut
}

// Folds assigns each example to one of k stratified folds (by its hash
// rank within its label, modulo k).
func Folds(examples []Example, k int) []int {
	rank, _ := stratifiedRanks(examples)
	for i := range rank {
		rank[i] %= k
	}
	return rank
}

// CrossValidate trains k models, each without one fold (see Folds), and
// returns every example's score from the model that did not see it.
func CrossValidate(examples []Example, k int, cfg TrainConfig) ([]float64, error) {
	if k < 2 {
		return nil, fmt.Errorf("injection: cross-validate: k = %d", k)
	}
	fold := Folds(examples, k)
	scores := make([]float64, len(examples))
	for f := range k {
		var train []Example
		for i, ex := range examples {
			if fold[i] != f {
				train = append(train, ex)
			}
		}
		m, err := Train(train, cfg)
		if err != nil {
			return nil, fmt.Errorf("injection: fold %d: %w", f, err)
		}
		for i, ex := range examples {
			if fold[i] == f {
				scores[i] = m.Score(ex.Text)
			}
		}
	}
	return scores, nil
}

// Confusion counts a detector's outcomes at one threshold.
type Confusion struct{ TP, FP, TN, FN int }

// Evaluate counts outcomes: score >= threshold flags an example.
func Evaluate(scores []float64, examples []Example, threshold float64) Confusion {
	var c Confusion
	for i, ex := range examples {
		flagged := scores[i] >= threshold
		switch {
		case flagged && ex.Label == 1:
			c.TP++
		case flagged:
			c.FP++
		case ex.Label == 1:
			c.FN++
		default:
			c.TN++
		}
	}
	return c
}

// Precision is TP/(TP+FP), 1 when nothing is flagged.
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP, 1) }

// Recall is TP/(TP+FN), 1 when there are no positives.
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN, 1) }

// FPR is FP/(FP+TN), 0 when there are no negatives.
func (c Confusion) FPR() float64 { return ratio(c.FP, c.FP+c.TN, 0) }

// F1 is the harmonic mean of precision and recall.
func (c Confusion) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// String formats the counts and rates.
func (c Confusion) String() string {
	return fmt.Sprintf("P=%.3f R=%.3f F1=%.3f (TP %d FP %d TN %d FN %d)", c.Precision(), c.Recall(), c.F1(), c.TP, c.FP, c.TN, c.FN)
}

func ratio(a, b int, empty float64) float64 {
	if b == 0 {
		return empty
	}
	return float64(a) / float64(b)
}

// ChooseThreshold picks a flagging threshold from cross-validated scores
// of the training set: on the grid 0.05, 0.06, …, 0.95 it keeps the
// thresholds from which on (so that a slightly higher threshold cannot
// break them) the precision on all of examples stays at least
// minPrecision and the false-positive rate on the benign prompts (their
// scores in benign) stays under maxFPR, and returns the one of those
// with the best F1, the higher threshold on a tie. ok is false if no
// threshold qualifies.
func ChooseThreshold(scores []float64, examples []Example, benign []float64, minPrecision, maxFPR float64) (threshold float64, ok bool) {
	bestF1 := -1.0
	for c := 95; c >= 5; c-- {
		t := float64(c) / 100
		conf := Evaluate(scores, examples, t)
		if conf.Precision() < minPrecision || falsePositiveRate(benign, t) >= maxFPR {
			break
		}
		if f := conf.F1(); f > bestF1 {
			bestF1, threshold, ok = f, t, true
		}
	}
	return threshold, ok
}

// falsePositiveRate is the share of the benign scores at or above t.
func falsePositiveRate(benign []float64, t float64) float64 {
	n := 0
	for _, s := range benign {
		if s >= t {
			n++
		}
	}
	return ratio(n, len(benign), 0)
}
