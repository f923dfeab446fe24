package jsonw

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

var stringCases = []struct{ name, in, want string }{
	{"empty", "", `""`},
	{"plain", "hello", `"hello"`},
	{"long plain", strings.Repeat("abcdefgh", 5) + "xyz", `"` + strings.Repeat("abcdefgh", 5) + `xyz"`},
	{"quotes and backslash", `a"b\c`, `"a\"b\\c"`},
	{"named controls", "a\nb\rc\td\be\f", `"a\nb\rc\td\be\f"`},
	{"mixed controls", "a\nb\rc\td\x00e\x1f", `"a\nb\rc\td\u0000e\u001f"`},
	{"other controls", "\x00x\x1f\x7f", `"\u0000x\u001f` + "\x7f" + `"`},
	{"escape after a plain word", "12345678\n12345678\"", `"12345678\n12345678\""`},
	{"html kept", "<a href='x'>&</a>", `"<a href='x'>&</a>"`},
	{"unicode kept", "héllo — 日本 🎉", `"héllo — 日本 🎉"`},
	{"line separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
	{"invalid utf8", "a\xffb\xc3", `"a\ufffdb\ufffd"`},
	{"truncated rune", "\xe6\x97", `"\ufffd\ufffd"`},
	{"encoded surrogate", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
}

func TestAppendString(t *testing.T) {
	for _, tc := range stringCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendString([]byte("x"), tc.in)); got != "x"+tc.want {
				t.Errorf("AppendString(%q) = %s, want x%s", tc.in, got, tc.want)
			}
			checkAppendString(t, tc.in)
		})
	}
}

func TestAppendEscaped(t *testing.T) {
	got := string(AppendEscaped([]byte(`"data:`), "a\"b\n"))
	if want := `"data:a\"b\n`; got != want {
		t.Errorf("AppendEscaped = %s, want %s", got, want)
	}
}

// replaceInvalid is s with every byte that does not start valid UTF-8
// replaced by U+FFFD: what encoding/json decodes AppendString's output to.
func replaceInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// checkAppendString holds AppendString to encoding/json: the same bytes as
// an Encoder without HTML escaping, and a literal that decodes back to s
// (invalid UTF-8 replaced) with no raw line break in it.
func checkAppendString(t *testing.T, s string) {
	t.Helper()
	out := AppendString(nil, s)
	var ref bytes.Buffer
	enc := json.NewEncoder(&ref)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	if want := bytes.TrimSuffix(ref.Bytes(), []byte("\n")); !bytes.Equal(out, want) {
		t.Fatalf("AppendString(%q) = %s, encoding/json writes %s", s, out, want)
	}
	var back string
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("AppendString(%q) = %s: not a JSON string: %v", s, out, err)
	}
	if want := replaceInvalid(s); back != want {
		t.Fatalf("AppendString(%q) decodes to %q, want %q", s, back, want)
	}
	if !utf8.Valid(out) || bytes.ContainsAny(out, "\n\r\u2028\u2029") {
		t.Fatalf("AppendString(%q) = %q is not valid UTF-8 on one line", s, out)
	}
	if got, err := Unquote(out); err != nil || got != back {
		t.Fatalf("Unquote(%s) = %q, %v; encoding/json says %q", out, got, err, back)
	}
}

// FuzzAppendString holds AppendString to encoding/json for any input,
// valid UTF-8 or not.
func FuzzAppendString(f *testing.F) {
	for _, tc := range stringCases {
		f.Add(tc.in)
	}
	f.Fuzz(checkAppendString)
}
