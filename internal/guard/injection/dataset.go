package injection

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// The data behind the embedded weights, in the package's testdata (see
// testdata/SOURCES.md).
const (
	// DeepsetFile holds deepset/prompt-injections' train split.
	DeepsetFile = "deepset-train.jsonl"
	// BenignTrainFile holds benign gateway prompts written for training.
	BenignTrainFile = "benign-train.jsonl"
	// DocsTrainFile holds benign window-sized excerpts of code and
	// documents, for training.
	DocsTrainFile = "docs-train.jsonl"
	// BenignEvalFile holds other benign prompts, for measuring the
	// false-positive rate only; training never reads it.
	BenignEvalFile = "benign.jsonl"
	// HeldOutFraction of the deepset rows (of each label) is held out.
	HeldOutFraction = 0.2
	// MinPrecision is the cross-validated precision on the training set
	// that DefaultThreshold must hold.
	MinPrecision = 0.9
	// MaxBenignFPR bounds the cross-validated false-positive rate on the
	// benign training prompts and excerpts at DefaultThreshold.
	MaxBenignFPR = 0.02
)

// Dataset is the training data split for training and evaluation.
type Dataset struct {
	// Train and HeldOut are the deepset rows, split by Split.
	Train, HeldOut []Example
	// BenignTrain is the benign training prompts, all label 0.
	BenignTrain []Example
	// Docs is the benign excerpts of code and documents, all label 0.
	Docs []Example
}

// LoadDataset reads the deepset, benign and document training files from
// dir and splits the deepset rows.
func LoadDataset(dir string) (Dataset, error) {
	deep, err := readFile(filepath.Join(dir, DeepsetFile))
	if err != nil {
		return Dataset{}, err
	}
	benign, err := readFile(filepath.Join(dir, BenignTrainFile))
	if err != nil {
		return Dataset{}, err
	}
	docs, err := readFile(filepath.Join(dir, DocsTrainFile))
	if err != nil {
		return Dataset{}, err
	}
	var d Dataset
	d.Train, d.HeldOut = Split(deep, HeldOutFraction)
	d.BenignTrain, d.Docs = benign, docs
	return d, nil
}

// TrainingSet is what the model is trained on: the deepset training
// split followed by the benign training prompts and the excerpts.
func (d Dataset) TrainingSet() []Example {
	return slices.Concat(d.Train, d.BenignTrain, d.Docs)
}

// readFile reads a JSON-lines file of examples.
func readFile(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("injection: %w", err)
	}
	defer f.Close()
	ex, err := ReadExamples(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ex, nil
}
