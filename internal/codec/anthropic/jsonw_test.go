package anthropic

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAppendString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello", `"hello"`},
		{"quotes and backslash", `a"b\c`, `"a\"b\\c"`},
		{"control", "a\nb\rc\td\x00e\x1f", `"a\nb\rc\td\u0000e\u001f"`},
		{"html kept", "<a href='x'>&</a>", `"<a href='x'>&</a>"`},
		{"unicode", "héllo — 日本 🎉", `"héllo — 日本 🎉"`},
		{"line separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"invalid utf8", "a\xffb\xc3", `"a\ufffdb\ufffd"`},
		{"empty", "", `""`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendString(nil, tc.in)); got != tc.want {
				t.Errorf("appendString(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestAppendRaw(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"one line kept", `{"a": 1}`, `{"a": 1}`, false},
		{"multi-line compacted", "{\n  \"a\": [1,\r\n 2]\n}", `{"a":[1,2]}`, false},
		{"invalid", `{"a":`, "", true},
		{"invalid multi-line", "{\n\"a\":", "", true},
		{"two values", `1 2`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := appendRaw([]byte("x"), []byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if string(got) != "x" {
					t.Errorf("dst changed on error: %q", got)
				}
				return
			}
			if string(got) != "x"+tc.want {
				t.Errorf("appendRaw = %q, want %q", got, "x"+tc.want)
			}
		})
	}
}

// FuzzAppendString checks that appendString always writes a JSON string
// that decodes to the input (with invalid UTF-8 replaced).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "hello", "a\"b\\c\n", "\xff\xfe", "\u2028", "日本\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, out, err)
		}
		ref, _ := json.Marshal(s)
		var want string
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if back != want {
			t.Fatalf("round trip of %q gave %q, encoding/json %q", s, back, want)
		}
		if strings.ContainsAny(string(out), "\n\r") {
			t.Fatalf("output %q contains a raw line break", out)
		}
	})
}
