package anthropic

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestUnquote(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", `"abc"`, "abc"},
		{"escapes", `"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t"},
		{"unicode escape", `"caf\u00e9 \u65e5"`, "café 日"},
		{"surrogate pair", `"\ud83c\udf89"`, "🎉"},
		{"lone high surrogate", `"a\ud83cb"`, "a\ufffdb"},
		{"lone low surrogate", `"\udf89"`, "\ufffd"},
		{"high then non-surrogate escape", `"\ud83c\u0041"`, "\ufffdA"},
		{"raw utf8", `"日本"`, "日本"},
		{"empty", `""`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := unquote([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("unquote(%s) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	for _, bad := range []string{``, `"`, `"abc`, `"\x"`, `"\u12"`, `"\`} {
		if _, err := unquote([]byte(bad)); err == nil {
			t.Errorf("unquote(%q): no error", bad)
		}
	}
}

// FuzzUnquote checks unquote against encoding/json on every valid string
// literal, and that it never panics on anything else.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"\ud83c\udf89"`, `"\ud83c"`, `"\u00e9\n"`, `"\`, `"\u"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, lit []byte) {
		if !utf8.Valid(lit) {
			return // callers guarantee valid UTF-8
		}
		got, err := unquote(lit)
		var want string
		if json.Unmarshal(lit, &want) != nil || len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
			return // unquote takes exactly one literal, as the scanner slices it
		}
		if err != nil {
			t.Fatalf("unquote(%q) failed on a valid literal: %v", lit, err)
		}
		if got != want {
			t.Fatalf("unquote(%q) = %q, encoding/json %q", lit, got, want)
		}
	})
}
