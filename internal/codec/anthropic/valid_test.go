package anthropic

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidJSON(t *testing.T) {
	tests := []string{
		`{}`, ` [ ] `, `{"a":[1,-2.5e+3,0,true,false,null,"x\u00e9\n"]}`, `"s"`, `0`, `-0.0E-1`,
		``, ` `, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `[1 2]`, `01`, `1.`, `.5`, `1e`, `-`, `+1`, `tru`, `nul`,
		`"a`, "\"\x01\"", `"\x"`, `"\u12g4"`, `{"a":1}x`, `{} {}`, `{1:2}`, `"\`, `[` + strings.Repeat(`[`, maxDepth) + `]`,
		strings.Repeat(`[`, maxDepth) + strings.Repeat(`]`, maxDepth),
	}
	for _, s := range tests {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

// FuzzValidJSON holds validJSON to json.Valid's verdict on every input.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"x\"y\\z\u0041"`, `-1.5e10`, `[1,]`, `{"a":tru}`, "\"\t\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}
