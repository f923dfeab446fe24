package guard

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// streamTestHold is the hold the tests give the Scanner: longer than any
// finding in the test texts.
const streamTestHold = 48

// streamTestFind is a small stand-in detector: card numbers (13–19 digits
// with single spaces or dashes between digits), emails and "sk-" keys (20
// or more letters and digits). Its matches are maximal and need a non-word
// byte (or the edge of the text) on both sides, so they depend only on the
// text around them — as real detectors do.
func streamTestFind(dst []Finding, text string) []Finding {
	n := len(dst)
	dst = streamTestCards(dst, text)
	dst = streamTestKeys(dst, text)
	dst = streamTestEmails(dst, text)
	if len(dst)-n < 2 {
		return dst
	}
	found := dst[n:]
	slices.SortFunc(found, func(a, b Finding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	w := 0
	for _, f := range found {
		if w > 0 && f.Start < found[w-1].End {
			continue
		}
		found[w] = f
		w++
	}
	return dst[:n+w]
}

func streamTestDigit(c byte) bool { return '0' <= c && c <= '9' }

func streamTestAlnum(c byte) bool {
	return streamTestDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func streamTestCards(dst []Finding, text string) []Finding {
	for i := 0; i < len(text); {
		if !streamTestDigit(text[i]) {
			i++
			continue
		}
		j, digits := i, 0
		for j < len(text) {
			if streamTestDigit(text[j]) {
				j++
				digits++
				continue
			}
			if (text[j] == ' ' || text[j] == '-') && j+1 < len(text) && streamTestDigit(text[j+1]) {
				j++
				continue
			}
			break
		}
		if digits >= 13 && digits <= 19 && (i == 0 || !streamTestAlnum(text[i-1])) &&
			(j == len(text) || !streamTestAlnum(text[j])) {
			dst = append(dst, Finding{Kind: "card", Start: i, End: j, Score: 1})
		}
		i = j
	}
	return dst
}

func streamTestKeys(dst []Finding, text string) []Finding {
	for i := 0; ; {
		k := strings.Index(text[i:], "sk-")
		if k < 0 {
			return dst
		}
		k += i
		j := k + 3
		for j < len(text) && streamTestAlnum(text[j]) {
			j++
		}
		before := k == 0 || !streamTestAlnum(text[k-1]) && text[k-1] != '-' && text[k-1] != '_'
		after := j == len(text) || text[j] != '-' && text[j] != '_'
		if before && after && j-k-3 >= 20 {
			dst = append(dst, Finding{Kind: "openai_key", Start: k, End: j, Score: 1})
		}
		i = j
	}
}

func streamTestEmails(dst []Finding, text string) []Finding {
	local := func(c byte) bool { return streamTestAlnum(c) || strings.IndexByte("._%+-", c) >= 0 }
	domain := func(c byte) bool { return streamTestAlnum(c) || c == '.' || c == '-' }
	for i := 0; ; {
		k := strings.IndexByte(text[i:], '@')
		if k < 0 {
			return dst
		}
		k += i
		i = k + 1
		l := k
		for l > 0 && local(text[l-1]) {
			l--
		}
		r := k + 1
		for r < len(text) && domain(text[r]) {
			r++
		}
		for r > k+1 && (text[r-1] == '.' || text[r-1] == '-') {
			r--
		}
		dot := strings.LastIndexByte(text[k+1:r], '.')
		if l == k || dot < 1 || r-(k+1+dot+1) < 2 {
			continue
		}
		dst = append(dst, Finding{Kind: "email", Start: l, End: r, Score: 0.9})
	}
}

func TestStreamTestFind(t *testing.T) {
	text := "card 4111 1111 1111 1111, mail bob.s@example.co.uk. key sk-ABCDEFGHIJKLMNOPQRSTuv " +
		"not 1234 5678 or x4111111111111111 or sk-short or a@b or 4111-1111-1111-1111"
	got := streamTestFind(nil, text)
	var texts []string
	for _, f := range got {
		texts = append(texts, f.Kind+"="+text[f.Start:f.End])
	}
	want := []string{
		"card=4111 1111 1111 1111",
		"email=bob.s@example.co.uk",
		"openai_key=sk-ABCDEFGHIJKLMNOPQRSTuv",
		"card=4111-1111-1111-1111",
	}
	if diff := cmp.Diff(texts, want); diff != "" {
		t.Fatalf("findings (-got +want):\n%s", diff)
	}
}

// streamTestSplits calls f with every way to cut text into 2 fragments,
// and into 3 fragments.
func streamTestSplits(text string, f func(parts []string)) {
	for i := 0; i <= len(text); i++ {
		f([]string{text[:i], text[i:]})
	}
	for i := 0; i <= len(text); i++ {
		for j := i; j <= len(text); j++ {
			f([]string{text[:i], text[i:j], text[j:]})
		}
	}
}

func TestRestorerSplitPlaceholders(t *testing.T) {
	r := NewRedactor()
	orig := "Dear bob@example.com, your card 4111 1111 1111 1111 [ref 7] is on file; bob@example.com [EMAIL_9]"
	red := r.Redact(orig, streamTestFind(nil, orig))
	if want := "Dear [EMAIL_1], your card [CARD_1] [ref 7] is on file; [EMAIL_1] [EMAIL_9]"; red != want {
		t.Fatalf("Redact = %q, want %q", red, want)
	}
	streamTestSplits(red, func(parts []string) {
		s := r.NewRestorer()
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(s.Push(p))
			if len(s.held) >= r.maxLen {
				t.Fatalf("%q: holds %d bytes, placeholders are at most %d", parts, len(s.held), r.maxLen)
			}
		}
		b.WriteString(s.Flush())
		if b.String() != orig {
			t.Fatalf("%q: restored %q, want %q", parts, b.String(), orig)
		}
	})
}

func TestRestorerHoldsOnlyPossiblePlaceholders(t *testing.T) {
	r := NewRedactor()
	r.Redact("a@x.io", []Finding{{Kind: "email", Start: 0, End: 6}})
	cases := []struct {
		name, push, emit, held string
	}{
		{"plain text", "hello there", "hello there", ""},
		{"partial placeholder", "see [EMA", "see ", "[EMA"},
		{"lone bracket", "see [", "see ", "["},
		{"lower case is no placeholder", "see [ema", "see [ema", ""},
		{"too long to be one", "see [ABCDEFGHIJ", "see [ABCDEFGHIJ", ""},
		{"closed unknown", "see [EMAIL_2]", "see [EMAIL_2]", ""},
		{"complete", "see [EMAIL_1]", "see a@x.io", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := r.NewRestorer()
			if got := s.Push(tc.push); got != tc.emit {
				t.Fatalf("Push = %q, want %q", got, tc.emit)
			}
			if got := s.Flush(); got != tc.held {
				t.Fatalf("Flush = %q, want %q", got, tc.held)
			}
		})
	}
	t.Run("nothing issued holds nothing", func(t *testing.T) {
		s := NewRedactor().NewRestorer()
		if got := s.Push("see [EMA"); got != "see [EMA" {
			t.Fatalf("Push = %q", got)
		}
	})
}

func TestRestorerPlainTextDoesNotAllocate(t *testing.T) {
	r := NewRedactor()
	r.Redact("a@x.io", []Finding{{Kind: "email", Start: 0, End: 6}})
	s := r.NewRestorer()
	if n := testing.AllocsPerRun(100, func() { _ = s.Push("just some text [x] of an answer ") }); n != 0 {
		t.Fatalf("%v allocations per Push, want 0", n)
	}
}

// streamTestRun pushes parts through a fresh Scanner and returns the
// joined emitted text and findings, failing t if more than hold bytes are
// ever held.
func streamTestRun(t testing.TB, parts []string, hold int, red *Redactor) (string, []Finding) {
	t.Helper()
	s := NewScanner(streamTestFind, hold, red)
	var b strings.Builder
	var all []Finding
	for _, p := range parts {
		emit, found := s.Push(p)
		b.WriteString(emit)
		all = append(all, found...)
		if s.pending() > max(hold, 0) {
			t.Fatalf("%q: holds %d bytes, hold is %d", parts, s.pending(), hold)
		}
	}
	emit, found := s.Flush()
	b.WriteString(emit)
	return b.String(), append(all, found...)
}

var streamTestTexts = []struct{ name, text string }{
	{"card", "Your card 4111 1111 1111 1111 was charged."},
	{"card with dashes at the end", "card: 4111-1111-1111-1111"},
	{"email", "Write to bob.smith@example.com, thanks."},
	{"key", "export OPENAI_API_KEY=sk-ABCDEFGHIJKLMNOPQRST123 now"},
	{"all three", "a@b.io 4111 1111 1111 1111 sk-ABCDEFGHIJKLMNOPQRSTU a@b.io!"},
}

func TestScannerSplitFindings(t *testing.T) {
	for _, tc := range streamTestTexts {
		t.Run(tc.name, func(t *testing.T) {
			wantFound := streamTestFind(nil, tc.text)
			if len(wantFound) == 0 {
				t.Fatal("the finder finds nothing in the whole text")
			}
			wantRed := NewRedactor().Redact(tc.text, wantFound)
			streamTestSplits(tc.text, func(parts []string) {
				got, found := streamTestRun(t, parts, streamTestHold, NewRedactor())
				if got != wantRed {
					t.Fatalf("redact %q: emitted %q, want %q", parts, got, wantRed)
				}
				if diff := cmp.Diff(found, wantFound); diff != "" {
					t.Fatalf("redact %q: findings (-got +want):\n%s", parts, diff)
				}
				got, found = streamTestRun(t, parts, streamTestHold, nil)
				if got != tc.text {
					t.Fatalf("report %q: emitted %q, want the input", parts, got)
				}
				if diff := cmp.Diff(found, wantFound); diff != "" {
					t.Fatalf("report %q: findings (-got +want):\n%s", parts, diff)
				}
			})
		})
	}
}

func TestScannerHoldsASplitCard(t *testing.T) {
	s := NewScanner(streamTestFind, streamTestHold, NewRedactor())
	emit, found := s.Push("Card 4111 11")
	if emit != "Card " || found != nil {
		t.Fatalf("first Push = %q, %v; want the prose before the card only", emit, found)
	}
	emit, found = s.Push("11 1111 1111 ok")
	want := []Finding{{Kind: "card", Start: 5, End: 24, Score: 1}}
	if emit != "[CARD_1] " {
		t.Fatalf("second Push emitted %q, want %q", emit, "[CARD_1] ")
	}
	if diff := cmp.Diff(found, want); diff != "" {
		t.Fatalf("second Push findings (-got +want):\n%s", diff)
	}
	if emit, _ = s.Flush(); emit != "ok" {
		t.Fatalf("Flush = %q, want %q", emit, "ok")
	}
}

// TestScannerProseDelay measures how long prose waits: only the word
// being written.
func TestScannerProseDelay(t *testing.T) {
	prose := strings.Repeat("Hello, my friend. The weather is lovely today, isn't it? "+
		"We walked along the river and talked about books; nothing more. ", 4)
	s := NewScanner(streamTestFind, 64, nil)
	var b strings.Builder
	held, maxHeld, pushes := 0, 0, 0
	for i := 0; i < len(prose); i += 20 {
		emit, found := s.Push(prose[i:min(i+20, len(prose))])
		if found != nil {
			t.Fatalf("found %v in prose", found)
		}
		b.WriteString(emit)
		// What is held is at most the word being written and its
		// trailing full stop.
		pushed := prose[:min(i+20, len(prose))]
		word := len(pushed) - (strings.LastIndexAny(pushed, " ,;'?") + 1)
		if s.pending() != word {
			t.Fatalf("after %q: holds %d bytes, want the %d of the last word", pushed, s.pending(), word)
		}
		held += s.pending()
		maxHeld = max(maxHeld, s.pending())
		pushes++
	}
	emit, _ := s.Flush()
	b.WriteString(emit)
	if b.String() != prose {
		t.Fatal("emitted text differs from the prose")
	}
	t.Logf("prose in 20-byte fragments: %.1f bytes held on average, %d at most", float64(held)/float64(pushes), maxHeld)
	if mean := float64(held) / float64(pushes); mean > 8 || maxHeld > 9 {
		t.Fatalf("prose is delayed: %.1f bytes held on average, %d at most", mean, maxHeld)
	}
}

func TestScannerRunRule(t *testing.T) {
	cases := []struct {
		name, text, held string
	}{
		{"prose holds the last word", "Hello, my friend", "friend"},
		{"comma ends a run", "Hello, my friend,", ""},
		{"full stop may end an email", "mail a@b.co.", "a@b.co."},
		{"card groups", "pay 4111 1111 1111 11", "4111 1111 1111 11"},
		{"trailing space after a group", "pay 4111 1111 ", "4111 1111 "},
		{"double space ends a run", "pay 4111  1111", "1111"},
		{"space between words ends a run", "I have 3 cats", "cats"},
		{"iban groups", "iban GB82 WEST 1234", "GB82 WEST 1234"},
		{"phone", "call +1 (555) 123-45", "+1 (555) 123-45"},
		{"key and jwt bytes", "t=eyJh.eyJz.Sfl_-", "t=eyJh.eyJz.Sfl_-"},
		{"newline ends a run", "a\nb", "b"},
		{"capped at hold", strings.Repeat("x", 100), strings.Repeat("x", 20)},
		{"incomplete rune held", "voilà \xc3", "\xc3"},
		{"non-ASCII letters", "voilà café", "café"},
		{"non-ASCII punctuation ends a run", "好的。谢谢", "谢谢"},
		{"cap moves to a rune boundary", strings.Repeat("€", 30), strings.Repeat("€", 6)},
		{"empty", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			i := streamRunStart([]byte(tc.text), 20)
			if got := tc.text[i:]; got != tc.held {
				t.Fatalf("held %q, want %q", got, tc.held)
			}
		})
	}
	if i := streamRunStart([]byte("abc"), 0); i != 3 {
		t.Fatalf("hold 0 holds %d bytes", 3-i)
	}
}

