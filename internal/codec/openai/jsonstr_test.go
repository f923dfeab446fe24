package openai

import (
	"encoding/json"
	"testing"
)

func TestUnquote(t *testing.T) {
	for _, lit := range []string{
		`""`, `"plain"`, `"é中😀"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9\u4E2D"`,
		`"\ud83d\ude00"`, `"\ud83d"`, `"\ude00x"`, `"\ud83d\u0041"`, `"\ud83dx\ude00"`,
		"\"bad \xff utf8\"", "\"\xed\xa0\x80\"", `"tail\u0000"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		got, err := unquote([]byte(lit))
		if err != nil || got != want {
			t.Errorf("unquote(%s) = %q, %v; want %q", lit, got, err, want)
		}
	}
	for _, bad := range []string{`"`, `x`, `"\x"`, `"\u12"`, `"a"b"`, "\"\x01\"", `"\`} {
		if _, err := unquote([]byte(bad)); err == nil {
			t.Errorf("unquote(%s) accepted", bad)
		}
	}
}

// FuzzUnquote checks unquote against encoding/json on valid literals.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud83d\ude00"`, `"\ud83d"`, "\"\xff\"", `"\n\u0041"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, lit []byte) {
		// UnmarshalJSON methods get the literal without surrounding space.
		lit = trimSpace(lit)
		var want string
		if json.Unmarshal(lit, &want) != nil || len(lit) == 0 || lit[0] != '"' {
			return
		}
		got, err := unquote(lit)
		if err != nil || got != want {
			t.Fatalf("unquote(%q) = %q, %v; want %q", lit, got, err, want)
		}
	})
}
