package jsonw

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

var unquoteCases = []struct{ name, in, want string }{
	{"empty", `""`, ""},
	{"plain", `"abc"`, "abc"},
	{"long plain", `"` + strings.Repeat("abcdefgh", 4) + `"`, strings.Repeat("abcdefgh", 4)},
	{"escapes", `"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t"},
	{"unicode escapes", `"caf\u00e9 \u65E5"`, "café 日"},
	{"raw utf8", `"é中😀"`, "é中😀"},
	{"surrogate pair", `"\ud83c\udf89"`, "🎉"},
	{"another surrogate pair", `"\ud83d\ude00"`, "😀"},
	{"lone high surrogate", `"a\ud83cb"`, "a\ufffdb"},
	{"lone low surrogate", `"\udf89x"`, "\ufffdx"},
	{"high surrogate at the end", `"\ud83d"`, "\ufffd"},
	{"high then non-surrogate escape", `"\ud83c\u0041"`, "\ufffdA"},
	{"high, text, low", `"\ud83dx\ude00"`, "\ufffdx\ufffd"},
	{"escaped NUL", `"tail\u0000"`, "tail\x00"},
	{"invalid utf8", "\"bad \xff utf8\"", "bad \ufffd utf8"},
	{"invalid utf8 after an escape", "\"\\n\xff\"", "\n\ufffd"},
	{"encoded surrogate", "\"\xed\xa0\x80\"", "\ufffd\ufffd\ufffd"},
	{"DEL kept", "\"\x7f\"", "\x7f"},
}

var badLiterals = []struct{ name, in string }{
	{"nothing", ``},
	{"one quote", `"`},
	{"unquoted", `x`},
	{"unterminated", `"abc`},
	{"bad escape", `"\x"`},
	{"short unicode escape", `"\u12"`},
	{"bad hex", `"\u12g4"`},
	{"stray quote", `"a"b"`},
	{"raw control", "\"\x01\""},
	{"raw newline after an escape", "\"\\n\n\""},
	{"trailing backslash", `"\`},
	{"escaped closing quote", `"\"`},
	{"surrounding space", ` "a" `},
}

func TestUnquote(t *testing.T) {
	for _, tc := range unquoteCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Unquote([]byte(tc.in))
			if err != nil || got != tc.want {
				t.Errorf("Unquote(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			checkUnquote(t, []byte(tc.in))
		})
	}
	for _, tc := range badLiterals {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := Unquote([]byte(tc.in)); err == nil {
				t.Errorf("Unquote(%q) = %q, want an error", tc.in, got)
			}
			checkUnquote(t, []byte(tc.in))
		})
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", `model`, "model"},
		{"escaped", `mod\u0065l`, "model"},
		{"invalid utf8", "k\xff", "k\ufffd"},
		{"malformed kept", `a\x`, `a\x`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Key([]byte(tc.in)); got != tc.want {
				t.Errorf("Key(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestUnquoteAllocs(t *testing.T) {
	tests := []struct {
		name, lit string
		want      float64
	}{
		{"empty", `""`, 0},
		{"one escaped byte", `"\n"`, 0},
		{"short with escapes", `"a\tb\n"`, 1},
		{"long with escapes", `"` + strings.Repeat(`abc\n`, 40) + `"`, 1},
		{"plain", `"hello"`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, fn := range []func([]byte) (string, error){Unquote, UnquoteTrusted} {
				lit := []byte(tc.lit)
				if _, err := fn(lit); err != nil {
					t.Fatalf("%s: %v", tc.lit, err)
				}
				if got := testing.AllocsPerRun(100, func() { fn(lit) }); got != tc.want {
					t.Errorf("%s: %v allocations, want %v", tc.lit, got, tc.want)
				}
			}
		})
	}
}

// checkUnquote holds Unquote to json.Unmarshal: it accepts exactly the
// literals (with nothing around them) that json.Unmarshal accepts, with the
// same result; UnquoteTrusted agrees on those that are valid UTF-8.
func checkUnquote(t *testing.T, lit []byte) {
	t.Helper()
	got, err := Unquote(lit)
	trusted, terr := UnquoteTrusted(lit)
	var want string
	ok := json.Unmarshal(lit, &want) == nil && len(lit) >= 2 && lit[0] == '"' && lit[len(lit)-1] == '"'
	if ok != (err == nil) {
		t.Fatalf("Unquote(%q) error = %v; encoding/json accepts it: %v", lit, err, ok)
	}
	if !ok {
		return
	}
	if got != want {
		t.Fatalf("Unquote(%q) = %q, encoding/json %q", lit, got, want)
	}
	if utf8.Valid(lit) && (terr != nil || trusted != want) {
		t.Fatalf("UnquoteTrusted(%q) = %q, %v; encoding/json %q", lit, trusted, terr, want)
	}
}

// FuzzUnquote holds Unquote to encoding/json on every input, and checks that
// UnquoteTrusted agrees on valid UTF-8 literals and never panics.
func FuzzUnquote(f *testing.F) {
	for _, tc := range unquoteCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range badLiterals {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(checkUnquote)
}
