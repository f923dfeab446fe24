package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

// benchRequestBody is a typical agent request: a 4 KB system prompt, five
// tools and a 20-turn conversation with tool use (about 30 KB).
func benchRequestBody(b *testing.B) []byte {
	b.Helper()
	type m = map[string]any
	para := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 10)
	var msgs []any
	for i := range 10 {
		msgs = append(msgs,
			m{"role": "user", "content": fmt.Sprintf("Question %d: %s", i, para)},
			m{"role": "assistant", "content": []any{
				m{"type": "text", "text": "Let me look that up. " + para},
				m{"type": "tool_use", "id": fmt.Sprintf("toolu_%02d", i), "name": "search", "input": m{"query": "fox", "limit": 10}},
			}},
		)
		msgs = append(msgs, m{"role": "user", "content": []any{
			m{"type": "tool_result", "tool_use_id": fmt.Sprintf("toolu_%02d", i), "content": para},
		}})
	}
	var tools []any
	for i := range 5 {
		tools = append(tools, m{"name": fmt.Sprintf("tool_%d", i), "description": "Does a thing. " + para[:120],
			"input_schema": m{"type": "object", "properties": m{"query": m{"type": "string"}, "limit": m{"type": "integer"}}, "required": []string{"query"}}})
	}
	body, err := json.Marshal(m{"model": "claude-sonnet-4-5", "max_tokens": 4096, "stream": true,
		"system": []any{m{"type": "text", "text": strings.Repeat(para, 9), "cache_control": m{"type": "ephemeral"}}},
		"tools":  tools, "messages": msgs, "metadata": m{"user_id": "u1"}})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkDecodeMessagesRequest(b *testing.B) {
	body := benchRequestBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMessagesRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeMessagesRequest(b *testing.B) {
	body := benchRequestBody(b)
	req, err := DecodeMessagesRequest(body)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeMessagesRequest(req, EncodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeMessagesResponse(b *testing.B) {
	body := readFile(b, "responses/tool_use.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMessagesResponse(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeMessagesResponse(b *testing.B) {
	resp, err := DecodeMessagesResponse(readFile(b, "responses/tool_use.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeMessagesResponse(resp); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEvents returns the events of a recorded stream.
func benchEvents(b *testing.B, name string) []sse.Event {
	b.Helper()
	r := sse.NewReader(bytes.NewReader(readFile(b, "sse/"+name)), 0)
	var evs []sse.Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return evs
		}
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, sse.Event{Type: bytes.Clone(ev.Type), Data: bytes.Clone(ev.Data)})
	}
}

// BenchmarkStreamDecode measures the decoder alone, per event, over a
// recorded tool-use stream.
func BenchmarkStreamDecode(b *testing.B) {
	evs := benchEvents(b, "tool_use_response.txt")
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		d := NewStreamDecoder("anthropic")
		for i := range evs {
			if _, _, err := d.Decode(&evs[i]); err != nil {
				b.Fatal(err)
			}
		}
		n += len(evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// BenchmarkStreamEncode measures the encoder, per chunk, turning the
// canonical chunks of a recorded stream into Anthropic events.
func BenchmarkStreamEncode(b *testing.B) {
	chunks, _, err := decodeStream(b, readFile(b, "sse/tool_use_response.txt"))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		e := NewStreamEncoder("claude")
		buf = buf[:0]
		for i := range chunks {
			if buf, err = e.AppendChunk(buf, &chunks[i]); err != nil {
				b.Fatal(err)
			}
		}
		buf = e.AppendEnd(buf)
		n += len(chunks)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/chunk")
}

// BenchmarkStreamTextChunk is the steady state of a stream: one text
// fragment in, one content_block_delta out.
func BenchmarkStreamTextChunk(b *testing.B) {
	e := NewStreamEncoder("claude")
	buf, err := e.AppendChunk(nil, textChunk("start"))
	if err != nil {
		b.Fatal(err)
	}
	c := &llm.Chunk{Deltas: []llm.Delta{{Text: " the quick brown fox"}}}
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = e.AppendChunk(buf[:0], c); err != nil {
			b.Fatal(err)
		}
	}
}