func TestScannerHoldBound(t *testing.T) {
	text := strings.Repeat("path/to/some/file/name.ext ", 3) + strings.Repeat("a", 300) + " 4111 1111 1111 1111 " +
		strings.Repeat("9", 200) + " end"
	for _, hold := range []int{0, 1, 7, 19, 64} {
		for _, size := range []int{1, 3, 16, 50} {
			var parts []string
			for i := 0; i < len(text); i += size {
				parts = append(parts, text[i:min(i+size, len(text))])
			}
			got, _ := streamTestRun(t, parts, hold, nil) // fails on holding more than hold
			if got != text {
				t.Fatalf("hold %d, fragments of %d: emitted text differs from the input", hold, size)
			}
		}
	}
}

func TestScannerStraddlingFindingEmittedWhole(t *testing.T) {
	// A phrase detector: its findings contain a space between words,
	// which ends a run, so one can straddle the cut.
	phrase := func(dst []Finding, text string) []Finding {
		if i := strings.Index(text, "foo bar"); i >= 0 {
			dst = append(dst, Finding{Kind: "phrase", Start: i, End: i + 7})
		}
		return dst
	}
	s := NewScanner(phrase, 16, NewRedactor())
	emit, found := s.Push("xx foo bar")
	want := []Finding{{Kind: "phrase", Start: 3, End: 10}}
	if emit != "xx [PHRASE_1]" {
		t.Fatalf("Push emitted %q, want %q", emit, "xx [PHRASE_1]")
	}
	if diff := cmp.Diff(found, want); diff != "" {
		t.Fatalf("findings (-got +want):\n%s", diff)
	}
	if emit, found = s.Push("s and"); emit != "s " || found != nil {
		t.Fatalf("next Push = %q, %v; the settled finding must not come back", emit, found)
	}
}

