package guard

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Custom patterns and word lists: the parts of a PII detector that its
// options supply.

// compilePatterns compiles ps into p, returning one error per bad
// pattern. A pattern must have a name, compile as RE2 and not match the
// empty string.
func (p *PII) compilePatterns(ps []Pattern) []error {
	var errs []error
	for i, pt := range ps {
		if pt.Name == "" {
			errs = append(errs, fmt.Errorf("patterns[%d].name: must not be empty", i))
		}
		re, err := regexp.Compile(pt.Regex)
		if err != nil {
			errs = append(errs, fmt.Errorf("patterns[%d].regex: %w", i, err))
			continue
		}
		if re.MatchString("") {
			errs = append(errs, fmt.Errorf("patterns[%d].regex: %q matches the empty string", i, pt.Regex))
			continue
		}
		tree, err := syntax.Parse(pt.Regex, syntax.Perl)
		if err != nil {
			errs = append(errs, fmt.Errorf("patterns[%d].regex: %w", i, err))
			continue
		}
		lit, fold := requiredLiteral(tree)
		p.patterns = append(p.patterns, compiledPattern{kind: pt.Name, re: re, lit: lit, fold: fold})
		p.maxSpan = max(p.maxSpan, min(regexSpan(tree), MaxPatternSpan))
	}
	return errs
}

// findPatterns appends the custom patterns' non-empty matches in s.
func (p *PII) findPatterns(dst []Finding, s string) []Finding {
	for _, cp := range p.patterns {
		if cp.lit != "" && !(cp.fold && containsFold(s, cp.lit)) && !(!cp.fold && strings.Contains(s, cp.lit)) {
			continue // no match can be in s
		}
		for _, m := range cp.re.FindAllStringIndex(s, -1) {
			if m[1] > m[0] {
				dst = append(dst, Finding{Kind: cp.kind, Start: m[0], End: m[1], Score: 1})
			}
		}
	}
	return dst
}

// compiledPattern is a custom pattern ready to run.
type compiledPattern struct {
	kind string
	re   *regexp.Regexp
	// lit, when not empty, is a literal every match contains (ASCII
	// lower case when fold), so a text without it is skipped.
	lit  string
	fold bool
}

// requiredLiteral returns the longest literal that every match of re
// contains, and whether it matches ignoring case; "" when there is none
// it can name. A case-insensitive literal is only returned when it is
// ASCII whose case variants are all ASCII (not k or s: the Kelvin sign
// and long s fold to them).
func requiredLiteral(re *syntax.Regexp) (string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			return string(re.Rune), false
		}
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf || foldRuneLen(r) > 1 {
				return "", false
			}
		}
		return strings.ToLower(string(re.Rune)), true
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		best, bestFold := "", false
		for _, sub := range re.Sub {
			if lit, fold := requiredLiteral(sub); len(lit) > len(best) {
				best, bestFold = lit, fold
			}
		}
		return best, bestFold
	}
	return "", false
}

// regexSpan bounds the bytes a match of re can span; any value above
// MaxPatternSpan means "longer, or unbounded".
func regexSpan(re *syntax.Regexp) int {
	const inf = MaxPatternSpan + 1
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				n += foldRuneLen(r)
			} else {
				n += runeLen(r)
			}
		}
		return min(n, inf)
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return 0
		}
		return runeLen(re.Rune[len(re.Rune)-1])
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture, syntax.OpQuest:
		return regexSpan(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		sub := regexSpan(re.Sub[0])
		switch {
		case sub == 0:
			return 0
		case re.Op != syntax.OpRepeat || re.Max < 0:
			return inf
		}
		return min(re.Max*sub, inf)
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n = min(n+regexSpan(sub), inf)
		}
		return n
	case syntax.OpAlternate:
		n := 0
		for _, sub := range re.Sub {
			n = max(n, regexSpan(sub))
		}
		return n
	}
	return 0 // empty-width assertions
}

// runeLen is r's UTF-8 length, counting invalid runes as the widest.
func runeLen(r rune) int {
	if n := utf8.RuneLen(r); n > 0 {
		return n
	}
	return utf8.UTFMax
}

// foldRuneLen is the widest UTF-8 length among r's case variants (the
// Kelvin sign K is three bytes, k one).
func foldRuneLen(r rune) int {
	n := runeLen(r)
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		n = max(n, runeLen(f))
	}
	return n
}

// maxWordGap is the most white space matched between two words of a
// phrase.
const maxWordGap = 8

// wordIndex finds the entries of word lists: entries keyed by their first
// word, lower-cased; the rest of each entry is matched from there.
type wordIndex struct {
	byFirst  map[string][]wordEntry
	maxFirst int // the longest key, in bytes
	// firstByte marks the first bytes of keys.
	firstByte [256]bool
}

// wordEntry is one word-list entry: the list's name and the entry after
// its first word, lower-cased, spaces collapsed.
type wordEntry struct {
	kind, rest string
}

// compileWords indexes lists into p, returning one error per bad list or
// entry.
func (p *PII) compileWords(lists []WordList) []error {
	var errs []error
	for li, l := range lists {
		if l.Name == "" {
			errs = append(errs, fmt.Errorf("words[%d].name: must not be empty", li))
		}
		if len(l.Words) == 0 {
			errs = append(errs, fmt.Errorf("words[%d].words: must not be empty", li))
		}
		for wi, w := range l.Words {
			norm := lowerString(strings.Join(strings.Fields(w), " "))
			first, _ := utf8.DecodeRuneInString(norm)
			last, _ := utf8.DecodeLastRuneInString(norm)
			if norm == "" || !wordRune(first) || !wordRune(last) {
				errs = append(errs, fmt.Errorf("words[%d].words[%d]: %w", li, wi, errWordEdge))
				continue
			}
			key := norm[:wordRunEnd(norm, 0)]
			if p.words.byFirst == nil {
				p.words.byFirst = map[string][]wordEntry{}
			}
			p.words.byFirst[key] = append(p.words.byFirst[key], wordEntry{kind: l.Name, rest: norm[len(key):]})
			p.words.maxFirst = max(p.words.maxFirst, len(key))
			p.words.markFirst(key)
			p.maxSpan = max(p.maxSpan, wordSpan(norm))
		}
	}
	return errs
}

