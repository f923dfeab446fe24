package cache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// benchIndex fills a scope of a new index with n random unit vectors of
// dims floats, waiting for its graph if exactLimit is below n, and
// returns queries that are each near one of them (similarity ~0.95), with
// that vector's number.
func benchIndex(b *testing.B, n, dims, exactLimit int) (*MemoryIndex, [][]float32, []int) {
	b.Helper()
	r := rand.New(rand.NewPCG(uint64(n), uint64(dims)))
	ix := NewMemoryIndex(MemoryIndexOptions{ExactLimit: exactLimit, MaxPerScope: n})
	ix.inlineBuilds = true
	b.Cleanup(func() { ix.Close() })
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = randUnit(r, dims)
		if err := ix.Add(context.Background(), "s", vecs[i], semKey(strconv.Itoa(i)), time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	if ok, _ := graphOf(ix, "s"); ok != (n > exactLimit) {
		b.Fatalf("graph %v with %d vectors and ExactLimit %d", ok, n, exactLimit)
	}
	queries, want := make([][]float32, 256), make([]int, 256)
	for i := range queries {
		want[i] = r.IntN(n)
		queries[i] = nearby(r, vecs[want[i]], 0.3)
	}
	return ix, queries, want
}

// benchSearch times Search over the queries and reports recall: the share
// of queries answered with the vector they were made from.
func benchSearch(b *testing.B, ix *MemoryIndex, queries [][]float32, want []int) {
	ctx := context.Background()
	hits := 0
	for i, q := range queries {
		if k, _, ok, _ := ix.Search(ctx, "s", q, 0.5); ok && k == semKey(strconv.Itoa(want[i])) {
			hits++
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, _, _, err := ix.Search(ctx, "s", queries[i%len(queries)], 0.5); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(hits)/float64(len(queries)), "recall")
}

// BenchmarkSearchExact: the scan defaultExactLimit is chosen by.
func BenchmarkSearchExact(b *testing.B) {
	for _, dims := range []int{256, 1536} {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("n=%d/dims=%d", n, dims), func(b *testing.B) {
				ix, queries, want := benchIndex(b, n, dims, n)
				benchSearch(b, ix, queries, want)
			})
		}
	}
}

// BenchmarkSearchHNSW: the graph at sizes past the exact limit; building
// the 50,000-vector graph takes a while before timing starts.
func BenchmarkSearchHNSW(b *testing.B) {
	for _, size := range []struct{ n, dims int }{{10000, 256}, {50000, 256}, {10000, 1536}} {
		b.Run(fmt.Sprintf("n=%d/dims=%d", size.n, size.dims), func(b *testing.B) {
			start := time.Now()
			ix, queries, want := benchIndex(b, size.n, size.dims, 100)
			b.Logf("built in %v", time.Since(start))
			benchSearch(b, ix, queries, want)
		})
	}
}

// BenchmarkAdd: storing a 1536-dimension vector in a scope of 10,000
// that is searched exactly.
func BenchmarkAdd(b *testing.B) {
	ix, queries, _ := benchIndex(b, 10000, 1536, 1<<30)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := ix.Add(ctx, "s", queries[i%len(queries)], semKey(strconv.Itoa(i%10000)), time.Hour); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkSemanticText(b *testing.B) {
	req := &llm.Request{Messages: []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("You are a helpful assistant.")}},
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("What is the capital of France?")}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("Paris.")}},
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("And of Italy?"), llm.TextPart("Answer briefly.")}},
	}}
	for _, mode := range []string{SemanticLastUser, SemanticConversation} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if SemanticText(req, mode) == "" {
					b.Fatal("empty")
				}
			}
		})
	}
}

func BenchmarkDecodeSemEvent(b *testing.B) {
	vec := randUnit(rand.New(rand.NewPCG(1, 1)), 1536)
	ev := semEvent{op: semOpAdd, scope: "s", key: semKey("k"), vec: vec, expires: 1_700_000_000_000}
	fields := semFields(ev.values())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeSemEvent(fields); err != nil {
			b.Fatal(err)
		}
	}
}
