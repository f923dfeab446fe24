package guard

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzPII is a detector with every built-in kind, a custom pattern and a
// word list, so the fuzzer exercises all three sources and their overlap.
func fuzzPII(t testing.TB) *PII {
	t.Helper()
	p, err := NewPII(PIIOptions{
		Patterns: []Pattern{{Name: "ticket", Regex: `(?i)\bT-\d{3,8}\b`}},
		Words:    []WordList{{Name: "names", Words: []string{"Jane Doe", "Zoë", "张伟", "Main Street"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzFind checks that Find never panics and that its findings lie inside
// the text, are sorted and do not overlap; that built-in findings other
// than jwt and private_key fit in MaxSpan; and that appending to a
// non-empty dst leaves it alone and adds the same findings.
func FuzzFind(f *testing.F) {
	for _, tc := range allCases() {
		f.Add(tc.text)
	}
	f.Add(strings.Join([]string{emailCases[0].text, phoneCases[0].text, cardCases[1].text, secretCases()[0].text}, " "))
	f.Add("+1 (415) 555-0132 T-1234 Jane  Doe 2001:db8::1 eyJhbGciOiJIUzI1NiJ9.")
	p := fuzzPII(f)
	f.Fuzz(func(t *testing.T, text string) {
		fs := p.Find(nil, text)
		checkFindings(t, text, fs)
		for _, x := range fs {
			if x.Kind != "jwt" && x.Kind != "private_key" && x.Kind != "ticket" && x.End-x.Start > p.MaxSpan() {
				t.Fatalf("finding %v longer than MaxSpan %d", x, p.MaxSpan())
			}
		}
		prior := Finding{Kind: "prior", Start: 1, End: 2, Score: 1}
		again := p.Find([]Finding{prior}, text)
		if len(again) != len(fs)+1 || again[0] != prior {
			t.Fatalf("Find with a non-empty dst gave %v, want %v after %v", again, fs, prior)
		}
		for i := range fs {
			if again[i+1] != fs[i] {
				t.Fatalf("Find with a non-empty dst gave %v, want %v", again[i+1], fs[i])
			}
		}
	})
}

// FuzzWordEntry checks that any entry NewPII accepts is found, exactly,
// in a text that holds it between spaces.
func FuzzWordEntry(f *testing.F) {
	for _, w := range []string{"Jane Doe", "e-mail", "Zoë", "张伟", "secret_sauce", "İstanbul", "a  b\tc"} {
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		if !utf8.ValidString(entry) {
			return
		}
		p, err := NewPII(PIIOptions{Kinds: []string{"email"}, Words: []WordList{{Name: "w", Words: []string{entry}}}})
		if err != nil {
			return
		}
		item := strings.Join(strings.Fields(entry), " ")
		text := "x " + item + " y"
		fs := p.Find(nil, text)
		checkFindings(t, text, fs)
		for _, x := range fs {
			if x.Kind == "w" && x.Start == 2 && x.End == 2+len(item) {
				return
			}
		}
		t.Fatalf("entry %q not found in %q: %v", entry, text, fs)
	})
}

// FuzzDecodeBase64URL compares decodeBase64URL with encoding/base64's
// strict unpadded URL decoder.
func FuzzDecodeBase64URL(f *testing.F) {
	for _, s := range []string{"", "Zg", "Zm8", "Zm9v", "eyJhbGciOiJIUzI1NiJ9", "Zh", "a", "ab+c", "_-_-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "\r\n") { // encoding/base64 skips these
			return
		}
		want, werr := base64.RawURLEncoding.Strict().DecodeString(s)
		buf := make([]byte, len(s)*3/4)
		n, ok := decodeBase64URL(buf, s)
		if ok != (werr == nil) || (ok && string(buf[:n]) != string(want)) {
			t.Fatalf("decodeBase64URL(%q) = %q, %v; encoding/base64 gives %q, %v", s, buf[:n], ok, want, werr)
		}
	})
}
