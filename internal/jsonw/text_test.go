package jsonw

import (
	"encoding/json"
	"strconv"
	"testing"
	"unsafe"
)

// parts returns the values of the members of obj, parts of obj as Iter
// hands them out.
func parts(t *testing.T, obj []byte) map[string][]byte {
	t.Helper()
	var it Iter
	it.Reset(obj)
	out := map[string][]byte{}
	if err := it.Object(func(k []byte) error { out[string(k)] = it.Value(); return nil }); err != nil || !it.End() {
		t.Fatalf("%s: %v", obj, err)
	}
	return out
}

func TestTextString(t *testing.T) {
	src := []byte(`{"plain":"hello","esc":"a\nb\u00e9","empty":"","num":12.5,"obj":{"a":[1, 2]}}`)
	p := parts(t, src)
	var tx Text
	tx.Reset(src)
	for _, tc := range []struct {
		key, want string
		ok        bool
	}{{"plain", "hello", true}, {"esc", "a\nbé", true}, {"empty", "", true}, {"num", "", false}, {"obj", "", false}} {
		got, ok := tx.String(p[tc.key])
		if got != tc.want || ok != tc.ok {
			t.Errorf("String(%s) = %q, %v; want %q, %v", p[tc.key], got, ok, tc.want, tc.ok)
		}
	}
	if got := tx.Literal(p["obj"]); got != `{"a":[1, 2]}` {
		t.Errorf("Literal = %q", got)
	}
	// Strings share one copy of the text, not the caller's bytes.
	s1, _ := tx.String(p["plain"])
	copy(src, "XXXXXXXXXXXXXXXXXXXX")
	if s1 != "hello" {
		t.Errorf("a string changed with the caller's bytes: %q", s1)
	}
	// A value that is not part of the text is copied on its own.
	if got, ok := tx.String([]byte(`"other"`)); got != "other" || !ok {
		t.Errorf("String(other) = %q, %v", got, ok)
	}
}

func TestTextStringAllocs(t *testing.T) {
	src := []byte(`{"a":"one","b":"two","c":"three"}`)
	p := parts(t, src)
	var tx Text
	got := testing.AllocsPerRun(100, func() {
		tx.Reset(src)
		tx.String(p["a"])
		tx.String(p["b"])
		tx.String(p["c"])
	})
	if got != 1 {
		t.Errorf("%v allocations for three strings, want 1 (the copy)", got)
	}
}

func TestTextRaw(t *testing.T) {
	src := []byte(`{"first":[1,2],"second":{"x":null},"third":true}`)
	p := parts(t, src)
	var tx Text
	tx.Reset(src)
	second := tx.Raw(p["second"])
	first := tx.Raw(p["first"]) // before the raw copy's start: a copy of its own
	third := tx.Raw(p["third"])
	if string(first) != "[1,2]" || string(second) != `{"x":null}` || string(third) != "true" {
		t.Fatalf("Raw = %s %s %s", first, second, third)
	}
	if cap(second) != len(second) || cap(third) != len(third) {
		t.Errorf("raw values not capped: %d/%d, %d/%d", len(second), cap(second), len(third), cap(third))
	}
	_ = append(second, '!')
	if string(third) != "true" {
		t.Errorf("appending to one raw value changed another: %s", third)
	}
	copy(src, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
	if string(first) != "[1,2]" || string(third) != "true" {
		t.Errorf("raw values changed with the caller's bytes: %s %s", first, third)
	}
}

func TestTextName(t *testing.T) {
	src := []byte(`{"a":"gpt-4o-mini","b":"gpt-4o-mini","c":"x\ty"}`)
	p := parts(t, src)
	var tx Text
	tx.Reset(src)
	a, _ := tx.Name(p["a"])
	b, _ := tx.Name(p["b"])
	if a != "gpt-4o-mini" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Errorf("names %q and %q are not one shared string", a, b)
	}
	if c, ok := tx.Name(p["c"]); c != "x\ty" || !ok {
		t.Errorf("Name with an escape = %q, %v", c, ok)
	}
	if got := testing.AllocsPerRun(100, func() { tx.Name(p["a"]) }); got != 0 {
		t.Errorf("a known name costs %v allocations", got)
	}
}

// TestInternFull: once the table is full, names are still returned, each
// in an allocation of its own.
func TestInternFull(t *testing.T) {
	old := names.m.Load()
	defer names.m.Store(old) // leave the table as other tests found it
	for i := 0; ; i++ {
		if m := names.m.Load(); m != nil && len(*m) >= maxNames {
			break
		}
		Intern([]byte("fill-" + strconv.Itoa(i)))
	}
	if got := Intern([]byte("not-in-the-table")); got != "not-in-the-table" {
		t.Errorf("Intern = %q", got)
	}
	if m := names.m.Load(); len(*m) != maxNames {
		t.Errorf("table holds %d names, limit %d", len(*m), maxNames)
	}
	long := make([]byte, maxNameLen+1)
	if got := Intern(long); len(got) != len(long) {
		t.Errorf("long name: %d bytes", len(got))
	}
}

// TestParseNumbers holds ParseInt and ParseFloat to json.Unmarshal.
func TestParseNumbers(t *testing.T) {
	for _, lit := range []string{"0", "-0", "42", "-7", "9223372036854775807", "9223372036854775808",
		"1.5", "1e3", "-2.5E-3", "1e400", "0.1", "123456789012345678901234567890"} {
		var i int64
		ierr := json.Unmarshal([]byte(lit), &i)
		gi, iok := ParseInt([]byte(lit))
		if iok != (ierr == nil) || iok && gi != i {
			t.Errorf("ParseInt(%s) = %d, %v; encoding/json %d, %v", lit, gi, iok, i, ierr)
		}
		var f float64
		ferr := json.Unmarshal([]byte(lit), &f)
		gf, fok := ParseFloat([]byte(lit), 64)
		if fok != (ferr == nil) || fok && gf != f {
			t.Errorf("ParseFloat(%s) = %g, %v; encoding/json %g, %v", lit, gf, fok, f, ferr)
		}
	}
	if got := testing.AllocsPerRun(100, func() { ParseFloat([]byte("-2.5E-3"), 64); ParseInt([]byte("42")) }); got != 0 {
		t.Errorf("parsing costs %v allocations", got)
	}
}