func TestScannerOffsetsAcrossBuffers(t *testing.T) {
	// Far longer than one buffer, pushed in small fragments: offsets stay
	// relative to the whole stream.
	var b strings.Builder
	for b.Len() < 3*streamMinChunk {
		b.WriteString("Some words, then a card 4111 1111 1111 1111 and mail bob@example.com; ")
	}
	text := b.String()
	want := streamTestFind(nil, text)
	for _, size := range []int{7, 333, 5000} {
		var parts []string
		for i := 0; i < len(text); i += size {
			parts = append(parts, text[i:min(i+size, len(text))])
		}
		got, found := streamTestRun(t, parts, streamTestHold, NewRedactor())
		if diff := cmp.Diff(found, want); diff != "" {
			t.Fatalf("fragments of %d: findings (-got +want):\n%s", size, diff)
		}
		if want := NewRedactor().Redact(text, want); got != want {
			t.Fatalf("fragments of %d: redacted text differs", size)
		}
	}
}

func TestScannerEmitsWholeRunes(t *testing.T) {
	text := "Grüße aus Köln — 東京では、雨です。 Write to bob@example.com. "
	streamTestSplits(text, func(parts []string) {
		s := NewScanner(streamTestFind, streamTestHold, nil)
		for _, p := range parts {
			if emit, _ := s.Push(p); !utf8.ValidString(emit) {
				t.Fatalf("%q: emitted %q, not whole runes", parts, emit)
			}
		}
	})
}

