// Command train fits Sluice's prompt-injection detector and rewrites its
// embedded weights. Run it from the module root:
//
//	go run ./internal/guard/injection/train
//
// It reads the deepset data, the benign training prompts and the benign
// document excerpts from the package's testdata, keeps the held-out 20 %
// of the deepset data aside (the package's tests evaluate on it), runs
// 5-fold cross-validation on the rest to report the metrics and to choose
// the flagging threshold, then trains on the whole training split and
// writes weights.bin. The output is deterministic: running it twice
// writes the same bytes.
//
// With -sweep it instead cross-validates a small grid of
// hyper-parameters, to choose DefaultTrainConfig.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/sluicehq/sluice/internal/guard/injection"
)

func main() {
	dir := flag.String("dir", "internal/guard/injection", "the injection package's directory")
	folds := flag.Int("k", 5, "cross-validation folds")
	sweep := flag.Bool("sweep", false, "cross-validate a grid of hyper-parameters and exit")
	flag.BoolVar(&showErrors, "errors", false, "print the training rows that cross-validation gets wrong")
	flag.Parse()
	if err := run(*dir, *folds, *sweep); err != nil {
		log.Fatal(err)
	}
}

// showErrors makes report print the misclassified training rows.
var showErrors bool

func run(dir string, k int, sweep bool) error {
	data, err := injection.LoadDataset(filepath.Join(dir, "testdata"))
	if err != nil {
		return err
	}
	train := data.TrainingSet()
	fmt.Printf("deepset: %d training rows, %d held out (not used here); benign training prompts: %d; document excerpts: %d\n",
		len(data.Train), len(data.HeldOut), len(data.BenignTrain), len(data.Docs))
	fmt.Printf("training split: %d examples (%d injections)\n", len(train), positives(train))
	cfg := injection.DefaultTrainConfig()
	if sweep {
		return runSweep(train, len(data.Train), k, cfg)
	}
	start := time.Now()
	scores, err := injection.CrossValidate(train, k, cfg)
	if err != nil {
		return err
	}
	nDeep := len(data.Train)
	threshold, ok := injection.ChooseThreshold(scores, train, scores[nDeep:], injection.MinPrecision, injection.MaxBenignFPR)
	if !ok {
		return fmt.Errorf("no threshold holds precision %.2f and benign FPR < %.2f in cross-validation", injection.MinPrecision, injection.MaxBenignFPR)
	}
	report(train, scores, k, threshold, nDeep, nDeep+len(data.BenignTrain))
	fmt.Printf("cross-validation took %v\n", time.Since(start).Round(time.Millisecond))
	if threshold != injection.DefaultThreshold {
		fmt.Printf("NOTE: update DefaultThreshold from %.2f to %.2f\n", injection.DefaultThreshold, threshold)
	}
	m, err := injection.Train(train, cfg)
	if err != nil {
		return err
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "weights.bin")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("writing weights: %w", err)
	}
	fmt.Printf("wrote %s: %d bytes, sha256 %x, %v\n", out, len(b), sha256.Sum256(b), m)
	return nil
}

// report prints the cross-validated metrics at threshold, pooled and per
// fold. train holds the deepset rows, then from nDeep the benign prompts,
// then from nDocs the document excerpts.
func report(train []injection.Example, scores []float64, k int, threshold float64, nDeep, nDocs int) {
	fmt.Printf("%d-fold cross-validation at threshold %.2f (chosen: best F1 with precision >= %.2f and benign FPR < %.2f):\n",
		k, threshold, injection.MinPrecision, injection.MaxBenignFPR)
	fold := injection.Folds(train, k)
	for f := range k {
		var ex []injection.Example
		var sc []float64
		for i := range train {
			if fold[i] == f {
				ex, sc = append(ex, train[i]), append(sc, scores[i])
			}
		}
		fmt.Printf("  fold %d: %v\n", f, injection.Evaluate(sc, ex, threshold))
	}
	fmt.Printf("  pooled: %v\n", injection.Evaluate(scores, train, threshold))
	if showErrors {
		for i, ex := range train {
			if (scores[i] >= threshold) != (ex.Label == 1) {
				fmt.Printf("    wrong: label %d score %.3f %.120q\n", ex.Label, scores[i], ex.Text)
			}
		}
	}
	fmt.Printf("  deepset rows only: %v\n", injection.Evaluate(scores[:nDeep], train[:nDeep], threshold))
	fmt.Printf("  benign training prompts only: FPR %.3f\n", injection.Evaluate(scores[nDeep:nDocs], train[nDeep:nDocs], threshold).FPR())
	fmt.Printf("  document excerpts only: FPR %.3f\n", injection.Evaluate(scores[nDocs:], train[nDocs:], threshold).FPR())
}

// runSweep cross-validates a grid of hyper-parameters around cfg.
func runSweep(train []injection.Example, nDeep, k int, base injection.TrainConfig) error {
	for _, lambda := range []float64{1e-5, 3e-5, 1e-4, 3e-4, 1e-3} {
		for _, window := range []int{32, 64} {
			for _, iters := range []int{600, 1500} {
				cfg := base
				cfg.Lambda, cfg.Window, cfg.Iterations = lambda, window, iters
				scores, err := injection.CrossValidate(train, k, cfg)
				if err != nil {
					return err
				}
				t, ok := injection.ChooseThreshold(scores, train, scores[nDeep:], injection.MinPrecision, injection.MaxBenignFPR)
				deep := injection.Evaluate(scores[:nDeep], train[:nDeep], t)
				fmt.Printf("lambda %g window %d iters %d: threshold %.2f (ok %v) %v; deepset R=%.3f, benign FPR %.3f\n",
					lambda, window, iters, t, ok, injection.Evaluate(scores, train, t), deep.Recall(),
					injection.Evaluate(scores[nDeep:], train[nDeep:], t).FPR())
			}
		}
	}
	return nil
}

func positives(ex []injection.Example) int {
	n := 0
	for _, e := range ex {
		n += e.Label
	}
	return n
}