// markFirst records key's first byte for findWords' ASCII fast path
// (words with non-ASCII runes take the slow path, which skips this).
func (w *wordIndex) markFirst(key string) {
	w.firstByte[key[0]] = true
}

// lowerASCII lower-cases an ASCII letter and returns other bytes as is.
func lowerASCII(c byte) byte {
	if c-'A' < 26 {
		return c + 'a' - 'A'
	}
	return c
}

var errWordEdge = errors.New("must start and end with a letter, digit or underscore")

// wordSpan bounds the text a match of the normalised entry can span: a
// text rune that lower-cases to an entry rune may be up to 4 bytes long,
// and a space may match maxWordGap bytes of white space plus one rune.
func wordSpan(norm string) int {
	n := 0
	for _, r := range norm {
		if r == ' ' {
			n += maxWordGap + utf8.UTFMax
		} else {
			n += utf8.UTFMax
		}
	}
	return n
}

// lowerString lower-cases s rune by rune, as findWords does the text.
func lowerString(s string) string {
	return strings.Map(unicode.ToLower, s)
}

// wordRune reports whether r belongs to a word: letters, digits, marks
// and '_', as \w does in ASCII.
func wordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isAlnum(byte(r)) || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// runeAt decodes the rune at s[i], with an ASCII fast path.
func runeAt(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// ideograph reports whether r is written without spaces between words
// (Han, Hiragana, Katakana): each such rune is a word of its own, so
// "我是Jane" holds the word "Jane" and a CJK entry matches wherever its
// runes appear.
func ideograph(r rune) bool {
	return r >= 0x3040 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// wordRunEnd returns the end of the word starting at the word rune at i:
// one ideograph, or a run of other word runes.
func wordRunEnd(s string, i int) int {
	if r, n := runeAt(s, i); ideograph(r) {
		return i + n
	}
	for i < len(s) {
		r, n := runeAt(s, i)
		if !wordRune(r) || ideograph(r) {
			break
		}
		i += n
	}
	return i
}

// findWords appends the word lists' whole-word, case-insensitive matches
// in s: one pass over the words of s (see wordRunEnd), each lower-cased
// into a stack buffer and looked up by itself, then the rest of each
// entry under it matched in place.
func (p *PII) findWords(dst []Finding, s string) []Finding {
	if len(p.words.byFirst) == 0 {
		return dst
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && !is(c, cWord) {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			if r, n := runeAt(s, i); !wordRune(r) {
				i += n
				continue
			}
		}
		j := runOf(s, i, cWord)
		if j < len(s) && s[j] >= utf8.RuneSelf || c >= utf8.RuneSelf {
			j = wordRunEnd(s, i)
			dst = p.matchWord(dst, s, i, j)
		} else if j-i <= p.words.maxFirst && p.words.firstByte[lowerASCII(c)] {
			var buf [64]byte
			for k := i; k < j; k++ {
				buf[k-i] = lowerASCII(s[k])
			}
			dst = p.matchEntries(dst, s, i, j, string(buf[:j-i]))
		}
		i = j
	}
	return dst
}

// matchWord looks up the word s[i:j], which holds non-ASCII runes.
func (p *PII) matchWord(dst []Finding, s string, i, j int) []Finding {
	var buf [64]byte
	k := 0
	for w := i; w < j; {
		r, n := runeAt(s, w)
		w += n
		if r = unicode.ToLower(r); k+utf8.RuneLen(r) > min(len(buf), p.words.maxFirst) {
			return dst
		}
		k += utf8.EncodeRune(buf[k:], r)
	}
	return p.matchEntries(dst, s, i, j, string(buf[:k]))
}

// matchEntries appends the entries whose first word is key (the word
// s[i:j] lower-cased) and whose rest matches from j.
func (p *PII) matchEntries(dst []Finding, s string, i, j int, key string) []Finding {
	for _, e := range p.words.byFirst[key] {
		if end := matchRest(s, j, e.rest); end > 0 {
			dst = append(dst, Finding{Kind: e.kind, Start: i, End: end, Score: 1})
		}
	}
	return dst
}

// matchRest matches rest (lower-case; a space stands for 1 to maxWordGap
// bytes of white space) against s from j, ignoring case, and returns the
// end of the match if a word boundary follows it, else 0.
func matchRest(s string, j int, rest string) int {
	for ri := 0; ri < len(rest); {
		if rest[ri] == ' ' {
			g := j
			for g < len(s) && g-j < maxWordGap {
				r, n := runeAt(s, g)
				if !unicode.IsSpace(r) {
					break
				}
				g += n
			}
			if g == j {
				return 0
			}
			j, ri = g, ri+1
			continue
		}
		if j >= len(s) {
			return 0
		}
		want, wn := runeAt(rest, ri)
		got, gn := runeAt(s, j)
		if unicode.ToLower(got) != want {
			return 0
		}
		j, ri = j+gn, ri+wn
	}
	if j < len(s) {
		last, _ := utf8.DecodeLastRuneInString(s[:j])
		if r, _ := runeAt(s, j); wordRune(r) && !ideograph(r) && !ideograph(last) {
			return 0
		}
	}
	return j
}
