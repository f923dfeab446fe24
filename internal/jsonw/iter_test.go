package jsonw

import (
	"errors"
	"slices"
	"testing"
)

// walkIter reads the value at it's cursor, descending into containers down
// to depth levels and taking deeper values whole, and returns the members'
// keys and scalar values it saw, in order.
func walkIter(it *Iter, depth int, out *[]string) error {
	switch it.Peek() {
	case '{':
		if depth == 0 {
			break
		}
		return it.Object(func(k []byte) error {
			*out = append(*out, "key:"+string(k))
			return walkIter(it, depth-1, out)
		})
	case '[':
		if depth == 0 {
			break
		}
		return it.Array(func(int) error { return walkIter(it, depth-1, out) })
	}
	v := it.Value()
	if v == nil {
		return ErrSyntax
	}
	*out = append(*out, string(v))
	return nil
}

// checkIter holds Iter to Valid on b, whatever depth it descends to, and
// checks that a full descent yields what EachMember and EachElement yield.
func checkIter(t *testing.T, b []byte) {
	t.Helper()
	want := Valid(b)
	for _, depth := range []int{0, 1, 2, 1 << 30} {
		var it Iter
		it.Reset(b)
		var seen []string
		err := walkIter(&it, depth, &seen)
		if got := err == nil && it.End(); got != want {
			t.Fatalf("depth %d: Iter says valid = %v (err %v), Valid %v, for %q", depth, got, err, want, b)
		}
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Fatalf("depth %d: error %v is not ErrSyntax", depth, err)
		}
		if want && depth == 1<<30 {
			if ref := walkScan(b); !slices.Equal(seen, ref) {
				t.Fatalf("Iter saw %q, EachMember and EachElement %q, in %q", seen, ref, b)
			}
		}
	}
}

// walkScan is walkIter with EachMember and EachElement, all the way down.
func walkScan(v []byte) []string {
	var out []string
	var walk func(v []byte)
	walk = func(v []byte) {
		v = TrimSpace(v)
		switch v[0] {
		case '{':
			EachMember(v, func(k, v []byte) error {
				out = append(out, "key:"+string(k))
				walk(v)
				return nil
			})
		case '[':
			EachElement(v, func(_ int, v []byte) error {
				walk(v)
				return nil
			})
		default:
			out = append(out, string(v))
		}
	}
	walk(v)
	return out
}

var iterCases = []string{
	`{}`, `[]`, ` {"a" : [1, 2.5e3, "x\"y", {"b":null}], "c":true} `, `"s"`, `0`, `-1.5E+2`,
	`[[],[[]],{}]`, `{"a":1,}`, `[1,]`, `{"a" 1}`, `{"a":1 "b":2}`, `[1 2]`, `{"a":"\x"}`, "{\"a\":\"\x01\"}",
	`{"a":01}`, `{"a":tru}`, `{"a":1}x`, `{"a":1}}`, `[`, `{`, `{"a":`, ``, ` `, `{"\u00e9":"\ud83d\ude00"}`,
	`{"a":[{"b":[{"c":{}}]}]}`, `nul`, `[1,[2,[3]],4]`,
}

func TestIter(t *testing.T) {
	for _, c := range iterCases {
		checkIter(t, []byte(c))
	}
}

func TestIterDepthLimit(t *testing.T) {
	deep := func(n int) []byte {
		b := make([]byte, 0, 2*n)
		for range n {
			b = append(b, '[')
		}
		for range n {
			b = append(b, ']')
		}
		return b
	}
	for _, n := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		checkIter(t, deep(n))
	}
}

// FuzzIter holds Iter to Valid on any input.
func FuzzIter(f *testing.F) {
	for _, c := range iterCases {
		f.Add([]byte(c))
	}
	f.Fuzz(checkIter)
}
