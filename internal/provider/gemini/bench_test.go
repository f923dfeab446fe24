package gemini

import (
	"context"
	"io"
	"net/http"
	"os"
	"testing"
)

// BenchmarkChatStream measures the adapter's cost per streamed answer over
// loopback HTTP: request encoding, the round trip and decoding four events.
func BenchmarkChatStream(b *testing.B) {
	raw, err := os.ReadFile("testdata/text.sse")
	if err != nil {
		b.Fatal(err)
	}
	p := newTestProvider(b, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(raw)
	})
	req := hello("gemini-2.5-flash")
	b.ReportAllocs()
	for b.Loop() {
		s, err := p.ChatStream(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := s.Recv(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
	}
}
