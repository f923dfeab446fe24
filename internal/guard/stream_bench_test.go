package guard

import (
	"strings"
	"testing"
)

// streamBenchProse returns 2040 bytes of prose (102 fragments of 20
// bytes) in which the test finder finds nothing.
func streamBenchProse() string {
	p := strings.Repeat("The gateway streams the answer as it comes. Most of it is ordinary prose, "+
		"with commas, full stops and the odd (parenthesised) remark; nothing to hide here. ", 20)
	return p[:2040]
}

func BenchmarkScannerProse(b *testing.B) {
	prose := streamBenchProse()
	for _, mode := range []struct {
		name string
		red  *Redactor
	}{{"report", nil}, {"redact", NewRedactor()}} {
		b.Run(mode.name, func(b *testing.B) {
			s := NewScanner(streamTestFind, 64, mode.red)
			b.SetBytes(int64(len(prose)))
			b.ReportAllocs()
			for b.Loop() {
				for i := 0; i < len(prose); i += 20 {
					s.Push(prose[i : i+20])
				}
			}
		})
	}
}

func BenchmarkScannerFindings(b *testing.B) {
	text := strings.Repeat("Card 4111 1111 1111 1111, mail bob@example.com and some words in between. ", 27)
	s := NewScanner(streamTestFind, 64, NewRedactor())
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(text); i += 20 {
			s.Push(text[i:min(i+20, len(text))])
		}
		s.Flush()
	}
}

func BenchmarkRestorer(b *testing.B) {
	r := NewRedactor()
	orig := "Dear bob@example.com, your card 4111 1111 1111 1111 is on file. "
	red := strings.Repeat(r.Redact(orig, streamTestFind(nil, orig)), 40)
	cases := []struct{ name, text string }{
		{"placeholders", red},
		{"plain", streamBenchProse()},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			s := r.NewRestorer()
			b.SetBytes(int64(len(tc.text)))
			b.ReportAllocs()
			for b.Loop() {
				for i := 0; i < len(tc.text); i += 20 {
					s.Push(tc.text[i:min(i+20, len(tc.text))])
				}
				s.Flush()
			}
		})
	}
}

func BenchmarkRedact(b *testing.B) {
	text := strings.Repeat("Card 4111 1111 1111 1111, mail bob@example.com and some words in between. ", 27)
	fs := streamTestFind(nil, text)
	r := NewRedactor()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		r.Redact(text, fs)
	}
}
