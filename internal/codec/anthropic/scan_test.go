package anthropic

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScanObject(t *testing.T) {
	tests := []struct {
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
		{"not an object", `[1]`, nil, true},
		{"unterminated", `{"a":1`, [][2]string{{"a", "1"}}, true},
		{"missing colon", `{"a" 1}`, nil, true},
		{"unterminated string", `{"a":"x}`, nil, true},
		{"empty input", ``, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got [][2]string
			err := scanObject([]byte(tc.in), func(k, v []byte) error {
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

func TestScanArray(t *testing.T) {
	var got []string
	err := scanArray([]byte(` [ 1 , "a,b" , {"x":[2]} , [] ] `), func(i int, v []byte) error {
		got = append(got, string(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1", `"a,b"`, `{"x":[2]}`, "[]"}, got); diff != "" {
		t.Errorf("elements (-want +got):\n%s", diff)
	}
	if err := scanArray([]byte(`[1,`), func(int, []byte) error { return nil }); err == nil {
		t.Error("truncated array: no error")
	}
}

// FuzzScanObject checks the scanner against encoding/json: on valid JSON
// objects it yields exactly the members json.Unmarshal sees, and it never
// panics on anything.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[1,{"c":"d"}]}`, `{"a\"":"\\"}`, `[1,2]`, `{"a":`, `{"a":"x\\\"y"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var keys []string
		var values [][]byte
		err := scanObject(b, func(k, v []byte) error {
			keys = append(keys, keyString(k))
			values = append(values, v)
			return nil
		})
		_ = scanArray(b, func(int, []byte) error { return nil })
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil || m == nil {
			return // malformed input: only "no panic" is promised
		}
		for _, v := range values {
			if !json.Valid(v) {
				t.Fatalf("member value %q is not valid JSON (input %q)", v, b)
			}
		}
		if err != nil {
			t.Fatalf("scanObject failed on valid object %q: %v", b, err)
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Fatalf("key %q not in json.Unmarshal's result for %q", k, b)
			}
		}
		if len(keys) < len(m) {
			t.Fatalf("scanObject saw %d keys, json.Unmarshal %d, for %q", len(keys), len(m), b)
		}
	})
}
