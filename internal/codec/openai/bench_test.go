package openai

import (
	"bytes"
	"io"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

// The request benchmarks use testdata/requests/tools.json: a realistic 2 KB
// agent turn with a system prompt, tool definitions, tool calls and results.

func BenchmarkDecodeChatRequest(b *testing.B) {
	body := readFile(b, "testdata/requests/tools.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeChatRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeChatRequest(b *testing.B) {
	req, err := DecodeChatRequest(readFile(b, "testdata/requests/tools.json"))
	if err != nil {
		b.Fatal(err)
	}
	opt := EncodeOptions{Provider: "openai", Type: "openai", IncludeUsage: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeChatRequest(req, opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeChatResponse(b *testing.B) {
	body := readFile(b, "testdata/responses/tool_calls.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeChatResponse(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeChatResponse(b *testing.B) {
	resp, err := DecodeChatResponse(readFile(b, "testdata/responses/tool_calls.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeChatResponse(resp); err != nil {
			b.Fatal(err)
		}
	}
}

// streamEvents returns the events of a recorded stream, copied.
func streamEvents(b *testing.B, path string) []sse.Event {
	r := sse.NewReader(bytes.NewReader(readFile(b, path)), 0)
	var evs []sse.Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return evs
		}
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, sse.Event{Data: bytes.Clone(ev.Data)})
	}
}

// BenchmarkStreamDecoder decodes one upstream event per op, cycling through
// a recorded 181-event stream.
func BenchmarkStreamDecoder(b *testing.B) {
	evs := streamEvents(b, "testdata/streams/long.sse")
	d := NewStreamDecoder("openai")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := d.Decode(&evs[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(evs) {
			i = 0
		}
	}
}

// BenchmarkStreamEncoder encodes one canonical chunk per op into a reused
// buffer, cycling through the chunks of a recorded stream.
func BenchmarkStreamEncoder(b *testing.B) {
	evs := streamEvents(b, "testdata/streams/long.sse")
	d := NewStreamDecoder("openai")
	var chunks []*llm.Chunk
	for i := range evs {
		c, _, err := d.Decode(&evs[i])
		if err != nil {
			b.Fatal(err)
		}
		if c != nil {
			cc := *c
			cc.Deltas = append([]llm.Delta(nil), c.Deltas...)
			chunks = append(chunks, &cc)
		}
	}
	e := NewStreamEncoder(true)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var err error
		if buf, err = e.AppendChunk(buf[:0], chunks[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(chunks) {
			i = 0
		}
	}
}

func BenchmarkDecodeEmbeddingsResponse(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[`)
	for i := range 1536 {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("-0.0123456789")
	}
	buf.WriteString(`]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5}}`)
	body := buf.Bytes()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEmbeddingsResponse(body); err != nil {
			b.Fatal(err)
		}
	}
}
