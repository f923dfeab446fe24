package provider

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/sse"
)

// EventDecoder turns one upstream SSE event into a canonical chunk. It
// returns a nil chunk for events that carry nothing for the client (pings,
// block boundaries), done=true for the event that ends the stream, and an
// error (an *llm.Error for an upstream error event) to end it with a
// failure. Decoders may keep state across events and may reuse the chunk
// they return once Decode is called again.
type EventDecoder interface {
	Decode(ev *sse.Event) (chunk *llm.Chunk, done bool, err error)
}

// Finisher is an EventDecoder for formats without an end event (Gemini):
// at the end of input, Finish returns nil if what was seen is a complete
// answer, or the error to report.
type Finisher interface {
	Finish() error
}

// SSEStream is an llm.Stream over an upstream's event stream.
type SSEStream struct {
	ctx      context.Context
	provider string
	body     io.ReadCloser
	r        *sse.Reader
	dec      EventDecoder
	err      error // sticky: once set, every Recv returns it
	once     sync.Once
}

var _ llm.Stream = (*SSEStream)(nil)

// NewSSEStream returns a stream reading events from body with dec. ctx is the
// upstream request's context: when it is cancelled the stream reports the
// cancellation rather than a read error.
func NewSSEStream(ctx context.Context, provider string, body io.ReadCloser, dec EventDecoder) *SSEStream {
	return &SSEStream{ctx: ctx, provider: provider, body: body, r: sse.NewReader(body, 0), dec: dec}
}

// Recv returns the next chunk, io.EOF after the event that ends the stream,
// or an error. An upstream that closes the connection without its end
// event gives an *llm.Error with code "stream_truncated": a stream that
// stops early must never look like a complete answer.
func (s *SSEStream) Recv() (*llm.Chunk, error) {
	for s.err == nil {
		ev, err := s.r.Next()
		if err != nil {
			switch {
			case err == io.EOF:
				if f, ok := s.dec.(Finisher); ok {
					if s.err = f.Finish(); s.err == nil {
						s.err = io.EOF
					}
					break
				}
				s.err = truncated(s.provider, io.ErrUnexpectedEOF)
			case errors.Is(err, sse.ErrEventTooLarge):
				s.err = &llm.Error{Status: 502, Type: llm.TypeAPI, Code: "stream_event_too_large",
					Message:  "the provider sent a stream event larger than the gateway accepts",
					Provider: s.provider, Fault: llm.FaultProvider, Err: err}
			default:
				s.err = TransportError(s.ctx, s.provider, err)
			}
			break
		}
		chunk, done, err := s.dec.Decode(ev)
		if err != nil {
			if ev.Incomplete {
				// The connection ended inside this event: a cut, not a
				// malformed answer.
				err = truncated(s.provider, err)
			}
			s.err = err
			break
		}
		if done {
			s.err = io.EOF
			if chunk != nil {
				return chunk, nil
			}
			break
		}
		if chunk != nil {
			return chunk, nil
		}
	}
	s.Close()
	return nil, s.err
}

// Close closes the upstream body. It is safe to call more than once.
func (s *SSEStream) Close() error {
	var err error
	s.once.Do(func() { err = s.body.Close() })
	return err
}

// truncated is the error for a stream that ended before its end event.
func truncated(provider string, cause error) *llm.Error {
	return &llm.Error{Status: 502, Type: llm.TypeAPI, Code: "stream_truncated",
		Message: "the provider ended the stream before it was complete", Provider: provider,
		Fault: llm.FaultProvider, Err: cause}
}
