package gemini

import (
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

func benchEncode(b *testing.B, req *llm.Request) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeGenerateRequest(req, EncodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeGenerateRequest(b *testing.B) {
	cases := encodeCases()
	b.Run("basic", func(b *testing.B) { benchEncode(b, cases[0].req) })
	b.Run("tools_round_trip", func(b *testing.B) { benchEncode(b, cases[6].req) })
}

func BenchmarkDecodeGenerateResponse(b *testing.B) {
	body := decodeFixtures(b)["tool_calls"]
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodeGenerateResponse(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamDecode measures one typical mid-stream event: a text
// fragment with cumulative usage, as Gemini sends dozens per answer.
func BenchmarkStreamDecode(b *testing.B) {
	events := map[string]string{
		"text":          `{"candidates": [{"content": {"parts": [{"text": " the quick brown fox jumps over the lazy dog, again and again"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 12,"candidatesTokenCount": 40,"totalTokenCount": 52},"modelVersion": "gemini-2.5-flash","responseId": "x2rKaN7fLpTHkdUPq4ia2Aw"}`,
		"function_call": `{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather","args": {"city": "Paris","unit": "celsius"}},"thoughtSignature": "CvMBAXLI2nz+Qm/9kA=="}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-flash","responseId": "x2rKaN7fLpTHkdUPq4ia2Aw"}`,
	}
	for name, data := range events {
		b.Run(name, func(b *testing.B) {
			ev := &sse.Event{Data: []byte(data)}
			d := NewStreamDecoder("gemini")
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, err := d.Decode(ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
