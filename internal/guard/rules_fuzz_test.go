package guard

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// rulesFuzzOptions is the rule set FuzzRulesFind checks texts against.
var rulesFuzzOptions = RulesOptions{
	Deny:     []string{`\d{3}-\d{4}`, `(?i)ignore (all )?previous`},
	Allow:    []string{`^(?i)translate`},
	Keywords: []string{"class", "credit card", "café", "c++", ".env", "kill", "straße", "a b c"},
	Topics:   map[string][]string{"weapons": {"bomb", "rifle", "kill"}},
}

// rulesFuzzSpace is what a space inside a keyword matches: the runes
// unicode.IsSpace accepts.
const rulesFuzzSpace = `[\t\n\v\f\r \x{85}\p{Z}]+`

// rulesKeywordRegexp is an independent matcher of one keyword (without
// its word boundaries): case-insensitive, spaces matching whitespace runs.
func rulesKeywordRegexp(kw string) *regexp.Regexp {
	parts := strings.Fields(kw)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`(?i)` + strings.Join(parts, rulesFuzzSpace))
}

// rulesBoundaryOK reports whether text[start:end] stands as whole words.
func rulesBoundaryOK(text string, start, end int) bool {
	if first, _ := utf8.DecodeRuneInString(text[start:]); ruleIsWord(first) && start > 0 {
		if prev, _ := utf8.DecodeLastRuneInString(text[:start]); ruleIsWord(prev) {
			return false
		}
	}
	if last, _ := utf8.DecodeLastRuneInString(text[:end]); ruleIsWord(last) && end < len(text) {
		if next, _ := utf8.DecodeRuneInString(text[end:]); ruleIsWord(next) {
			return false
		}
	}
	return true
}

func FuzzRulesFind(f *testing.F) {
	for _, tc := range rulesFindCases {
		f.Add(tc.text)
	}
	f.Add("Translate: my CREDIT\u00a0CARD 555-1234, kill\u212a class")
	r, err := NewRules(rulesFuzzOptions)
	if err != nil {
		f.Fatal(err)
	}
	keywords := append(slices.Clone(rulesFuzzOptions.Keywords), rulesFuzzOptions.Topics["weapons"]...)
	refs := make([]*regexp.Regexp, len(keywords))
	exact := make([]*regexp.Regexp, len(keywords))
	for i, kw := range keywords {
		refs[i] = rulesKeywordRegexp(kw)
		exact[i] = regexp.MustCompile(`^(?:` + refs[i].String() + `)$`)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := r.Find(nil, text)
		var deny, words []Finding
		notAllowed := 0
		for _, fd := range got {
			if fd.Start < 0 || fd.Start > fd.End || fd.End > len(text) || fd.Score != 1 {
				t.Fatalf("bad finding %v in %d bytes", fd, len(text))
			}
			switch {
			case fd.Kind == KindDeny:
				deny = append(deny, fd)
			case fd.Kind == KindNotAllowed:
				notAllowed++
			default:
				words = append(words, fd)
			}
		}
		rulesFuzzCheckRegex(t, r, text, deny, notAllowed)
		rulesFuzzCheckWords(t, text, words, refs, exact)
	})
}

// rulesFuzzCheckRegex checks deny findings against the regexes and the
// not_allowed finding against the allow rule.
func rulesFuzzCheckRegex(t *testing.T, r *Rules, text string, deny []Finding, notAllowed int) {
	var want []Finding
	for _, re := range r.deny {
		for _, m := range re.FindAllStringIndex(text, -1) {
			if m[1] > m[0] {
				want = append(want, Finding{Kind: KindDeny, Start: m[0], End: m[1], Score: 1})
			}
		}
	}
	if !slices.Equal(deny, want) {
		t.Fatalf("deny findings %v, want %v", deny, want)
	}
	if allowed := r.allow[0].MatchString(text); allowed == (notAllowed == 1) || notAllowed > 1 {
		t.Fatalf("allowed = %v but %d not_allowed findings", allowed, notAllowed)
	}
}

// rulesFuzzCheckWords checks keyword and topic findings: each is a whole
// word match of some keyword, they do not overlap, and every whole-word
// match the reference regexps see overlaps one of them.
func rulesFuzzCheckWords(t *testing.T, text string, words []Finding, refs, exact []*regexp.Regexp) {
	for i, fd := range words {
		if fd.Kind != KindKeyword && !strings.HasPrefix(fd.Kind, KindTopicPrefix) {
			t.Fatalf("unexpected kind %q", fd.Kind)
		}
		if i > 0 && fd.Start < words[i-1].End && fd.Start != words[i-1].Start {
			t.Fatalf("overlapping findings %v and %v", words[i-1], fd)
		}
		span := text[fd.Start:fd.End]
		if !slices.ContainsFunc(exact, func(re *regexp.Regexp) bool { return re.MatchString(span) }) {
			t.Fatalf("finding %v = %q matches no keyword", fd, span)
		}
		if !rulesBoundaryOK(text, fd.Start, fd.End) {
			t.Fatalf("finding %v = %q is not a whole word", fd, span)
		}
	}
	for _, re := range refs {
		for _, m := range re.FindAllStringIndex(text, -1) {
			if !rulesBoundaryOK(text, m[0], m[1]) {
				continue
			}
			if !slices.ContainsFunc(words, func(fd Finding) bool { return fd.Start < m[1] && m[0] < fd.End }) {
				t.Fatalf("whole-word match %q at %v found by %s is missing from %v", text[m[0]:m[1]], m, re, words)
			}
		}
	}
}
