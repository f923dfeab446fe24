package injection

import (
	_ "embed"
	"sync"
)

// DefaultThreshold is the score at or above which text is flagged by
// default. The training command chooses it by 5-fold cross-validation on
// the training set only (never the held-out rows, never benign.jsonl): of
// the thresholds 0.05…0.95 from which on the cross-validated precision
// stays at least MinPrecision and the false-positive rate on the benign
// training prompts and document excerpts under MaxBenignFPR, the one with the best F1 (see
// ChooseThreshold). TestEmbeddedWeightsAreReproducible checks that it
// still matches.
const DefaultThreshold = 0.59

//go:embed weights.bin
var weightsBin []byte

// embedded is the model decoded from weights.bin on first use.
var embedded = sync.OnceValue(func() *Model {
	m, err := ParseModel(weightsBin)
	if err != nil {
		panic("injection: embedded weights.bin: " + err.Error())
	}
	return m
})

// Score returns the probability (0..1) that text is a prompt-injection or
// jailbreak attempt, from the embedded model. Safe for concurrent use; no
// allocation beyond a small pooled scratch.
func Score(text string) float64 { return embedded().Score(text) }

// Explain returns the top n contributing features of the embedded model's
// score of text (for tests and debugging; not for logs: it quotes the
// text).
func Explain(text string, n int) []string { return embedded().Explain(text, n) }
