package cache_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/cache"
	"github.com/sluicehq/sluice/internal/llm"
)

// benchAnswer is a 2 KB one-choice answer.
func benchAnswer() *llm.Response {
	return &llm.Response{ID: "chatcmpl-bench", Model: "gpt-bench", Created: 1,
		Usage: llm.Usage{InputTokens: 50, OutputTokens: 500},
		Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant,
			Parts: []llm.Part{llm.TextPart(strings.Repeat("Größe matters. ", 128)[:2048])}},
			FinishReason: llm.FinishStop}}}
}

// tokenChunks is resp's text as a provider streams it: a role chunk, one
// chunk per ~16-byte token, a finish chunk and a usage chunk.
func tokenChunks(resp *llm.Response) []*llm.Chunk {
	text := resp.Choices[0].Message.Text()
	out := []*llm.Chunk{{ID: resp.ID, Model: resp.Model, Deltas: []llm.Delta{{Role: llm.RoleAssistant}}}}
	for len(text) > 0 {
		n := min(16, len(text))
		out = append(out, &llm.Chunk{ID: resp.ID, Model: resp.Model, Deltas: []llm.Delta{{Text: text[:n]}}})
		text = text[n:]
	}
	u := resp.Usage
	return append(out, &llm.Chunk{ID: resp.ID, Model: resp.Model, Deltas: []llm.Delta{{FinishReason: llm.FinishStop}}},
		&llm.Chunk{ID: resp.ID, Model: resp.Model, Usage: &u})
}

func BenchmarkReplay(b *testing.B) {
	resp := benchAnswer()
	b.SetBytes(2048)
	b.ReportAllocs()
	for b.Loop() {
		s := cache.Replay(resp)
		for {
			if _, err := s.Recv(); err != nil {
				break
			}
		}
	}
}

func BenchmarkCollector(b *testing.B) {
	chunks := tokenChunks(benchAnswer())
	b.SetBytes(2048)
	b.ReportAllocs()
	for b.Loop() {
		c := cache.NewCollector(1 << 20)
		for _, ch := range chunks {
			c.Add(ch)
		}
		if _, ok := c.Response(); !ok {
			b.Fatal("not collectible")
		}
	}
}

func BenchmarkGroupJoinFinish(b *testing.B) {
	g := cache.NewGroup(16, longWait)
	k := flightKey(b.Name())
	resp := benchAnswer()
	b.ReportAllocs()
	for b.Loop() {
		c, leader, _ := g.Join(k)
		if !leader {
			b.Fatal("not the leader")
		}
		c.Finish(resp)
	}
}

// BenchmarkTee is the leader's cost of sharing its stream: a clone per
// chunk into the log, no follower reading.
func BenchmarkTee(b *testing.B) {
	g := cache.NewGroup(16, longWait)
	k := flightKey(b.Name())
	chunks := tokenChunks(benchAnswer())
	b.SetBytes(2048)
	b.ReportAllocs()
	for b.Loop() {
		c, _, _ := g.Join(k)
		s := c.Tee(&scriptStream{chunks: chunks})
		for {
			if _, err := s.Recv(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}

// BenchmarkFollowerStream is one follower reading a whole teed answer.
func BenchmarkFollowerStream(b *testing.B) {
	g := cache.NewGroup(16, longWait)
	k := flightKey(b.Name())
	chunks := tokenChunks(benchAnswer())
	b.SetBytes(2048)
	b.ReportAllocs()
	for b.Loop() {
		c, _, _ := g.Join(k)
		f, _, _ := g.Join(k)
		s := c.Tee(&scriptStream{chunks: chunks})
		for {
			if _, err := s.Recv(); err != nil {
				break
			}
		}
		_, fs, err := f.Wait(context.Background(), true)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := fs.Recv(); err != nil {
				break
			}
		}
	}
}
