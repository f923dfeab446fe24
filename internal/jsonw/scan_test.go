package jsonw

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var memberCases = []struct {
	name    string
	in      string
	want    [][2]string
	wantErr bool
}{
	{"empty", ` { } `, nil, false},
	{"members", `{"a":1, "b" : "x\"}" ,"c":{"d":[1,{"e":"]"}]},"f":null,"g":true,"h":-1.5e3}`,
		[][2]string{{"a", "1"}, {"b", `"x\"}"`}, {"c", `{"d":[1,{"e":"]"}]}`}, {"f", "null"}, {"g", "true"}, {"h", "-1.5e3"}}, false},
	{"escaped key", `{"a\"b":1}`, [][2]string{{`a\"b`, "1"}}, false},
	{"backslash before quote", `{"a":"x\\","b":2}`, [][2]string{{"a", `"x\\"`}, {"b", "2"}}, false},
	{"duplicates kept in order", `{"a":1,"a":2}`, [][2]string{{"a", "1"}, {"a", "2"}}, false},
	{"not an object", `[1]`, nil, true},
	{"unterminated", `{"a":1`, [][2]string{{"a", "1"}}, true},
	{"missing colon", `{"a" 1}`, nil, true},
	{"unterminated string", `{"a":"x}`, nil, true},
	{"trailing comma", `{"a":1,}`, [][2]string{{"a", "1"}}, true},
	{"empty input", ``, nil, true},
}

func TestEachMember(t *testing.T) {
	for _, tc := range memberCases {
		t.Run(tc.name, func(t *testing.T) {
			var got [][2]string
			err := EachMember([]byte(tc.in), func(k, v []byte) error {
				got = append(got, [2]string{string(k), string(v)})
				return nil
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEachMemberStopsAtCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := EachMember([]byte(`{"a":1,"b":2}`), func(k, v []byte) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Errorf("EachMember = %v after %d calls, want %v after 1", err, n, stop)
	}
}

var elementCases = []struct {
	name    string
	in      string
	want    []string
	wantErr bool
}{
	{"empty", ` [ ] `, nil, false},
	{"elements", ` [ 1 , "a,b" , {"x":[2]} , [] ] `, []string{"1", `"a,b"`, `{"x":[2]}`, "[]"}, false},
	{"truncated", `[1,`, []string{"1"}, true},
	{"not an array", `{}`, nil, true},
}

func TestEachElement(t *testing.T) {
	for _, tc := range elementCases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := EachElement([]byte(tc.in), func(i int, v []byte) error {
				if i != len(got) {
					t.Errorf("index %d for element %d", i, len(got))
				}
				got = append(got, string(v))
				return nil
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("elements (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, "nothing"}, {" \n", "nothing"}, {` "x"`, "a string"}, {`{}`, "an object"}, {`[1]`, "an array"},
		{`true`, "a boolean"}, {`false`, "a boolean"}, {`null`, "null"}, {`-1`, "a number"},
	}
	for _, tc := range tests {
		if got := KindOf([]byte(tc.in)); got != tc.want {
			t.Errorf("KindOf(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTrimSpace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""}, {" \t\r\n", ""}, {" {} \n", "{}"}, {"\v{}\u00a0", "\v{}\u00a0"},
	}
	for _, tc := range tests {
		if got := string(TrimSpace([]byte(tc.in))); got != tc.want {
			t.Errorf("TrimSpace(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// member is one object member as encoding/json or EachMember sees it.
type member struct{ Key, Value string }

// stdMembers returns the members of the valid JSON object b in order, as
// encoding/json's Decoder reads them.
func stdMembers(t *testing.T, b []byte) []member {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var out []member
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, member{k.(string), string(v)})
	}
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("more after the object: %v", err)
	}
	return out
}

// FuzzEachMember holds the scanner to encoding/json: on every valid object
// (array) it yields exactly the members (elements) encoding/json reads, in
// order, with the same raw bytes and decoded keys; on valid JSON of another
// kind it fails; on anything else it does not panic.
func FuzzEachMember(f *testing.F) {
	for _, tc := range memberCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range elementCases {
		f.Add([]byte(tc.in))
	}
	for _, s := range []string{`{"a\"":"\\"}`, `{"a":"x\\\"y"}`, `{"\u00e9\ud83d\ude00":[{"b":"}"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []member
		err := EachMember(b, func(k, v []byte) error {
			got = append(got, member{Key(k), string(v)})
			return nil
		})
		var elems []string
		aerr := EachElement(b, func(_ int, v []byte) error {
			elems = append(elems, string(v))
			return nil
		})
		if !json.Valid(b) {
			return // malformed input: only "no panic" is promised
		}
		i := SkipSpace(b, 0)
		if (err == nil) != (b[i] == '{') || (aerr == nil) != (b[i] == '[') {
			t.Fatalf("on %q: EachMember error %v, EachElement error %v", b, err, aerr)
		}
		switch b[i] {
		case '{':
			if diff := cmp.Diff(stdMembers(t, b), got); diff != "" {
				t.Fatalf("members of %q (-encoding/json +EachMember):\n%s", b, diff)
			}
		case '[':
			var raw []json.RawMessage
			if err := json.Unmarshal(b, &raw); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, r := range raw {
				want = append(want, string(r))
			}
			if diff := cmp.Diff(want, elems); diff != "" {
				t.Fatalf("elements of %q (-encoding/json +EachElement):\n%s", b, diff)
			}
		}
	})
}
