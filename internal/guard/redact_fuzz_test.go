package guard

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// streamFuzzParts cuts text into fragments whose lengths come from cuts
// (0 to 23 bytes each); what is left after the last cut is one fragment.
func streamFuzzParts(text string, cuts []byte) []string {
	var parts []string
	for _, c := range cuts {
		n := min(int(c)%24, len(text))
		parts = append(parts, text[:n])
		text = text[n:]
	}
	return append(parts, text)
}

// streamLongRun reports whether the Scanner could ever see a run longer
// than hold in text, the one case in which it may cut inside a run and so
// miss or shorten a finding.
func streamLongRun(text string, hold int) bool {
	b := []byte(text)
	for k := 1; k <= len(b); k++ {
		if k-streamRunStart(b[:k], k) > hold {
			return true
		}
	}
	return false
}

func FuzzScanner(f *testing.F) {
	for _, tc := range streamTestTexts {
		f.Add(tc.text, []byte{3, 9, 1, 17}, uint8(40))
		f.Add(tc.text, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8}, uint8(0))
	}
	f.Add("Hello, my friend. a@b.io", []byte{20}, uint8(10))
	f.Add(strings.Repeat("4111 ", 10)+"x", []byte{7, 7, 7}, uint8(3))
	f.Add("Grüße — 東京。 x@y.zz 4111-1111-1111-1111", []byte{5, 11, 2, 19}, uint8(30))
	f.Fuzz(func(t *testing.T, text string, cuts []byte, h uint8) {
		if len(text) > 2048 {
			return
		}
		hold := 8 + int(h)%64
		parts := streamFuzzParts(text, cuts)
		got, found := streamTestRun(t, parts, hold, nil) // fails on holding more than hold
		if got != text {
			t.Fatalf("report mode emitted %q, want the input %q", got, text)
		}
		prev := 0
		for _, f := range found {
			if f.Start < prev || f.End <= f.Start || f.End > len(text) {
				t.Fatalf("findings out of order or out of range: %v", found)
			}
			prev = f.End
		}
		red, redFound := streamTestRun(t, parts, hold, NewRedactor())
		if diff := cmp.Diff(redFound, found); diff != "" {
			t.Fatalf("redact and report modes found differently (-redact +report):\n%s", diff)
		}
		if streamLongRun(text, hold) {
			return // a cut inside a run: findings longer than hold may be missed
		}
		want := streamTestFind(nil, text)
		if diff := cmp.Diff(found, want); diff != "" {
			t.Fatalf("%q: findings (-got +want):\n%s", parts, diff)
		}
		if wantRed := NewRedactor().Redact(text, want); red != wantRed {
			t.Fatalf("%q: redacted %q, want %q", parts, red, wantRed)
		}
	})
}

func FuzzRestorer(f *testing.F) {
	issue := "a@b.io 4111 1111 1111 1111 sk-ABCDEFGHIJKLMNOPQRSTU c@d.io"
	f.Add("[EMAIL_1] and [CARD_1] [OPENAI_KEY_1] [EMAIL_2] [EMAIL_3]", []byte{4, 1, 9})
	f.Add("[[EMAIL_1]] [EMAIL_1 [CARD_] [", []byte{1, 1, 1, 1, 1, 1, 1, 1})
	f.Add("plain text", []byte{3})
	f.Fuzz(func(t *testing.T, text string, cuts []byte) {
		r := NewRedactor()
		r.Redact(issue, streamTestFind(nil, issue))
		want := r.Restore(text)
		s := r.NewRestorer()
		var b strings.Builder
		for _, p := range streamFuzzParts(text, cuts) {
			b.WriteString(s.Push(p))
			if len(s.held) >= r.maxLen {
				t.Fatalf("holds %d bytes, placeholders are at most %d", len(s.held), r.maxLen)
			}
		}
		b.WriteString(s.Flush())
		if b.String() != want {
			t.Fatalf("streamed %q, want %q", b.String(), want)
		}
	})
}

func FuzzRedact(f *testing.F) {
	f.Add("mail bob@example.com twice bob@example.com", []byte{5, 15, 27, 15})
	f.Add("0123456789", []byte{8, 5, 2, 5, 0, 0, 200, 9})
	f.Add("[EMAIL_1] x", []byte{10, 1})
	f.Fuzz(func(t *testing.T, text string, spans []byte) {
		var fs []Finding
		kinds := []string{"email", "card", "topic:x", ""}
		for i := 0; i+1 < len(spans); i += 2 {
			start := int(spans[i]) - 8 // some start before the text
			fs = append(fs, Finding{Kind: kinds[i/2%len(kinds)], Start: start, End: start + int(spans[i+1])%32})
		}
		r := NewRedactor()
		red := r.Redact(text, fs)
		if again := r.Redact(text, fs); again != red {
			t.Fatalf("second Redact = %q, first %q: placeholders must be stable", again, red)
		}
		if len(fs) == 0 && red != text {
			t.Fatalf("Redact without findings changed the text")
		}
		if strings.IndexByte(text, '[') >= 0 {
			return // the text may hold an issued placeholder of its own
		}
		if back := r.Restore(red); back != text {
			t.Fatalf("Restore(Redact) = %q, want %q", back, text)
		}
	})
}
