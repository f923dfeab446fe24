package mock

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

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
