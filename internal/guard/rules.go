package guard

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/usage"
)

// Finding kinds reported by Rules.
const (
	KindDeny            = "deny"
	KindNotAllowed      = "not_allowed"
	KindKeyword         = "keyword"
	KindTopicPrefix     = "topic:" // followed by the topic's name
	KindMaxPromptTokens = "max_prompt_tokens"
	KindMaxMessages     = "max_messages"
)

// RulesOptions is a WAF rule set. Zero fields are off.
type RulesOptions struct {
	// Deny are RE2 regular expressions (Go regexp syntax); every
	// non-empty match is a finding of kind "deny".
	Deny []string
	// Allow are RE2 regular expressions; when set, a text that matches
	// none of them is one finding of kind "not_allowed" spanning the
	// whole text (an empty text included).
	Allow []string
	// Keywords are words or phrases matched case-insensitively (Unicode
	// simple case folding) as whole words: "class" does not match in
	// "classic" or "sub_class". Whitespace inside a phrase matches any
	// run of whitespace in the text. Each match is a finding of kind
	// "keyword".
	Keywords []string
	// Topics maps a topic name to its keywords, matched like Keywords;
	// a match is a finding of kind "topic:<name>".
	Topics map[string][]string
	// MaxPromptTokens limits a request's prompt as usage.CountRequest
	// estimates it; above it is a finding of kind "max_prompt_tokens".
	MaxPromptTokens int
	// MaxMessages limits a request's number of messages; more is a
	// finding of kind "max_messages".
	MaxMessages int
}

// Rules is a compiled RulesOptions. It is safe for concurrent use.
type Rules struct {
	deny, allow     []*regexp.Regexp
	words           ruleMatcher
	maxPromptTokens int
	maxMessages     int
}

// NewRules compiles o. An error names the offending field and index
// ("deny[2]") and quotes at most a short excerpt of the bad expression.
func NewRules(o RulesOptions) (*Rules, error) {
	if o.MaxPromptTokens < 0 || o.MaxMessages < 0 {
		return nil, errors.New("guard: rules: max_prompt_tokens and max_messages must not be negative")
	}
	r := &Rules{maxPromptTokens: o.MaxPromptTokens, maxMessages: o.MaxMessages}
	var err error
	if r.deny, err = ruleCompile("deny", o.Deny); err != nil {
		return nil, err
	}
	if r.allow, err = ruleCompile("allow", o.Allow); err != nil {
		return nil, err
	}
	for i, kw := range o.Keywords {
		if !r.words.add(kw, KindKeyword) {
			return nil, fmt.Errorf("guard: rules: keywords[%d]: empty keyword", i)
		}
	}
	names := make([]string, 0, len(o.Topics))
	for name := range o.Topics {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic kinds order for a keyword in several topics
	for _, name := range names {
		if strings.TrimSpace(name) == "" {
			return nil, errors.New("guard: rules: topics: empty topic name")
		}
		for i, kw := range o.Topics[name] {
			if !r.words.add(kw, KindTopicPrefix+name) {
				return nil, fmt.Errorf("guard: rules: topics[%s][%d]: empty keyword", strconv.Quote(ruleShort(name, 40)), i)
			}
		}
	}
	r.words.index()
	return r, nil
}

// ruleCompile compiles the expressions of one field.
func ruleCompile(field string, exprs []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(exprs))
	for i, e := range exprs {
		re, err := regexp.Compile(e)
		if err != nil {
			var se *syntax.Error
			if errors.As(err, &se) {
				short := &syntax.Error{Code: se.Code, Expr: ruleShort(se.Expr, 40)}
				return nil, fmt.Errorf("guard: rules: %s[%d]: %w", field, i, short)
			}
			return nil, fmt.Errorf("guard: rules: %s[%d]: invalid regular expression", field, i)
		}
		out = append(out, re)
	}
	return out, nil
}

