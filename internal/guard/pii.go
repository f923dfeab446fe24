package guard

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// PIIOptions chooses what a PII detector looks for. The zero value looks
// for every built-in kind and nothing else.
type PIIOptions struct {
	// Kinds limits the built-in kinds (names as in Finding.Kind); empty
	// means all of them. An unknown name is an error from NewPII.
	Kinds []string
	// Patterns are custom regular expressions (Go RE2 syntax), each
	// reported with its Name as Kind. See MaxPatternSpan for how long
	// matches are treated in streams.
	Patterns []Pattern
	// Words are word lists: whole-word, case-insensitive matches of any
	// word or phrase, reported with the list's Name as Kind.
	Words []WordList
}

// Pattern is a custom regular expression.
type Pattern struct {
	// Name is the Kind of its findings; it must not be empty.
	Name string
	// Regex is the expression in Go RE2 syntax; it must not match the
	// empty string. Its matches are reported as they are (no extra word
	// boundaries).
	Regex string
}

// WordList is a list of words and phrases.
type WordList struct {
	// Name is the Kind of its findings; it must not be empty.
	Name string
	// Words are the entries, at least one. An entry must start and end
	// with a letter, digit or underscore; inside a phrase, a space
	// matches a run of white space of up to 8 bytes in the text. Han,
	// Hiragana and Katakana runes each count as a word, so entries in
	// those scripts match wherever they appear.
	Words []string
}

// The built-in kinds, in AllKinds order.
const (
	kEmail = iota
	kPhone
	kCard
	kIBAN
	kSSN
	kIPv4
	kIPv6
	kAddress
	kAWSKey
	kAWSSecret
	kGCPKey
	kOpenAIKey
	kAnthropicKey
	kGitHubToken
	kGitLabToken
	kSlackToken
	kJWT
	kPrivateKey
	numKinds
)

// kindNames are the built-in kinds' names, indexed by the constants above.
var kindNames = [numKinds]string{
	"email", "phone", "card", "iban", "ssn", "ipv4", "ipv6", "address",
	"aws_key", "aws_secret", "gcp_key", "openai_key", "anthropic_key",
	"github_token", "gitlab_token", "slack_token", "jwt", "private_key",
}

// kindSpans bound each built-in kind's findings plus the context they
// look back at, in bytes; MaxSpan is their maximum over the enabled
// kinds. jwt and private_key count their head only (see PII.MaxSpan).
var kindSpans = [numKinds]int{
	kEmail: maxEmail, kPhone: maxPhone, kCard: 40, kIBAN: 42, kSSN: 9 + ssnLookback,
	kIPv4: 15 + 8, kIPv6: maxIPv6, kAddress: maxAddress,
	kAWSKey: 20, kAWSSecret: awsLookback + 40, kGCPKey: gcpLookback + 40,
	kOpenAIKey: maxToken, kAnthropicKey: maxToken, kGitHubToken: maxToken,
	kGitLabToken: maxToken, kSlackToken: maxToken,
	kJWT: maxJWTHeader + 2, kPrivateKey: maxPEMLabel + 16,
}

// AllKinds lists the built-in kinds, PII first then secrets.
var AllKinds = slices.Clone(kindNames[:])

// PIIKinds and SecretKinds split AllKinds: personal data, and
// credentials (the config's pii and secrets detectors).
var (
	PIIKinds    = slices.Clone(kindNames[:8])
	SecretKinds = slices.Clone(kindNames[8:])
)

// MaxPatternSpan is what a custom pattern counts for in MaxSpan when its
// longest match is unbounded (*, +, {n,}) or longer than this. Find still
// reports longer matches in a whole text; a stream is only sure to catch
// matches up to this long.
const MaxPatternSpan = 256

// PII finds personal data and secrets in text: the built-in kinds plus
// custom patterns and word lists. It is safe for concurrent use.
type PII struct {
	on       [numKinds]bool
	patterns []compiledPattern
	words    wordIndex
	maxSpan  int
}

// NewPII compiles o once. It reports every problem in o, each with its
// path ("patterns[1].regex: …").
func NewPII(o PIIOptions) (*PII, error) {
	p := &PII{}
	var errs []error
	if len(o.Kinds) == 0 {
		for k := range p.on {
			p.on[k] = true
		}
	}
	for i, name := range o.Kinds {
		k := slices.Index(kindNames[:], name)
		if k < 0 {
			errs = append(errs, fmt.Errorf("kinds[%d]: unknown kind %q", i, name))
			continue
		}
		p.on[k] = true
	}
	errs = append(errs, p.compilePatterns(o.Patterns)...)
	errs = append(errs, p.compileWords(o.Words)...)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("guard: pii options: %w", err)
	}
	for k, on := range p.on {
		if on {
			p.maxSpan = max(p.maxSpan, kindSpans[k])
		}
	}
	return p, nil
}