func TestScannerFlushAndReuse(t *testing.T) {
	s := NewScanner(streamTestFind, streamTestHold, nil)
	if emit, found := s.Flush(); emit != "" || found != nil {
		t.Fatalf("Flush of nothing = %q, %v", emit, found)
	}
	s.Push("to a@b.io")
	emit, found := s.Flush()
	if emit != "a@b.io" || len(found) != 1 || found[0].Start != 3 {
		t.Fatalf("Flush = %q, %v", emit, found)
	}
	emit, found = s.Push(" c@d.io ")
	if emit != " c@d.io " || len(found) != 1 || found[0].Start != 10 {
		t.Fatalf("Push after Flush = %q, %v; offsets must continue", emit, found)
	}
}

func TestScannerNilFinder(t *testing.T) {
	s := NewScanner(nil, 8, NewRedactor())
	emit, found := s.Push("a@b.io x")
	rest, _ := s.Flush()
	if emit+rest != "a@b.io x" || found != nil {
		t.Fatalf("got %q, %v", emit+rest, found)
	}
}

func TestScannerProseDoesNotAllocate(t *testing.T) {
	prose := streamBenchProse()
	s := NewScanner(streamTestFind, 64, NewRedactor())
	// One run streams 2 KB in 100 fragments; buffers of 4 KB or more are
	// allocated about every other run.
	n := testing.AllocsPerRun(50, func() {
		for i := 0; i < len(prose); i += 20 {
			s.Push(prose[i : i+20])
		}
	})
	if n > 1 {
		t.Fatalf("%v allocations per 100 Pushes of prose, want at most 1", n)
	}
}