// Find checks text against the deny, allow, keyword and topic rules and
// appends what it finds to dst: deny matches in rule then text order,
// then a not_allowed finding, then keyword and topic matches in text
// order (a keyword listed under several kinds yields one finding per
// kind). Every finding has Score 1. Empty regex matches are ignored.
func (r *Rules) Find(dst []Finding, text string) []Finding {
	for _, re := range r.deny {
		for _, m := range re.FindAllStringIndex(text, -1) {
			if m[1] > m[0] {
				dst = append(dst, Finding{Kind: KindDeny, Start: m[0], End: m[1], Score: 1})
			}
		}
	}
	if len(r.allow) > 0 && !r.allowed(text) {
		dst = append(dst, Finding{Kind: KindNotAllowed, Start: 0, End: len(text), Score: 1})
	}
	return r.words.find(dst, text)
}

// allowed reports whether text matches one of the allow rules.
func (r *Rules) allowed(text string) bool {
	for _, re := range r.allow {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

// CheckRequest checks the request-level limits and appends a finding
// (Start and End 0, Score 1) for each one req exceeds. A nil req exceeds
// none. The prompt is only counted when MaxPromptTokens is set.
func (r *Rules) CheckRequest(dst []Finding, req *llm.Request) []Finding {
	if req == nil {
		return dst
	}
	if r.maxMessages > 0 && len(req.Messages) > r.maxMessages {
		dst = append(dst, Finding{Kind: KindMaxMessages, Score: 1})
	}
	if r.maxPromptTokens > 0 && usage.CountRequest(req) > r.maxPromptTokens {
		dst = append(dst, Finding{Kind: KindMaxPromptTokens, Score: 1})
	}
	return dst
}

// ruleShort returns s cut to at most n bytes on a rune boundary, with
// "…" appended when it was cut.
func ruleShort(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// ruleSpace in a keyword's folded runes stands for a run of whitespace.
const ruleSpace rune = -1

// ruleKeyword is one normalised keyword or phrase.
type ruleKeyword struct {
	runes []rune   // folded (ruleFold) runes, ruleSpace between words
	kinds []string // finding kinds it reports, without duplicates
	// wordStart and wordEnd say whether the first and last runes are word
	// runes, which then need a word boundary in the text.
	wordStart, wordEnd bool
}

// ruleMatcher finds keywords in a text in one pass: at each rune it
// tries the keywords that begin with that rune's fold, longest first.
type ruleMatcher struct {
	kws   []ruleKeyword
	ascii [utf8.RuneSelf][]int // keyword indexes by ASCII first fold
	// asciiInWord[f] is true when every keyword of ascii[f] needs a word
	// start, so none can match right after a word rune.
	asciiInWord [utf8.RuneSelf]bool
	other       map[rune][]int // keyword indexes by other first folds
	byKey       map[string]int // keyword index by folded text, while adding
}

// add registers kw under kind; it reports false when kw is blank.
func (m *ruleMatcher) add(kw, kind string) bool {
	fields := strings.Fields(kw)
	if len(fields) == 0 {
		return false
	}
	var runes []rune
	for i, f := range fields {
		if i > 0 {
			runes = append(runes, ruleSpace)
		}
		for _, c := range f {
			runes = append(runes, ruleFold(c))
		}
	}
	key := strings.Join(fields, " ") // folds equal when keys fold equal
	key = strings.Map(ruleFold, key)
	if i, ok := m.byKey[key]; ok {
		if !slices.Contains(m.kws[i].kinds, kind) {
			m.kws[i].kinds = append(m.kws[i].kinds, kind)
		}
		return true
	}
	if m.byKey == nil {
		m.byKey = map[string]int{}
	}
	m.byKey[key] = len(m.kws)
	m.kws = append(m.kws, ruleKeyword{
		runes:     runes,
		kinds:     []string{kind},
		wordStart: ruleIsWord(runes[0]),
		wordEnd:   ruleIsWord(runes[len(runes)-1]),
	})
	return true
}

// index builds the first-rune tables once every keyword is added.
func (m *ruleMatcher) index() {
	m.byKey = nil
	order := make([]int, len(m.kws))
	for i := range order {
		order[i] = i
	}
	// Longest first, so the first keyword that matches is the longest.
	slices.SortStableFunc(order, func(a, b int) int { return len(m.kws[b].runes) - len(m.kws[a].runes) })
	for _, k := range order {
		first := m.kws[k].runes[0]
		if first < utf8.RuneSelf {
			if len(m.ascii[first]) == 0 {
				m.asciiInWord[first] = true
			}
			m.ascii[first] = append(m.ascii[first], k)
			m.asciiInWord[first] = m.asciiInWord[first] && m.kws[k].wordStart
			continue
		}
		if m.other == nil {
			m.other = map[rune][]int{}
		}
		m.other[first] = append(m.other[first], k)
	}
}

// find appends a finding per kind of every keyword match in text. Matches
// do not overlap: scanning resumes after each one.
func (m *ruleMatcher) find(dst []Finding, text string) []Finding {
	if len(m.kws) == 0 {
		return dst
	}
	prevWord := false
	for i := 0; i < len(text); {
		if b := text[i]; b < utf8.RuneSelf && (len(m.ascii[ruleASCIIFold[b]]) == 0 || prevWord && m.asciiInWord[ruleASCIIFold[b]]) {
			// Fast path: an ASCII byte no keyword can start at.
			prevWord = ruleASCIIWord[b]
			i++
			continue
		}
		c, w := ruleDecode(text, i)
		if k, end := m.matchAt(text, i, ruleFold(c), prevWord); k >= 0 {
			for _, kind := range m.kws[k].kinds {
				dst = append(dst, Finding{Kind: kind, Start: i, End: end, Score: 1})
			}
			prevWord, i = m.kws[k].wordEnd, end
			continue
		}
		prevWord = ruleIsWord(c)
		i += w
	}
	return dst
}

// matchAt returns the longest keyword starting at text[i:], whose first
// rune folds to f, and the end of its match; -1 when none matches.
func (m *ruleMatcher) matchAt(text string, i int, f rune, prevWord bool) (int, int) {
	var cands []int
	if f < utf8.RuneSelf {
		cands = m.ascii[f]
	} else if m.other != nil {
		cands = m.other[f]
	}
	for _, k := range cands {
		kw := &m.kws[k]
		if kw.wordStart && prevWord {
			continue
		}
		if end := kw.match(text, i); end >= 0 {
			return k, end
		}
	}
	return -1, 0
}

// match returns where kw ends when it matches at text[i:], else -1.
func (kw *ruleKeyword) match(text string, i int) int {
	for _, want := range kw.runes {
		if want == ruleSpace {
			start := i
			for i < len(text) {
				c, w := ruleDecode(text, i)
				if !unicode.IsSpace(c) {
					break
				}
				i += w
			}
			if i == start {
				return -1
			}
			continue
		}
		if i >= len(text) {
			return -1
		}
		c, w := ruleDecode(text, i)
		if ruleFold(c) != want {
			return -1
		}
		i += w
	}
	if kw.wordEnd && i < len(text) {
		if c, _ := ruleDecode(text, i); ruleIsWord(c) {
			return -1
		}
	}
	return i
}

// ruleDecode decodes the rune at text[i], with an ASCII fast path.
func ruleDecode(text string, i int) (rune, int) {
	if b := text[i]; b < utf8.RuneSelf {
		return rune(b), 1
	}
	return utf8.DecodeRuneInString(text[i:])
}

// ruleASCIIFold and ruleASCIIWord are ruleFold and ruleIsWord for ASCII.
var ruleASCIIFold, ruleASCIIWord = func() (f [utf8.RuneSelf]rune, w [utf8.RuneSelf]bool) {
	for c := range rune(utf8.RuneSelf) {
		f[c], w[c] = ruleFold(c), ruleIsWord(c)
	}
	return f, w
}()

// ruleFold maps c to the smallest rune of its simple case-folding orbit,
// so that two runes are equal under folding exactly when their folds are
// ("k", "K" and the Kelvin sign all fold to "K").
func ruleFold(c rune) rune {
	if c < utf8.RuneSelf {
		if 'a' <= c && c <= 'z' {
			return c - 'a' + 'A'
		}
		return c
	}
	low := c
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		low = min(low, f)
	}
	return low
}

// ruleIsWord reports whether c is part of a word: a letter, mark, digit
// or underscore.
func ruleIsWord(c rune) bool {
	if c < utf8.RuneSelf {
		return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
	}
	return unicode.In(c, unicode.L, unicode.M, unicode.N)
}