// MaxSpan is the longest stretch of text one finding depends on: its own
// bytes plus any context it looks back at (the "SSN" word before a
// nine-digit number, the key name before an AWS secret). A custom pattern
// counts at most MaxPatternSpan. A streaming caller that holds back the
// last MaxSpan bytes sees every finding whole, with two exceptions that
// can be longer: a PEM private key and a JWT. Both are recognised by
// their head (the "-----BEGIN … PRIVATE KEY-----" line; the JWT header
// and its dot), which fits in MaxSpan, and when the text ends inside them
// they are reported up to the end of the text; so a stream sees a finding
// that reaches the end of what it holds and should keep holding from its
// Start until the finding ends before the held text does.
func (p *PII) MaxSpan() int { return p.maxSpan }

// Find appends the findings in text to dst, ordered by Start, and returns
// it. Findings do not overlap: of two that do, the longer one is kept, and
// of two as long, the higher Score. dst's existing elements are kept as
// they are.
func (p *PII) Find(dst []Finding, text string) []Finding {
	base := len(dst)
	dst = p.scan(dst, text)
	dst = p.findPatterns(dst, text)
	dst = p.findWords(dst, text)
	return resolve(dst, base)
}

// resolve sorts dst[base:] by Start and drops overlapping findings, keeping
// the longer (then higher-scored, then first) of any two that overlap.
func resolve(dst []Finding, base int) []Finding {
	fs := dst[base:]
	if len(fs) < 2 {
		return dst
	}
	slices.SortFunc(fs, func(a, b Finding) int {
		switch {
		case a.Start != b.Start:
			return a.Start - b.Start
		case a.End != b.End:
			return b.End - a.End
		case a.Score != b.Score:
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	out := 1
	for _, f := range fs[1:] {
		last := &fs[out-1]
		if f.Start >= last.End {
			fs[out] = f
			out++
			continue
		}
		if n, m := f.End-f.Start, last.End-last.Start; n > m || (n == m && f.Score > last.Score) {
			*last = f
		}
	}
	return dst[:base+out]
}

// finding builds a Finding of built-in kind k.
func finding(k, start, end int, score float64) Finding {
	return Finding{Kind: kindNames[k], Start: start, End: end, Score: score}
}

// Character classes of ASCII bytes; bytes from 0x80 up have none, so
// non-ASCII text counts as a word boundary.
const (
	cDigit = 1 << iota
	cUpper
	cLower
	cHex
	cLocal // allowed in an email's local part
	cToken // base64url: letters, digits, '-', '_'
	cB64   // standard base64: letters, digits, '+', '/'
	cWord  // letters, digits and '_'
	cAlnum = cDigit | cUpper | cLower
)

var ctype = func() (t [256]uint8) {
	for c := 0; c < 128; c++ {
		switch {
		case c >= '0' && c <= '9':
			t[c] = cDigit | cHex | cLocal | cToken | cB64
		case c >= 'A' && c <= 'Z':
			t[c] = cUpper | cLocal | cToken | cB64
		case c >= 'a' && c <= 'z':
			t[c] = cLower | cLocal | cToken | cB64
		}
		if (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') {
			t[c] |= cHex
		}
	}
	for _, c := range "._%+-" {
		t[c] |= cLocal
	}
	for c := range t {
		if t[c]&cAlnum != 0 || c == '_' {
			t[c] |= cWord
		}
	}
	t['-'] |= cToken
	t['_'] |= cToken
	t['+'] |= cB64
	t['/'] |= cB64
	return t
}()

func is(c byte, class uint8) bool { return ctype[c]&class != 0 }
func isDigit(c byte) bool         { return c-'0' < 10 }
func isAlnum(c byte) bool         { return ctype[c]&cAlnum != 0 }

// runOf returns the end of the run of class bytes in s starting at i.
func runOf(s string, i int, class uint8) int {
	for i < len(s) && ctype[s[i]]&class != 0 {
		i++
	}
	return i
}

// hasFoldPrefix reports whether s starts with the lower-case ASCII prefix,
// ignoring ASCII case.
func hasFoldPrefix(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// scan is the single pass for the built-in kinds. It stops at cheap
// triggers (word starts, '@', ':', '=', '+', '(', '-') and validates
// candidates by hand; inside a word nothing can start, so it skips words
// whole.
func (p *PII) scan(dst []Finding, s string) []Finding {
	for i := 0; i < len(s); {
		c := s[i]
		if isAlnum(c) {
			end := i + 1
			if i == 0 || !isAlnum(s[i-1]) {
				dst, end = p.atWord(dst, s, i)
			}
			i = max(runOf(s, i, cAlnum), end)
			continue
		}
		end := i + 1
		switch c {
		case '@':
			if p.on[kEmail] {
				dst, end = p.email(dst, s, i)
			}
		case ':', '=':
			dst, end = p.atAssign(dst, s, i)
		case '+':
			if p.on[kPhone] && (i == 0 || !isAlnum(s[i-1])) {
				dst, end = p.phoneIntl(dst, s, i)
			}
		case '(':
			if p.on[kPhone] {
				dst, end = p.phoneNANP(dst, s, i, i)
			}
		case '-':
			if p.on[kPrivateKey] {
				dst, end = privateKey(dst, s, i)
			}
		}
		i = max(end, i+1)
	}
	return dst
}

// atWord tries the kinds that start at the word beginning at i and
// returns the end of what it found (or i).
func (p *PII) atWord(dst []Finding, s string, i int) ([]Finding, int) {
	c := s[i]
	if isDigit(c) {
		return p.atNumber(dst, s, i)
	}
	if c >= 'A' && c <= 'Z' && p.on[kIBAN] {
		if end := iban(s, i); end > 0 {
			return append(dst, finding(kIBAN, i, end, 1)), end
		}
	}
	return p.secretAt(dst, s, i)
}

// atAssign handles ':' and '=': the context-led secrets and IPv6.
func (p *PII) atAssign(dst []Finding, s string, i int) ([]Finding, int) {
	end := i + 1
	if p.on[kAWSSecret] {
		if a, b := awsSecret(s, i); b > 0 {
			dst, end = append(dst, finding(kAWSSecret, a, b, 0.9)), b
		}
	}
	if s[i] == ':' && p.on[kGCPKey] {
		if a, b := gcpKeyID(s, i); b > 0 {
			dst, end = append(dst, finding(kGCPKey, a, b, 1)), b
		}
	}
	if s[i] == ':' && p.on[kIPv6] && end == i+1 {
		var a, b int
		if a, b, end = ipv6(s, i); b > 0 {
			dst = append(dst, finding(kIPv6, a, b, 0.95))
		}
	}
	return dst, end
}

// maxEmail is the longest address SMTP carries (RFC 5321: 254 octets).
const maxEmail = 254

// email finds an address around the '@' at at: an ASCII local part of at
// most 64 letters, digits and ._%+- (not starting or ending with a dot,
// no two dots in a row) and a domain of dot-separated labels whose last
// label (the TLD) is two or more letters.
func (p *PII) email(dst []Finding, s string, at int) ([]Finding, int) {
	start := at
	for start > 0 && is(s[start-1], cLocal) {
		if at-start == 64 {
			return dst, at + 1
		}
		start--
	}
	for start < at && s[start] == '.' {
		start++
	}
	if start == at || s[at-1] == '.' || strings.Contains(s[start:at], "..") {
		return dst, at + 1
	}
	end, tld := domain(s, at+1)
	if end == 0 || end-start > maxEmail {
		return dst, at + 1
	}
	for j := tld; j < end; j++ {
		if !is(s[j], cUpper|cLower) {
			return dst, at + 1
		}
	}
	return append(dst, finding(kEmail, start, end, 0.95)), end
}

// domain reads an email domain starting at i: two or more labels of
// letters, digits and inner hyphens (at most 63 bytes each) joined by
// dots, the last (the TLD) two or more letters, not followed by a letter,
// digit, '-' or '_'. It returns the domain's end and the TLD's start, or
// 0, 0. A dot after the domain ends the sentence, not the domain.
func domain(s string, i int) (end, tld int) {
	end, labels := i, 0
	for {
		j := end
		if labels > 0 {
			if j+1 >= len(s) || s[j] != '.' || !isAlnum(s[j+1]) {
				break
			}
			j++
		}
		e := j
		for e < len(s) && (isAlnum(s[e]) || s[e] == '-') {
			e++
		}
		if e == j || e-j > 63 || s[j] == '-' || s[e-1] == '-' {
			break
		}
		labels, tld, end = labels+1, j, e
	}
	if labels < 2 || end-tld < 2 || end-i > 253 || (end < len(s) && (is(s[end], cToken))) {
		return 0, 0
	}
	return end, tld
}

// ipv4At returns the end of a dotted-quad IPv4 address starting at i
// (octets 0–255 without leading zeros), or 0. The address must not be
// part of a longer dotted number (a version such as 1.2.3.4.5) nor follow
// the word "version".
func ipv4At(s string, i int) int {
	if i > 0 && s[i-1] == '.' {
		return 0
	}
	j := i
	for part := 0; part < 4; part++ {
		if part > 0 {
			if j >= len(s) || s[j] != '.' {
				return 0
			}
			j++
		}
		e := runOf(s, j, cDigit)
		if e == j || e-j > 3 || (e-j > 1 && s[j] == '0') {
			return 0
		}
		v := 0
		for k := j; k < e; k++ {
			v = v*10 + int(s[k]-'0')
		}
		if v > 255 {
			return 0
		}
		j = e
	}
	if j < len(s) && (isAlnum(s[j]) || (s[j] == '.' && j+1 < len(s) && isDigit(s[j+1]))) {
		return 0
	}
	if k := i - 8; k >= 0 && hasFoldPrefix(s[k:], "version ") {
		return 0
	}
	return j
}

// maxIPv6 is the longest textual IPv6 address (with an IPv4 tail).
const maxIPv6 = 45

// ipv6 checks the run of hex digits, colons and dots around the colon at
// c. It returns the address's range (b == 0 if there is none) and where
// the scan should go on.
func ipv6(s string, c int) (a, b, next int) {
	isPart := func(x byte) bool { return is(x, cHex) || x == ':' || x == '.' }
	a = c
	for a > 0 && isPart(s[a-1]) && c-a < maxIPv6 {
		a--
	}
	next = c + 1
	for next < len(s) && isPart(s[next]) && next-a <= maxIPv6 {
		next++
	}
	if (a > 0 && (isAlnum(s[a-1]) || isPart(s[a-1]))) || (next < len(s) && (isAlnum(s[next]) || isPart(s[next]))) {
		return 0, 0, next
	}
	b = next
	for b > a && s[b-1] == '.' {
		b--
	}
	if b-a >= 2 && s[b-1] == ':' && s[b-2] != ':' {
		b--
	}
	cand := s[a:b]
	if strings.Count(cand, ":") < 2 || strings.IndexFunc(cand, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
		return 0, 0, next
	}
	ip, err := netip.ParseAddr(cand)
	if err != nil || !ip.Is6() {
		return 0, 0, next
	}
	return a, b, next
}

// maxAddress bounds a street address: house number, up to four name
// words and a suffix, and a direction.
const maxAddress = 96

// address returns the end of a street address starting with the house
// number at i: 1–6 digits with an optional letter ("221B"), an optional
// direction ("N", "West"), one to four capitalised name words or
// ordinals ("5th"), a street suffix ("Street", "Ave", …) and an optional
// trailing direction ("NW"). English only; 0 when there is none.
func address(s string, i int) int {
	j := runOf(s, i, cDigit)
	if j-i > 6 {
		return 0
	}
	if j < len(s) && is(s[j], cUpper|cLower) && (j+1 == len(s) || !isAlnum(s[j+1])) {
		j++
	}
	words := 0
	for words < 6 {
		if j+1 >= len(s) || s[j] != ' ' {
			return 0
		}
		w := j + 1
		e := wordEnd(s, w)
		if e == w || (!is(s[w], cUpper) && !ordinal(s[w:e])) || e-i > maxAddress {
			return 0
		}
		if words > 0 && streetSuffix(s[w:e]) {
			if e+1 < len(s) && s[e] == ' ' {
				if d := wordEnd(s, e+1); direction(s[e+1:d]) && d-i <= maxAddress {
					return d
				}
			}
			return e
		}
		if words == 0 && direction(s[w:e]) {
			j = e
			continue
		}
		words++
		j = e
	}
	return 0
}

// wordEnd returns the end of the English word starting at i: letters and
// digits, with inner apostrophes and hyphens ("O'Neil", "Drive-thru").
func wordEnd(s string, i int) int {
	j := i
	for j < len(s) {
		if isAlnum(s[j]) {
			j++
			continue
		}
		if (s[j] == '\'' || s[j] == '-') && j > i && j+1 < len(s) && isAlnum(s[j+1]) {
			j++
			continue
		}
		break
	}
	return j
}

// ordinal reports whether w is an ordinal such as "5th" or "42nd".
func ordinal(w string) bool {
	d := runOf(w, 0, cDigit)
	if d == 0 || len(w)-d != 2 {
		return false
	}
	switch strings.ToLower(w[d:]) {
	case "st", "nd", "rd", "th":
		return true
	}
	return false
}

// direction reports whether w is a compass direction used in addresses.
func direction(w string) bool {
	switch w {
	case "N", "S", "E", "W", "NE", "NW", "SE", "SW", "North", "South", "East", "West":
		return true
	}
	return false
}

// streetSuffix reports whether w, capitalised, is an English street
// suffix or its postal abbreviation.
func streetSuffix(w string) bool {
	if len(w) < 2 || len(w) > 10 || !is(w[0], cUpper) {
		return false
	}
	var buf [10]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(w)]) {
	case "street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd",
		"lane", "ln", "drive", "dr", "court", "ct", "way", "place", "pl",
		"terrace", "ter", "circle", "cir", "parkway", "pkwy", "highway", "hwy",
		"square", "sq", "trail", "trl", "crescent", "cres", "close", "alley",
		"plaza", "row", "mews", "grove", "gardens", "hill", "walk":
		return true
	}
	return false
}
