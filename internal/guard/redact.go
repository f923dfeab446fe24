package guard

import (
	"slices"
	"strconv"
	"strings"
)

// Redactor replaces findings with placeholders such as "[EMAIL_1]" and can
// put the originals back. One Redactor serves one request: its mapping
// lives only in memory, for that request, and is never logged. It is not
// safe for concurrent use.
//
// The zero Redactor is not ready for use; call NewRedactor.
type Redactor struct {
	// byValue maps an original value to its placeholder. It is keyed by
	// the value alone, so a value keeps its first placeholder whatever
	// kind later reports it.
	byValue map[string]string
	// byPlaceholder maps each issued placeholder back to its value.
	byPlaceholder map[string]string
	// counts is how many placeholders each label ("EMAIL") has issued.
	counts map[string]int
	// maxLen is the length of the longest issued placeholder; 0 when
	// none was issued.
	maxLen int
}

// NewRedactor returns an empty Redactor.
func NewRedactor() *Redactor {
	return &Redactor{
		byValue:       make(map[string]string),
		byPlaceholder: make(map[string]string),
		counts:        make(map[string]int),
	}
}

// Redact returns text with each finding replaced by a placeholder
// "[KIND_N]": KIND is the finding's Kind upper-cased with every rune other
// than an ASCII letter or digit written as '_' ("REDACTED" for an empty
// Kind), and N counts the distinct values of that KIND from 1, in order of
// first appearance across every call on this Redactor. The same value
// always gets the same placeholder, so a conversation that repeats an
// email keeps one placeholder.
//
// Findings are expected sorted and non-overlapping, as detectors return
// them; otherwise Redact works on a sorted copy in which overlapping
// findings are merged (the first one's Kind names the union) and ranges
// are clipped to the text, so no byte of any finding is left in clear.
// With no findings, text is returned as is without allocating.
func (r *Redactor) Redact(text string, fs []Finding) string {
	if len(fs) == 0 {
		return text
	}
	fs = redactNormalize(fs, len(text))
	if len(fs) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 8*len(fs))
	prev := 0
	for _, f := range fs {
		b.WriteString(text[prev:f.Start])
		b.WriteString(r.placeholder(f.Kind, text[f.Start:f.End]))
		prev = f.End
	}
	b.WriteString(text[prev:])
	return b.String()
}

// Len is how many distinct values were replaced.
func (r *Redactor) Len() int { return len(r.byValue) }

// Restore replaces every placeholder this Redactor issued with its
// original value. Other bracketed text, including placeholders of the
// right shape that this Redactor did not issue ("[EMAIL_9]"), is left
// alone; matching is exact (case-sensitive). Restored values are not
// scanned again. When nothing is replaced, text is returned as is without
// allocating.
func (r *Redactor) Restore(text string) string {
	if r.maxLen == 0 {
		return text
	}
	var b strings.Builder
	last, i := 0, 0
	for {
		j := strings.IndexByte(text[i:], '[')
		if j < 0 {
			break
		}
		j += i
		if end := r.placeholderAt(text, j); end > 0 {
			if last == 0 {
				b.Grow(len(text))
			}
			b.WriteString(text[last:j])
			b.WriteString(r.byPlaceholder[text[j:end]])
			last, i = end, end
			continue
		}
		i = j + 1
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// placeholderAt reports the end of the issued placeholder that starts at
// text[j] (a '['), or 0 when none does.
func (r *Redactor) placeholderAt(text string, j int) int {
	limit := min(len(text), j+r.maxLen)
	k := strings.IndexByte(text[j+1:limit], ']')
	if k < 0 {
		return 0
	}
	end := j + 1 + k + 1
	if _, ok := r.byPlaceholder[text[j:end]]; !ok {
		return 0
	}
	return end
}

// placeholder returns value's placeholder, issuing one under kind's label
// when value is new.
func (r *Redactor) placeholder(kind, value string) string {
	if p, ok := r.byValue[value]; ok {
		return p
	}
	label := redactLabel(kind)
	r.counts[label]++
	p := "[" + label + "_" + strconv.Itoa(r.counts[label]) + "]"
	// Clone so the mapping does not pin the caller's whole text.
	v := strings.Clone(value)
	r.byValue[v] = p
	r.byPlaceholder[p] = v
	r.maxLen = max(r.maxLen, len(p))
	return p
}

// redactLabel turns a Kind into a placeholder label: "openai_key" →
// "OPENAI_KEY", "topic:weather" → "TOPIC_WEATHER".
func redactLabel(kind string) string {
	if kind == "" {
		return "REDACTED"
	}
	var b strings.Builder
	b.Grow(len(kind))
	for _, c := range kind {
		switch {
		case 'a' <= c && c <= 'z':
			b.WriteByte(byte(c) - 'a' + 'A')
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			b.WriteByte(byte(c))
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// redactPlaceholderByte reports whether c can appear between a
// placeholder's brackets.
func redactPlaceholderByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// redactNormalize returns fs when its findings are sorted,
// non-overlapping, non-empty and within a text of n bytes (the common
// case, no allocation); otherwise a sorted copy with ranges clipped to
// [0, n), empty ones dropped and overlapping ones merged.
func redactNormalize(fs []Finding, n int) []Finding {
	prev, clean := 0, true
	for _, f := range fs {
		if f.Start < prev || f.Start >= f.End || f.End > n {
			clean = false
			break
		}
		prev = f.End
	}
	if clean {
		return fs
	}
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		f.Start, f.End = max(f.Start, 0), min(f.End, n)
		if f.Start < f.End {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Start - b.Start })
	w := 0
	for _, f := range out {
		if w > 0 && f.Start < out[w-1].End {
			m := &out[w-1]
			m.End = max(m.End, f.End)
			m.Score = max(m.Score, f.Score)
			continue
		}
		out[w] = f
		w++
	}
	return out[:w]
}

// Reapply replaces every value this Redactor has redacted, wherever it
// appears in text, with its placeholder — for a copy of the request or
// answer (a logged payload, say) that was not redacted itself. Longer
// values are replaced first, so a value inside another does not split it.
func (r *Redactor) Reapply(text string) string {
	if len(r.byValue) == 0 {
		return text
	}
	pairs := make([]string, 0, 2*len(r.byValue))
	values := make([]string, 0, len(r.byValue))
	for v := range r.byValue {
		if v != "" {
			values = append(values, v)
		}
	}
	slices.SortFunc(values, func(a, b string) int { return len(b) - len(a) })
	for _, v := range values {
		pairs = append(pairs, v, r.byValue[v])
	}
	return strings.NewReplacer(pairs...).Replace(text)
}
