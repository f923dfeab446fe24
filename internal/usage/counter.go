package usage

import (
	"strings"
	"unicode/utf8"

	"github.com/tiktoken-go/tokenizer"
)

// CounterLimit is how many bytes of text a Counter keeps to count exactly.
const CounterLimit = 64 << 10

// Counter accumulates streamed output text (answer, reasoning, tool-call
// arguments) and counts its tokens when asked, with bounded memory: it keeps
// the first CounterLimit bytes and, beyond that, only the total length. Past
// the limit, Tokens counts the kept text exactly and extrapolates the rest at
// the kept text's bytes per token.
//
// The zero value is ready to use. A Counter is not safe for concurrent use
// (one per stream) and must not be copied after first use.
type Counter struct {
	kept  strings.Builder // first bytes of the text, at most CounterLimit
	full  bool            // kept stopped growing; later text is only measured
	total int64           // bytes added, kept or not

	// Memo of the last exact count, so that calling Tokens repeatedly (e.g.
	// for progress) does not re-tokenize unchanged text.
	memoEnc    tokenizer.Encoding
	memoLen    int
	memoTokens int
}

// Add appends a fragment of text. Fragments may split a UTF-8 sequence; the
// text is counted as it would be once joined.
func (c *Counter) Add(text string) {
	c.total += int64(len(text))
	if c.full || text == "" {
		return
	}
	room := CounterLimit - c.kept.Len()
	if len(text) <= room {
		c.kept.WriteString(text)
		return
	}
	// Cut at a rune boundary so the kept text does not end in a broken
	// sequence that would tokenize differently from the whole.
	cut := room
	for cut > 0 && cut < len(text) && !utf8.RuneStart(text[cut]) {
		cut--
	}
	c.kept.WriteString(text[:cut])
	c.full = true
}

// Len returns the number of bytes added since the last Reset.
func (c *Counter) Len() int64 { return c.total }

// Tokens returns the token count of everything added, for model's encoding
// (see EncodingFor). It is exact while at most CounterLimit bytes were added
// and an extrapolation, rounded to the nearest token, beyond.
func (c *Counter) Tokens(model string) int {
	enc := EncodingFor(model)
	keptLen := c.kept.Len()
	if keptLen == 0 {
		return 0
	}
	if c.memoEnc != enc || c.memoLen != keptLen {
		c.memoEnc, c.memoLen = enc, keptLen
		c.memoTokens = countEnc(enc, c.kept.String())
	}
	rest := c.total - int64(keptLen)
	if rest <= 0 {
		return c.memoTokens
	}
	// rest × tokens / keptLen, rounded half up, in 128-bit arithmetic.
	extra := mulDivRound(uint64(rest), uint64(c.memoTokens), uint64(keptLen))
	if extra > uint64(maxInt-c.memoTokens) {
		return maxInt
	}
	return c.memoTokens + int(extra)
}

// maxInt is the largest int.
const maxInt = int(^uint(0) >> 1)

// Reset empties the counter for reuse, releasing the kept text.
func (c *Counter) Reset() {
	*c = Counter{}
}
