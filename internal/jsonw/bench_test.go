package jsonw

import (
	"strings"
	"testing"
)

// Benchmark inputs: the text of a chat turn, as it dominates request and
// stream bodies.
var (
	benchProse = strings.Repeat("The quick brown fox jumps over the lazy dog. ", 20) +
		"He said \"hello\"\nand left."
	benchCJK   = strings.Repeat("敏捷的棕色狐狸跳过了懒狗。", 20)
	benchShort = "chatcmpl-123"
)

func benchAppendString(b *testing.B, s string) {
	buf := make([]byte, 0, 4*len(s))
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}

func BenchmarkAppendStringProse(b *testing.B) { benchAppendString(b, benchProse) }
func BenchmarkAppendStringCJK(b *testing.B)   { benchAppendString(b, benchCJK) }
func BenchmarkAppendStringShort(b *testing.B) { benchAppendString(b, benchShort) }

func benchUnquote(b *testing.B, s string, fn func([]byte) (string, error)) {
	lit := AppendString(nil, s)
	b.SetBytes(int64(len(lit)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fn(lit); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnquoteTokens decodes the short escaped strings that stream
// deltas are made of.
func BenchmarkUnquoteTokens(b *testing.B) {
	lits := [][]byte{[]byte(`"\n"`), []byte(`" {\n"`), []byte(`"\"x\": 1,\n"`)}
	b.ReportAllocs()
	for b.Loop() {
		for _, lit := range lits {
			if _, err := Unquote(lit); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkUnquoteProse(b *testing.B)        { benchUnquote(b, benchProse, Unquote) }
func BenchmarkUnquotePlain(b *testing.B)        { benchUnquote(b, benchProse[:800], Unquote) }
func BenchmarkUnquoteCJK(b *testing.B)          { benchUnquote(b, benchCJK, Unquote) }
func BenchmarkUnquoteTrustedProse(b *testing.B) { benchUnquote(b, benchProse, UnquoteTrusted) }
func BenchmarkUnquoteTrustedPlain(b *testing.B) { benchUnquote(b, benchProse[:800], UnquoteTrusted) }

func BenchmarkAppendFloat32(b *testing.B) {
	vec := []float32{0.0023064255, -0.009327292, 1e-7, 0.5, -0.17433883, 0.6770306, 0.6688542, 0.25272438}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for _, f := range vec {
			buf = AppendFloat(buf, float64(f), 32)
		}
	}
}

func benchObject() []byte {
	var b []byte
	b = append(b, '{')
	b = AppendKey(b, "model")
	b = AppendString(b, "gpt-4o-mini")
	b = AppendKey(b, "messages")
	b = append(b, '[')
	for i := range 10 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"role":"user","content":`...)
		b = AppendString(b, benchProse)
		b = append(b, '}')
	}
	b = append(b, ']')
	b = AppendKey(b, "temperature")
	b = AppendFloat(b, 0.7, 64)
	b = AppendKey(b, "x_custom")
	b = append(b, `{"a":[1,2,3]}`...)
	return append(b, '}')
}

func BenchmarkEachMember(b *testing.B) {
	obj := benchObject()
	b.SetBytes(int64(len(obj)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := EachMember(obj, func(k, v []byte) error { n++; return nil }); err != nil || n != 4 {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkValid(b *testing.B) {
	obj := benchObject()
	b.SetBytes(int64(len(obj)))
	b.ReportAllocs()
	for b.Loop() {
		if !Valid(obj) {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkIter reads benchObject with Iter, taking every value whole: one
// checked pass (compare BenchmarkValid, then BenchmarkEachMember).
func BenchmarkIter(b *testing.B) {
	obj := benchObject()
	b.SetBytes(int64(len(obj)))
	b.ReportAllocs()
	var it Iter
	for b.Loop() {
		it.Reset(obj)
		n := 0
		err := it.Object(func([]byte) error {
			if it.Value() == nil {
				return ErrSyntax
			}
			n++
			return nil
		})
		if err != nil || n != 4 || !it.End() {
			b.Fatal(n, err)
		}
	}
}
