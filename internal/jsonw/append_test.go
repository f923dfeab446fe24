package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

func TestAppendKey(t *testing.T) {
	tests := []struct{ name, dst, want string }{
		{"empty buffer", ``, `"k":`},
		{"first member", `{`, `{"k":`},
		{"first in array", `[`, `["k":`},
		{"after a value", `{"a":1`, `{"a":1,"k":`},
		{"after an object", `{"a":{}`, `{"a":{},"k":`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendKey([]byte(tc.dst), "k")); got != tc.want {
				t.Errorf("AppendKey(%q) = %s, want %s", tc.dst, got, tc.want)
			}
		})
	}
}

func TestAppendScalars(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"int", string(AppendInt(nil, -42)), "-42"},
		{"int64 max", string(AppendInt(nil, math.MaxInt64)), "9223372036854775807"},
		{"true", string(AppendBool(nil, true)), "true"},
		{"false", string(AppendBool(nil, false)), "false"},
		{"raw", string(AppendRaw(nil, []byte(`{"a":1}`))), `{"a":1}`},
		{"raw absent", string(AppendRaw(nil, nil)), "null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %s, want %s", tc.got, tc.want)
			}
		})
	}
}

var floatCases = []struct {
	name string
	f    float64
	bits int
	want string
}{
	{"zero", 0, 64, "0"},
	{"negative zero", math.Copysign(0, -1), 64, "-0"},
	{"integer", 3, 64, "3"},
	{"fraction", 0.7, 64, "0.7"},
	{"small plain", 1e-6, 64, "0.000001"},
	{"small exponent", 1e-7, 64, "1e-7"},
	{"large plain", 1e20, 64, "100000000000000000000"},
	{"large exponent", 1e21, 64, "1e+21"},
	{"two-digit exponent", 1.5e-10, 64, "1.5e-10"},
	{"max", math.MaxFloat64, 64, "1.7976931348623157e+308"},
	{"float32 shortest", float64(float32(0.1)), 32, "0.1"},
	{"float32 small", float64(float32(1e-7)), 32, "1e-7"},
	{"float32 max", math.MaxFloat32, 32, "3.4028235e+38"},
	{"float32 embedding", float64(float32(-0.0023064255)), 32, "-0.0023064255"},
	{"NaN", math.NaN(), 64, "null"},
	{"infinity", math.Inf(1), 64, "null"},
	{"float32 negative infinity", math.Inf(-1), 32, "null"},
}

func TestAppendFloat(t *testing.T) {
	for _, tc := range floatCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendFloat([]byte("x"), tc.f, tc.bits)); got != "x"+tc.want {
				t.Errorf("AppendFloat(%v, %d) = %s, want x%s", tc.f, tc.bits, got, tc.want)
			}
			if !math.IsNaN(tc.f) && !math.IsInf(tc.f, 0) {
				checkAppendFloat(t, tc.f, tc.bits)
			}
		})
	}
}

// checkAppendFloat holds AppendFloat to encoding/json's bytes for a finite
// f, and checks that the text parses back to the same value.
func checkAppendFloat(t *testing.T, f float64, bits int) {
	t.Helper()
	var want []byte
	var err error
	if bits == 32 {
		want, err = json.Marshal(float32(f))
	} else {
		want, err = json.Marshal(f)
	}
	if err != nil {
		t.Fatal(err)
	}
	got := AppendFloat(nil, f, bits)
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendFloat(%v, %d) = %s, encoding/json writes %s", f, bits, got, want)
	}
	back, err := strconv.ParseFloat(string(got), bits)
	if err != nil {
		t.Fatalf("AppendFloat(%v, %d) = %s does not parse: %v", f, bits, got, err)
	}
	if bits == 32 {
		f = float64(float32(f))
	}
	if math.Float64bits(back) != math.Float64bits(f) {
		t.Fatalf("AppendFloat(%v, %d) = %s reads back as %v", f, bits, got, back)
	}
}

// FuzzAppendFloat holds AppendFloat to encoding/json for every finite
// float64 and float32, and to null for the rest.
func FuzzAppendFloat(f *testing.F) {
	for _, tc := range floatCases {
		f.Add(math.Float64bits(tc.f), math.Float32bits(float32(tc.f)))
	}
	f.Fuzz(func(t *testing.T, b64 uint64, b32 uint32) {
		f64, f32 := math.Float64frombits(b64), float64(math.Float32frombits(b32))
		for _, c := range []struct {
			f    float64
			bits int
		}{{f64, 64}, {f32, 32}} {
			if math.IsNaN(c.f) || math.IsInf(c.f, 0) {
				if got := string(AppendFloat(nil, c.f, c.bits)); got != "null" {
					t.Fatalf("AppendFloat(%v, %d) = %s, want null", c.f, c.bits, got)
				}
				continue
			}
			checkAppendFloat(t, c.f, c.bits)
		}
	})
}

func TestAppendCompact(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"one line kept", `{"a": 1}`, `{"a": 1}`, false},
		{"multi-line compacted", "{\n  \"a\": [1,\r\n 2]\n}", `{"a":[1,2]}`, false},
		{"invalid", `{"a":`, "", true},
		{"invalid multi-line", "{\n\"a\":", "", true},
		{"two values", `1 2`, "", true},
		{"empty", ``, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendCompact([]byte("x"), []byte(tc.in))
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
				t.Errorf("AppendCompact = %q, want %q", got, "x"+tc.want)
			}
		})
	}
}
