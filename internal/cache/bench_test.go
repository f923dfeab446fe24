package cache

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// benchRequest is a typical chat request: a system prompt, a 2 KB user
// prompt, one tool and the usual sampling parameters.
func benchRequest() *llm.Request {
	temp, maxTokens := 0.7, 512
	return &llm.Request{
		Model: "smart", Format: "openai",
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("You are a helpful assistant. Answer briefly.")}},
			{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(strings.Repeat("Summarise this text please. ", 2048/28+1)[:2048])}},
		},
		Tools: []llm.Tool{{Type: "function", Name: "search", Description: "Search the web",
			Parameters: []byte(`{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}`)}},
		Temperature: &temp, MaxTokens: &maxTokens,
		Headers: map[string]string{"anthropic-beta": "x"},
	}
}

func BenchmarkKeyFor(b *testing.B) {
	req := benchRequest()
	b.ReportAllocs()
	b.SetBytes(2048)
	for b.Loop() {
		KeyFor("tenant-1", req)
	}
}

func BenchmarkEntryRoundTrip(b *testing.B) {
	e := &Entry{Model: "smart", Provider: "openai", Upstream: "gpt-4.1", Created: time.Now(),
		Response: &llm.Response{ID: "chatcmpl-1", Model: "gpt-4.1", Created: 1_770_000_000,
			Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant,
				Parts: []llm.Part{llm.TextPart(strings.Repeat("An answer of two kilobytes. ", 2048/28+1)[:2048])}},
				FinishReason: llm.FinishStop}},
			Usage: llm.Usage{InputTokens: 600, OutputTokens: 500}}}
	var buf []byte
	b.ReportAllocs()
	b.SetBytes(2048)
	for b.Loop() {
		var err error
		if buf, err = e.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeEntry(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryGetSet(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(64 << 20)
	defer m.Close()
	const n = 1024
	keys := make([]Key, n)
	val := make([]byte, 2048)
	for i := range keys {
		keys[i] = testKey(fmt.Sprint(i))
		if err := m.Set(ctx, keys[i], "m", val, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, err := m.Get(ctx, keys[i%n]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("set", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if err := m.Set(ctx, keys[i%n], "m", val, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
