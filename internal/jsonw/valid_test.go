package jsonw

import (
	"encoding/json"
	"strings"
	"testing"
)

var validCases = []struct{ name, in string }{
	{"empty object", `{}`},
	{"spaced array", ` [ ] `},
	{"every kind", `{"a":[1,-2.5e+3,0,true,false,null,"x\u00e9\n"]}`},
	{"string", `"s"`},
	{"zero", `0`},
	{"odd number", `-0.0E-1`},
	{"nothing", ``},
	{"blank", ` `},
	{"open object", `{`},
	{"key without value", `{"a"}`},
	{"trailing comma in object", `{"a":1,}`},
	{"trailing comma in array", `[1,]`},
	{"missing comma", `[1 2]`},
	{"leading zero", `01`},
	{"bare point", `1.`},
	{"leading point", `.5`},
	{"bare exponent", `1e`},
	{"bare minus", `-`},
	{"plus sign", `+1`},
	{"short true", `tru`},
	{"short null", `nul`},
	{"unterminated string", `"a`},
	{"raw control", "\"\x01\""},
	{"bad escape", `"\x"`},
	{"bad unicode escape", `"\u12g4"`},
	{"trailing garbage", `{"a":1}x`},
	{"two values", `{} {}`},
	{"number key", `{1:2}`},
	{"lone backslash", `"\`},
	{"too deep", `[` + strings.Repeat(`[`, maxDepth) + `]`},
	{"deepest allowed", strings.Repeat(`[`, maxDepth) + strings.Repeat(`]`, maxDepth)},
}

func TestValid(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := Valid([]byte(tc.in)), json.Valid([]byte(tc.in)); got != want {
				t.Errorf("Valid(%.40q) = %v, json.Valid says %v", tc.in, got, want)
			}
		})
	}
}

// FuzzValid holds Valid to json.Valid's verdict on every input.
func FuzzValid(f *testing.F) {
	for _, tc := range validCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}
