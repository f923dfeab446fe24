package mock

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// replaceInvalid is s with every invalid byte replaced by U+FFFD, which is
// what encoding/json decodes appendString's output to.
func replaceInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

func checkAppendString(t *testing.T, s string) {
	t.Helper()
	out := appendString(nil, s)
	var back string
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("appendString(%q) = %s: not a JSON string: %v", s, out, err)
	}
	if want := replaceInvalid(s); back != want {
		t.Errorf("appendString(%q) decodes to %q, want %q", s, back, want)
	}
	if fast, err := decodeString(out); err != nil || fast != back {
		t.Errorf("decodeString(%s) = %q, %v; encoding/json says %q", out, fast, err, back)
	}
	for _, c := range out {
		if c < 0x20 {
			t.Fatalf("appendString(%q) = %q holds a raw control byte", s, out)
		}
	}
	if strings.ContainsRune(string(out), '\u2028') || strings.ContainsRune(string(out), '\u2029') {
		t.Errorf("appendString(%q) = %q holds a raw line separator", s, out)
	}
}

var stringCases = []struct{ name, in, want string }{
	{"empty", "", `""`},
	{"plain", "hello", `"hello"`},
	{"quotes and backslash", `a"b\c`, `"a\"b\\c"`},
	{"newlines and tabs", "a\nb\r\tc", `"a\nb\r\tc"`},
	{"other controls", "\x00\x1f", `"\u0000\u001f"`},
	{"unicode kept", "héllo ✓ 日本", `"héllo ✓ 日本"`},
	{"invalid utf-8", "a\xffb", `"a\ufffdb"`},
	{"line separators", "a\u2028b\u2029", `"a\u2028b\u2029"`},
	{"html not escaped", "<a&b>", `"<a&b>"`},
}

func TestAppendString(t *testing.T) {
	for _, tc := range stringCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendString(nil, tc.in)); got != tc.want {
				t.Errorf("appendString(%q) = %s, want %s", tc.in, got, tc.want)
			}
			checkAppendString(t, tc.in)
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, tc := range stringCases {
		f.Add(tc.in)
	}
	f.Fuzz(checkAppendString)
}

func checkPieces(t *testing.T, s string, n int) {
	t.Helper()
	got := pieces(s, n)
	if strings.Join(got, "") != s {
		t.Fatalf("pieces(%q, %d) = %q do not join back", s, n, got)
	}
	runes := utf8.RuneCountInString(s)
	if want := max(1, min(n, runes)); len(got) != want {
		t.Errorf("pieces(%q, %d): %d pieces, want %d", s, n, len(got), want)
	}
	lo, hi := runes, 0
	for _, p := range got {
		c := utf8.RuneCountInString(p)
		lo, hi = min(lo, c), max(hi, c)
		if utf8.ValidString(s) && !utf8.ValidString(p) {
			t.Errorf("pieces(%q, %d): piece %q cuts a rune", s, n, p)
		}
	}
	if len(got) > 1 && hi-lo > 1 {
		t.Errorf("pieces(%q, %d) = %q: sizes differ by more than one rune", s, n, got)
	}
}

var pieceCases = []struct {
	name string
	in   string
	n    int
	want []string
}{
	{"even", "abcdef", 3, []string{"ab", "cd", "ef"}},
	{"uneven", "abcdefg", 3, []string{"abc", "de", "fg"}},
	{"fewer runes than pieces", "ab", 5, []string{"a", "b"}},
	{"one piece", "abc", 1, []string{"abc"}},
	{"empty", "", 4, []string{""}},
	{"multibyte", "日本語です", 2, []string{"日本語", "です"}},
}

func TestPieces(t *testing.T) {
	for _, tc := range pieceCases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, pieces(tc.in, tc.n)); diff != "" {
				t.Errorf("pieces(%q, %d) (-want +got):\n%s", tc.in, tc.n, diff)
			}
			checkPieces(t, tc.in, tc.n)
		})
	}
}

func FuzzPieces(f *testing.F) {
	for _, tc := range pieceCases {
		f.Add(tc.in, tc.n)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		checkPieces(t, s, min(max(n, 0), 64))
	})
}
