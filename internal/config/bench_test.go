package config

import (
	"os"
	"testing"
)

// BenchmarkParse measures loading the multi-provider sample (startup and
// reload cost, not the request path).
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	env := lookupIn(testEnv)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := parse(data, "full.yaml", env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExpand(b *testing.B) {
	env := lookupIn(testEnv)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := expand("Bearer ${OPENAI_API_KEY}", env); err != nil {
			b.Fatal(err)
		}
	}
}
