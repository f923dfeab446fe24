package injection

import (
	"unicode"
	"unicode/utf8"
)

// maxGramSpan caps how many bytes of one word feed its character n-grams,
// so that a long blob (base64, a URL) costs no more than an ordinary word.
const maxGramSpan = 48

// token is one word of the text: a maximal run of letters, digits and
// combining marks, lower-cased into scratch.low.
type token struct {
	lo, hi   int32  // bytes of the lower-cased word in scratch.low
	olo, ohi int32  // bytes of the word in the original text
	cls      uint32 // lexicon classes of the word (see lexicon.go)
	brk      bool   // a sentence or clause ends between the previous token and this one
	upper    bool   // the word has at least two letters, all upper-case
}

// wordByte marks the ASCII bytes that belong to words.
var wordByte = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	return t
}()

// breakByte marks the ASCII bytes that end a sentence or clause for the
// heuristics' proximity rules.
var breakByte = func() (t [128]bool) {
	for _, c := range ".!?;:\n" {
		t[c] = true
	}
	return t
}()

// tokenizer accumulates the word being read.
type tokenizer struct {
	s                *scratch
	inWord           bool
	brk              bool
	nUpper, nLetters int
}

// tokenize splits text into lower-cased words in s.low and s.toks.
func tokenize(text string, s *scratch) {
	s.low, s.toks = s.low[:0], s.toks[:0]
	tz := tokenizer{s: s, brk: true}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if wordByte[c] {
				tz.letter(i, c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
				s.low = append(s.low, c|asciiLower(c))
			} else {
				tz.end(i)
				if breakByte[c] {
					tz.brk = true
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
			tz.letter(i, unicode.IsUpper(r), unicode.IsLetter(r))
			s.low = utf8.AppendRune(s.low, unicode.ToLower(r))
		} else {
			tz.end(i)
		}
		i += size
	}
	tz.end(len(text))
}

// asciiLower returns the bit that lower-cases c when it is an upper-case
// ASCII letter, and 0 otherwise.
func asciiLower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return 0x20
	}
	return 0
}

// letter notes a word character at text offset i, starting a word if none
// is open.
func (tz *tokenizer) letter(i int, upper, isLetter bool) {
	if !tz.inWord {
		tz.inWord = true
		tz.nUpper, tz.nLetters = 0, 0
		tz.s.toks = append(tz.s.toks, token{lo: int32(len(tz.s.low)), olo: int32(i), brk: tz.brk})
		tz.brk = false
	}
	if isLetter {
		tz.nLetters++
	}
	if upper {
		tz.nUpper++
	}
}

// end closes the open word, if any, at text offset i.
func (tz *tokenizer) end(i int) {
	if !tz.inWord {
		return
	}
	tz.inWord = false
	t := &tz.s.toks[len(tz.s.toks)-1]
	t.hi, t.ohi = int32(len(tz.s.low)), int32(i)
	t.upper = tz.nLetters >= 2 && tz.nUpper == tz.nLetters
}
