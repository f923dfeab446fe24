// Package injection detects prompt-injection and jailbreak attempts in
// text, in process and without a network call.
//
// The detector is a logistic regression over hashed features: lower-cased
// word unigrams and bigrams and character 3- to 5-grams within words,
// hashed into 2^bits buckets, plus a handful of hand-written heuristic
// features (an override verb together with its target, "reveal your
// prompt", persona plus "no restrictions", chat-template delimiters, …).
// The strongest heuristics are also rules: when one fires, the score is at
// least RuleFloor whatever the model says.
//
// Text longer than the model's window (64 tokens) is scored in windows
// that overlap by half, and the best window counts, so that an injection
// buried in a long document is not diluted by it. Each window is scored
// as a text of its own: its features, normalised so that the term stops
// growing with length beyond about 20 words (see norm), and only the
// heuristics that fire inside it, so that "act as" in one paragraph and
// "no restrictions" in another do not combine. The best of n windows is
// lowered by the expected excess of the largest of n noisy scores (see
// windowMargin), so that repeating a text does not raise its score.
//
// The weights are learned by the command in ./train from the deepset
// prompt-injection data, a benign set written for Sluice and benign
// window-sized excerpts of code and documents (see testdata/SOURCES.md),
// and embedded from weights.bin. Score and Explain use
// those embedded weights; Train, CrossValidate and the Model type exist
// for the training command and the tests.
package injection
