package injection

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benignRow is a row of testdata/benign.jsonl.
type benignRow struct {
	Text string `json:"text"`
	Kind string `json:"kind"` // "plain", or "trigger" for prompts that mention instructions, rules, roles…
	Lang string `json:"lang"`
}

func loadBenignEval(t testing.TB) []benignRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", BenignEvalFile))
	if err != nil {
		t.Fatal(err)
	}
	var rows []benignRow
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r benignRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s line %d: %v", BenignEvalFile, i+1, err)
		}
		rows = append(rows, r)
	}
	return rows
}

func loadDataset(t testing.TB) Dataset {
	t.Helper()
	d, err := LoadDataset("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestHeldOutMetrics is the acceptance test: precision, recall and F1 on
// the held-out deepset rows at DefaultThreshold, and the false-positive
// rate on the benign evaluation prompts, which training never reads.
func TestHeldOutMetrics(t *testing.T) {
	d := loadDataset(t)
	scores := make([]float64, len(d.HeldOut))
	for i, ex := range d.HeldOut {
		scores[i] = Score(ex.Text)
	}
	held := Evaluate(scores, d.HeldOut, DefaultThreshold)
	t.Logf("held-out deepset (%d rows, %d injections) at threshold %.2f: %v", len(d.HeldOut), held.TP+held.FN, DefaultThreshold, held)
	for i, ex := range d.HeldOut {
		if (scores[i] >= DefaultThreshold) != (ex.Label == 1) {
			t.Logf("  missed: label %d score %.3f %.100q", ex.Label, scores[i], ex.Text)
		}
	}
	novel := novelHeldOut(d)
	var nex []Example
	var nsc []float64
	for i, ok := range novel {
		if ok {
			nex, nsc = append(nex, d.HeldOut[i]), append(nsc, scores[i])
		}
	}
	t.Logf("held-out rows with no near-duplicate in training (word Jaccard < 0.5; %d rows): %v", len(nex), Evaluate(nsc, nex, DefaultThreshold))

	rows := loadBenignEval(t)
	var fp, trig, trigFP, de, deFP int
	for _, r := range rows {
		s := Score(r.Text)
		flagged := s >= DefaultThreshold
		if flagged {
			fp++
			t.Logf("  benign flagged: score %.3f %q", s, r.Text)
		}
		if r.Kind == "trigger" {
			trig++
			trigFP += b2i(flagged)
		}
		if r.Lang == "de" {
			de++
			deFP += b2i(flagged)
		}
	}
	fpr := float64(fp) / float64(len(rows))
	t.Logf("benign prompts: FPR %.4f (%d of %d); mentioning instructions/rules/roles: %d of %d; German: %d of %d",
		fpr, fp, len(rows), trigFP, trig, deFP, de)

	if held.Precision() < 0.90 {
		t.Errorf("held-out precision %.3f < 0.90", held.Precision())
	}
	if held.Recall() < 0.80 {
		t.Errorf("held-out recall %.3f < 0.80", held.Recall())
	}
	if fpr >= 0.02 {
		t.Errorf("benign false-positive rate %.4f >= 0.02", fpr)
	}
}

// novelHeldOut marks the held-out rows whose word set overlaps every
// training row's by a Jaccard index under 0.5. The deepset data holds
// many rows built from the same attack with different benign prefixes,
// so a random split puts near-duplicates on both sides; this subset shows
// how the detector does without them.
func novelHeldOut(d Dataset) []bool {
	words := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !isWordRune(r) }) {
			m[w] = true
		}
		return m
	}
	var train []map[string]bool
	for _, ex := range d.TrainingSet() {
		train = append(train, words(ex.Text))
	}
	out := make([]bool, len(d.HeldOut))
	for i, ex := range d.HeldOut {
		h := words(ex.Text)
		out[i] = true
		for _, tr := range train {
			if jaccard(h, tr) >= 0.5 {
				out[i] = false
				break
			}
		}
	}
	return out
}

func jaccard(a, b map[string]bool) float64 {
	inter := 0
	for w := range a {
		if b[w] {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// isWordRune matches the tokenizer's notion of a word character.
func isWordRune(r rune) bool {
	s := new(scratch)
	tokenize(string(r), s)
	return len(s.toks) == 1
}
