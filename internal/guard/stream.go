package guard

import (
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Restorer restores a Redactor's placeholders in a stream of text
// fragments (a streamed answer) where a placeholder may be split across
// fragments ("[EMA" + "IL_1]"). It is not safe for concurrent use.
type Restorer struct {
	r *Redactor
	// held is a possibly partial placeholder at the end of what was
	// pushed: a '[' followed only by placeholder bytes, shorter than the
	// longest issued placeholder. Empty when nothing is held.
	held string
}

// NewRestorer returns a Restorer for r's placeholders. Placeholders that r
// issues after this call are restored too.
func (r *Redactor) NewRestorer() *Restorer { return &Restorer{r: r} }

// Push returns what can be emitted now, with placeholders restored. It
// holds back only a trailing "[..." that could still become a placeholder
// (fewer bytes than the longest placeholder issued); everything else is
// returned at once. With nothing held and nothing to restore, fragment
// itself is returned without allocating.
func (s *Restorer) Push(fragment string) string {
	buf := fragment
	if s.held != "" {
		buf, s.held = s.held+fragment, ""
	}
	if i := s.partialStart(buf); i >= 0 {
		buf, s.held = buf[:i], buf[i:]
	}
	return s.r.Restore(buf)
}

// Flush returns what is held at the end of the stream; the Restorer is
// then empty and may be reused.
func (s *Restorer) Flush() string {
	h := s.held
	s.held = ""
	return s.r.Restore(h)
}

// partialStart returns the index of a trailing possibly-partial
// placeholder in buf, or -1.
func (s *Restorer) partialStart(buf string) int {
	i := strings.LastIndexByte(buf, '[')
	if i < 0 || len(buf)-i >= s.r.maxLen {
		return -1
	}
	for k := i + 1; k < len(buf); k++ {
		if !redactPlaceholderByte(buf[k]) {
			return -1
		}
	}
	return i
}

// FindFunc finds things in a text (a detector's Find, or several
// chained): it appends findings with offsets into text to dst and returns
// it. Findings are expected sorted and non-overlapping; the Scanner
// otherwise sorts and merges them as Redactor.Redact does. text is
// immutable and may be retained.
type FindFunc func(dst []Finding, text string) []Finding

// streamLookBehind is how many already-emitted bytes the Scanner shows the
// detectors before the pending text, so that word boundaries and short
// context ("card: 4111…") read as in the whole text. Findings that start
// in this look-behind were settled earlier and are ignored.
const streamLookBehind = 32

// streamMinChunk is the smallest buffer the Scanner allocates.
const streamMinChunk = 4096

// Scanner runs response-side detectors on a stream of text fragments as
// it flows. It emits text as soon as it cannot be part of a finding that
// is still arriving, and holds back the rest — at most hold bytes.
//
// The rule for what is held: the trailing run of bytes a finding could
// contain, capped at hold bytes. A run is made of ASCII letters and
// digits, the bytes . - _ + @ : / = % ~ # ( ), non-ASCII runes other than
// spaces and punctuation (and the bytes of a rune still incomplete), and
// single spaces between two groups that end and start with a digit, an
// upper-case letter or a parenthesis ("4111 1111", "DE89 3704",
// "+1 (555) 123"); a trailing space after such a group is held too. Any
// other byte ends a run: a space between words of prose, two spaces, tabs
// and line breaks, and punctuation such as , ; ! ? ' " [ ] < > (ASCII or
// not). So prose waits only for the end of its last word, while
// cards, phone numbers, IBANs, emails, IPs, keys and JWTs are held until
// complete. Findings that contain other bytes (a PEM block spanning
// lines, multi-word phrases) are caught only within what is held or
// pushed at once.
//
// Detectors see the held text, the new fragment and up to
// streamLookBehind bytes of emitted text before them. A finding that
// starts in emitted text is ignored; one that starts before the cut and
// ends after it is settled as found and emitted whole. So a finding made
// of run bytes and no longer than hold is caught whole, as in the whole
// text (FuzzScanner checks this).
//
// Finding offsets are relative to the whole stream so far. Emitted
// strings share the Scanner's append-only buffers (never rewritten), so
// the fast path allocates only when a buffer fills. A Scanner is not safe
// for concurrent use.
type Scanner struct {
	find FindFunc
	hold int
	// redact, when not nil, replaces findings in emitted text with its
	// placeholders; when nil, emitted text is unchanged.
	redact *Redactor

	// doc holds the look-behind and the pending text of the current
	// chunk. Bytes below len(doc) are never modified: emitted strings
	// alias them. A full chunk is abandoned for a new one.
	doc []byte
	// base is the stream offset of doc[0].
	base int
	// next is the index in doc of the first byte not yet emitted.
	next int
	// fs and rel are scratch slices for the detector and for Redact.
	fs, rel []Finding
}

// NewScanner returns a Scanner that runs find (nil finds nothing) and
// holds back at most hold bytes (the longest finding the detectors can
// report, e.g. (*PII).MaxSpan(); hold <= 0 holds nothing). With redact
// not nil, emitted text has findings replaced by redact's placeholders;
// otherwise emitted text is unchanged and findings are only reported, for
// flag or block.
func NewScanner(find FindFunc, hold int, redact *Redactor) *Scanner {
	return &Scanner{find: find, hold: max(hold, 0), redact: redact}
}

// Push appends a fragment and returns the text that is safe to emit now
// (redacted when the Scanner redacts) and the findings that completed in
// it, with stream offsets of the original text. found is nil when nothing
// was found and otherwise a new slice the caller owns.
func (s *Scanner) Push(fragment string) (emit string, found []Finding) {
	s.append(fragment)
	cut := s.next + streamRunStart(s.doc[s.next:], s.hold)
	if cut == s.next {
		return "", nil
	}
	return s.cut(cut)
}

// Flush scans and returns the rest of the stream. The Scanner may be
// pushed to again afterwards; offsets continue.
func (s *Scanner) Flush() (emit string, found []Finding) {
	if s.next == len(s.doc) {
		return "", nil
	}
	return s.cut(len(s.doc))
}

// pending is how many pushed bytes are held back.
func (s *Scanner) pending() int { return len(s.doc) - s.next }

// append adds fragment to doc, moving the look-behind and the pending
// text to a new chunk when doc is full.
func (s *Scanner) append(fragment string) {
	if len(fragment) > cap(s.doc)-len(s.doc) {
		keep := max(s.next-streamLookBehind, 0)
		n := len(s.doc) - keep
		chunk := make([]byte, n, max(streamMinChunk, 2*(n+len(fragment))))
		copy(chunk, s.doc[keep:])
		s.doc, s.base, s.next = chunk, s.base+keep, s.next-keep
	}
	s.doc = append(s.doc, fragment...)
}

// cut runs the detectors and emits doc[next:cut], extended to the end of
// a finding that straddles cut.
func (s *Scanner) cut(cut int) (emit string, found []Finding) {
	ws := max(s.next-streamLookBehind, 0)
	for ws < s.next && !utf8.RuneStart(s.doc[ws]) {
		ws++
	}
	window := streamString(s.doc[ws:])
	var fs []Finding
	if s.find != nil {
		fs = s.find(s.fs[:0], window)
		s.fs = fs[:0]
		fs = redactNormalize(fs, len(window))
	}
	from, to := s.next-ws, cut-ws
	lo, hi := 0, 0
	for i, f := range fs {
		if f.Start < from {
			lo = i + 1
			continue
		}
		if f.Start >= to {
			break
		}
		to = max(to, f.End)
		hi = i + 1
	}
	emit = window[from:to]
	s.next = ws + to
	if hi <= lo {
		return emit, nil
	}
	return s.settle(emit, fs[lo:hi], ws, from)
}

// settle reports the accepted findings fs (offsets into the window that
// starts at doc[ws]; emit starts at window offset from) and redacts emit
// when the Scanner redacts.
func (s *Scanner) settle(emit string, fs []Finding, ws, from int) (string, []Finding) {
	found := make([]Finding, len(fs))
	s.rel = s.rel[:0]
	for i, f := range fs {
		found[i] = Finding{Kind: f.Kind, Start: s.base + ws + f.Start, End: s.base + ws + f.End, Score: f.Score}
		f.Start, f.End = f.Start-from, f.End-from
		s.rel = append(s.rel, f)
	}
	if s.redact != nil {
		emit = s.redact.Redact(emit, s.rel)
	}
	return emit, found
}

// streamString views b as a string without copying; b must never be
// modified afterwards.
func streamString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// streamRunBytes marks the ASCII bytes a finding can contain.
var streamRunBytes = func() (t [utf8.RuneSelf]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range ".-_+@:/=%~#()" {
		t[c] = true
	}
	return t
}()

// streamGroupEnd and streamGroupStart report whether c can end or start
// a group on either side of a single space inside a run.
func streamGroupEnd(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || c == ')'
}

func streamGroupStart(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || c == '('
}

// streamRunStart returns where the held tail of p starts: the start of the
// trailing run (see Scanner), but no more than hold bytes from the end
// and on a rune boundary.
func streamRunStart(p []byte, hold int) int {
	lo := max(len(p)-hold, 0)
	i := len(p)
	for i > lo {
		c := p[i-1]
		if c < utf8.RuneSelf {
			if streamRunBytes[c] || c == ' ' && i >= 2 && streamGroupEnd(p[i-2]) &&
				(i == len(p) || streamGroupStart(p[i])) {
				i--
				continue
			}
			break
		}
		r, size := utf8.DecodeLastRune(p[:i])
		if size > 1 && (unicode.IsSpace(r) || unicode.IsPunct(r)) {
			break
		}
		i -= size
	}
	if i <= lo {
		i = lo
		for i < len(p) && !utf8.RuneStart(p[i]) {
			i++
		}
	}
	return i
}
