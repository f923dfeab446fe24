package injection

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Example is one labelled text: Label 1 is an injection or jailbreak
// attempt, 0 is benign.
type Example struct {
	Text  string `json:"text"`
	Label int    `json:"label"`
}

// TrainConfig holds the training hyper-parameters. Zero fields are not
// filled in; start from DefaultTrainConfig.
type TrainConfig struct {
	// Bits is log2 of the number of hash buckets (8..24).
	Bits uint8
	// Window is the scoring window in tokens.
	Window int
	// Lambda is the L2 penalty on all weights but the bias.
	Lambda float64
	// Iterations of full-batch gradient descent with momentum.
	Iterations int
	// Rate is the gradient-descent step size; Momentum its momentum.
	Rate, Momentum float64
	// Prune drops bucket weights smaller than this in magnitude from the
	// model, to keep the weight file small.
	Prune float64
}

// DefaultTrainConfig returns the configuration that produced the embedded
// weights (chosen by 5-fold cross-validation on the training split).
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Bits: 18, Window: 64, Lambda: 1e-4, Iterations: 1500, Rate: 1, Momentum: 0.9, Prune: 1e-3}
}

// sparseRow is one example as training sees it: compact feature indices
// with their values, and the fired heuristics.
type sparseRow struct {
	idx   []int32
	val   []float64
	heur  uint32
	label float64
}

// Train fits a model to examples. It is deterministic: the same examples
// in the same order and the same configuration give the same weights on
// the same platform.
func Train(examples []Example, cfg TrainConfig) (*Model, error) {
	if cfg.Bits < minBits || cfg.Bits > maxBits || cfg.Window <= 0 || cfg.Window > math.MaxUint16 ||
		cfg.Iterations <= 0 || cfg.Rate <= 0 || cfg.Lambda < 0 {
		return nil, fmt.Errorf("injection: train: bad config %+v", cfg)
	}
	if len(examples) == 0 {
		return nil, errors.New("injection: train: no examples")
	}
	m := &Model{bits: cfg.Bits, mask: 1<<cfg.Bits - 1, window: cfg.Window, w: make([]float32, 1<<cfg.Bits)}
	rows, buckets := m.rows(examples)
	w, hw, bias := descend(rows, len(buckets), cfg)
	m.bias = float32(bias)
	for h := range hw {
		m.heur[h] = float32(hw[h])
	}
	for d, b := range buckets {
		if math.Abs(w[d]) >= cfg.Prune {
			m.w[b] = float32(w[d])
		}
	}
	return m, nil
}

// rows featurizes the examples. Features are renumbered densely in bucket
// order; buckets[d] is the bucket of feature d.
func (m *Model) rows(examples []Example) ([]sparseRow, []uint32) {
	s := new(scratch)
	raw := make([][]uint32, len(examples))
	rows := make([]sparseRow, len(examples))
	var all []uint32
	for i, ex := range examples {
		rows[i].heur = m.prepare(ex.Text, s, false)
		rows[i].label = float64(min(max(ex.Label, 0), 1))
		fs := slices.Clone(s.feats)
		if len(s.bigrams) > 1 {
			fs = append(fs, s.bigrams[1:]...)
		}
		slices.Sort(fs)
		raw[i] = fs
		all = append(all, fs...)
	}
	slices.Sort(all)
	buckets := slices.Compact(all)
	for i, fs := range raw {
		rows[i].idx, rows[i].val = compress(fs, buckets)
	}
	return rows, buckets
}

// compress turns sorted bucket occurrences into dense feature indices and
// values count·norm(total), the same normalisation Score applies.
func compress(fs, buckets []uint32) ([]int32, []float64) {
	scale := norm(len(fs))
	var idx []int32
	var val []float64
	for i := 0; i < len(fs); {
		j := i
		for j < len(fs) && fs[j] == fs[i] {
			j++
		}
		d, _ := slices.BinarySearch(buckets, fs[i])
		idx, val = append(idx, int32(d)), append(val, float64(j-i)*scale)
		i = j
	}
	return idx, val
}

// descend minimises the mean log-loss plus Lambda/2 times the squared
// norm of the feature and heuristic weights, by full-batch gradient
// descent with momentum. Products are converted explicitly so that the
// compiler cannot fuse them into FMAs, which would change the last bits
// between GOAMD64 levels.
//
// descend touches only memory it allocates, from one goroutine, so it is
// exempt from race instrumentation (go:norace), which would otherwise make
// the retraining test ten times slower under -race.
//
//go:norace
func descend(rows []sparseRow, dims int, cfg TrainConfig) (w []float64, hw [numHeur]float64, bias float64) {
	w, vw, gw := make([]float64, dims), make([]float64, dims), make([]float64, dims)
	var vh, gh [numHeur]float64
	var vb float64
	inv := 1 / float64(len(rows))
	for range cfg.Iterations {
		clear(gw)
		gh = [numHeur]float64{}
		gb := 0.0
		for _, r := range rows {
			z := bias
			for k, d := range r.idx {
				z += float64(w[d] * r.val[k])
			}
			for h := range numHeur {
				if r.heur&(1<<h) != 0 {
					z += hw[h]
				}
			}
			e := sigmoid(z) - r.label
			for k, d := range r.idx {
				gw[d] += float64(e * r.val[k])
			}
			for h := range numHeur {
				if r.heur&(1<<h) != 0 {
					gh[h] += e
				}
			}
			gb += e
		}
		for d := range w {
			g := float64(gw[d]*inv) + float64(cfg.Lambda*w[d])
			vw[d] = float64(cfg.Momentum*vw[d]) - float64(cfg.Rate*g)
			w[d] += vw[d]
		}
		for h := range hw {
			g := float64(gh[h]*inv) + float64(cfg.Lambda*hw[h])
			vh[h] = float64(cfg.Momentum*vh[h]) - float64(cfg.Rate*g)
			hw[h] += vh[h]
		}
		vb = float64(cfg.Momentum*vb) - float64(cfg.Rate*float64(gb*inv))
		bias += vb
	}
	return w, hw, bias
}
