package usage

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
)

// typicalRequest is a three-message chat of about 250 prompt tokens.
func typicalRequest() *llm.Request {
	return &llm.Request{Model: "gpt-4o-mini", Messages: []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("You are a concise assistant for an online bookshop. " +
			"Answer questions about orders, shipping and returns. If you do not know, say so and offer to connect the customer with a person.")}},
		{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Hi! I ordered three paperbacks last Tuesday (order 48213) and the tracking page " +
			"still says 'label created'. The shop said dispatch takes two working days. Should I be worried, and can I change the " +
			"delivery address to my office at 12 Market Street, Leeds, before it ships? Also, what is your return window for books " +
			"bought as gifts?")}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("Thanks for the details. A 'label created' status for a week usually " +
			"means the parcel is waiting at our warehouse; I have flagged order 48213 for the team. You can change the address until " +
			"it ships from the order page. Gifts can be returned within 60 days with the gift receipt.")}},
	}}
}

func BenchmarkCountRequest(b *testing.B) {
	req := typicalRequest()
	b.ReportMetric(float64(CountRequest(req)), "tokens")
	b.ReportAllocs()
	for b.Loop() {
		CountRequest(req)
	}
}

func BenchmarkCountText1KiB(b *testing.B) {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 23)[:1024]
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		CountText("gpt-4o", text)
	}
}

// BenchmarkCounterAdd is the per-chunk cost on a stream: one delta of
// a few tokens appended to the counter.
func BenchmarkCounterAdd(b *testing.B) {
	const chunk = " streamed tokens arrive"
	var c Counter
	b.ReportAllocs()
	for b.Loop() {
		if c.Len() >= CounterLimit {
			c.Reset()
		}
		c.Add(chunk)
	}
}

// BenchmarkCounterTokens is the end-of-stream cost: counting a 2 KiB reply
// accumulated in 100 chunks.
func BenchmarkCounterTokens(b *testing.B) {
	chunk := strings.Repeat("word ", 4) + "x " // 22 bytes
	var c Counter
	b.ReportAllocs()
	for b.Loop() {
		c.Reset()
		for range 100 {
			c.Add(chunk)
		}
		c.Tokens("gpt-4o")
	}
}

func BenchmarkCost(b *testing.B) {
	p := Price{Input: 3_000_000, Output: 15_000_000, CachedInput: 300_000, CacheWrite: 3_750_000}
	u := llm.Usage{InputTokens: 17_000, CachedInputTokens: 10_000, CacheWriteTokens: 5_000, OutputTokens: 1_000}
	b.ReportAllocs()
	var sink int64
	for b.Loop() {
		sink += Cost(p, u)
	}
	_ = sink
}

func BenchmarkLookup(b *testing.B) {
	c := Default().WithOverrides(map[string]Price{"team/gpt-4o": {Input: 1}})
	for _, q := range []struct{ name, prov, typ, model string }{
		{"exact", "openai", "openai", "gpt-4o-mini"},
		{"dated", "anthropic", "anthropic", "claude-sonnet-4-5-20250929"},
		{"override", "team", "openai", "gpt-4o"},
		{"miss", "local", "ollama", "llama3.1:8b-instruct-q4"},
	} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Lookup(q.prov, q.typ, q.model)
			}
		})
	}
}

func BenchmarkParseCustomCost(b *testing.B) {
	const h = `{"per_token_in":0.000002,"per_token_out":0.000006}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCustomCost(h); err != nil {
			b.Fatal(err)
		}
	}
}
