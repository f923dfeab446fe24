package injection

import (
	"math"
	"sync"
)

// Feature hashing: FNV-1a over the lower-cased bytes, a distinct seed per
// kind of feature, and the murmur3 finaliser to spread the bits before
// masking to the bucket count.
const (
	fnvPrime   = 16777619
	seedWord   = 2166136261
	seedChar   = 0x9747b28c
	seedBigram = 0x5bd1e995
)

// scratch is the per-call working memory of Score, pooled so that scoring
// allocates nothing once the pool is warm.
type scratch struct {
	low     []byte   // lower-cased words, back to back
	toks    []token  // the words
	feats   []uint32 // buckets of each token's unigram and character n-grams
	tokFeat []int32  // feats[tokFeat[i]:tokFeat[i+1]] belong to token i
	bigrams []uint32 // bigrams[i] is the bucket of (token i-1, token i); bigrams[0] is unused
	events  []event  // the heuristics that fire, by token, in token order
	sum     []float64
	cnt     []int32
	names   []string // feature names parallel to feats, only for Explain
	bnames  []string // bigram names parallel to bigrams, only for Explain
}

// maxPooled is the largest lower-cased text whose scratch goes back to
// the pool; bigger ones are left to the garbage collector.
const maxPooled = 1 << 16

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	if cap(s.low) <= maxPooled {
		s.names, s.bnames = nil, nil
		scratchPool.Put(s)
	}
}

// fmix32 is the murmur3 32-bit finaliser.
func fmix32(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// fnvBytes hashes b with FNV-1a starting from seed.
func fnvBytes(seed uint32, b []byte) uint32 {
	h := seed
	for _, c := range b {
		h = (h ^ uint32(c)) * fnvPrime
	}
	return h
}

// featurize fills s.feats, s.tokFeat and s.bigrams from s.toks, with
// buckets masked by mask. When withNames is set it also records a
// readable name for every feature (for Explain; allocates).
func featurize(s *scratch, mask uint32, withNames bool) {
	s.feats, s.tokFeat, s.bigrams = s.feats[:0], s.tokFeat[:0], s.bigrams[:0]
	var prev uint32
	for i := range s.toks {
		w := s.low[s.toks[i].lo:s.toks[i].hi]
		s.tokFeat = append(s.tokFeat, int32(len(s.feats)))
		h := fnvBytes(seedWord, w)
		s.feats = append(s.feats, fmix32(h)&mask)
		if withNames {
			s.names = append(s.names, "word:"+string(w))
		}
		charGrams(s, w, mask, withNames)
		s.bigrams = append(s.bigrams, fmix32(prev*0x9e3779b1^h^seedBigram)&mask)
		if withNames {
			name := ""
			if i > 0 {
				p := s.low[s.toks[i-1].lo:s.toks[i-1].hi]
				name = "bigram:" + string(p) + " " + string(w)
			}
			s.bnames = append(s.bnames, name)
		}
		prev = h
	}
	s.tokFeat = append(s.tokFeat, int32(len(s.feats)))
}

// charGrams appends the character 3-, 4- and 5-grams of "<w>" (at most
// maxGramSpan bytes of w) to s.feats.
func charGrams(s *scratch, w []byte, mask uint32, withNames bool) {
	var buf [maxGramSpan + 2]byte
	n := min(len(w), maxGramSpan)
	buf[0] = '<'
	copy(buf[1:], w[:n])
	buf[n+1] = '>'
	padded := buf[:n+2]
	for p := 0; p+3 <= len(padded); p++ {
		h := uint32(seedChar)
		for k := 0; k < 5 && p+k < len(padded); k++ {
			h = (h ^ uint32(padded[p+k])) * fnvPrime
			if k >= 2 {
				s.feats = append(s.feats, fmix32(h)&mask)
				if withNames {
					s.names = append(s.names, "chars:"+string(padded[p:p+k+1]))
				}
			}
		}
	}
}

// normRef is the number of feature occurrences up to which a text's
// weight sum is divided by the square root of their count, as for a bag
// of words of unit norm; beyond it, the sum is divided by the count and
// multiplied by sqrt(normRef). So the linear term of a short prompt grows
// with its length, but the term of a long one (a 64-token window holds
// about 800 occurrences) is the mean weight of its features, scaled: it no
// longer grows with length, which would let the model learn "long means
// injection" from deepset, where most long rows are attacks. The two
// formulas meet at normRef, about the size of a 20-word prompt.
const normRef = 256

// norm is the factor that scales the weight sum of a window, or of a
// training example, of c feature occurrences.
func norm(c int) float64 {
	x := float64(max(c, 1))
	if x <= normRef {
		return 1 / math.Sqrt(x)
	}
	return math.Sqrt(normRef) / x
}

// windowNoise is the standard deviation, in logits, of the scores of the
// windows of a text that repeats one benign sentence — the part of the
// window-to-window spread that comes only from where the windows cut the
// text. It was measured on the benign training prompts, each repeated 40
// times, with the weights of this package: median 0.05, upper quartile
// 0.08, rounded up.
const windowNoise = 0.1

// windowMargin is what the best of n window scores is lowered by: the
// expected excess of the largest of n draws of windowNoise over one draw,
// sigma·sqrt(2·ln n). Without it the score of a long benign text would
// creep up with its length only because more windows are drawn.
func windowMargin(n int) float64 {
	if n <= 1 {
		return 0
	}
	return windowNoise * math.Sqrt(2*math.Log(float64(n)))
}
