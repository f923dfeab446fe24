package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/router"
)

// A model whose fallback_on includes content_policy moves on not only
// after an upstream's content-policy error but also after a 200 answer the
// provider's content filter stopped (finish_reason content_filter:
// Anthropic's "refusal", Gemini's SAFETY family): a whole answer whose
// every choice was filtered, or a stream whose first chunk already
// finishes every choice it carries that way (nothing has reached the
// client yet). The filtered answer is held meanwhile: when no other
// candidate answers, the client gets it after all, as without fallback.

// heldAnswer is a filtered answer kept while other candidates are tried.
type heldAnswer struct {
	target    router.Target
	resp      *llm.Response // a whole answer, or
	stream    *replayStream // a stream, read to its end
	firstByte time.Time
}

// maxHeldChunks bounds the chunks of a filtered stream kept for replay; a
// stream whose choices are finished has only its usage report and end
// left, so more than this is cut.
const maxHeldChunks = 16

// filteredResponse reports whether the content filter stopped every
// choice of resp.
func filteredResponse(resp *llm.Response) bool {
	for i := range resp.Choices {
		if resp.Choices[i].FinishReason != llm.FinishContentFilter {
			return false
		}
	}
	return len(resp.Choices) > 0
}

// filteredChunk reports whether a stream's first chunk already finishes
// every choice it carries on the content filter.
func filteredChunk(c *llm.Chunk) bool {
	for i := range c.Deltas {
		if c.Deltas[i].FinishReason != llm.FinishContentFilter {
			return false
		}
	}
	return len(c.Deltas) > 0
}

// holdResponse keeps a filtered whole answer (the first one, if several
// candidates filter) and returns the error that moves the router on.
func (ex *Exchange) holdResponse(t router.Target, resp *llm.Response) error {
	if ex.held == nil {
		ex.held = &heldAnswer{target: t, resp: resp, firstByte: time.Now()}
	}
	return contentFiltered(t)
}

// holdStream reads the rest of a filtered stream (up to maxHeldChunks),
// closes it, keeps it for replay if none is held yet, and returns the
// error that moves the router on.
func (ex *Exchange) holdStream(t router.Target, s llm.Stream, first *llm.Chunk) error {
	at := time.Now()
	r := &replayStream{chunks: []llm.Chunk{cloneChunk(first)}, end: io.EOF}
	for len(r.chunks) < maxHeldChunks {
		c, err := s.Recv()
		if err != nil {
			r.end = err
			break
		}
		r.chunks = append(r.chunks, cloneChunk(c))
	}
	s.Close()
	if ex.held == nil {
		ex.held = &heldAnswer{target: t, stream: r, firstByte: at}
	}
	return contentFiltered(t)
}

// restoreHeld answers with the held filtered answer when no other
// candidate answered (res failed), as if there had been no fallback;
// not when the client has left (ctx ended).
func (ex *Exchange) restoreHeld(ctx context.Context, res *router.Result) {
	h := ex.held
	ex.held = nil
	if h == nil || res.Err == nil || ctx.Err() != nil {
		return
	}
	res.Err, res.Target = nil, h.target
	if h.stream != nil {
		ex.Stream = h.stream
	} else {
		ex.Response = h.resp
	}
	ex.FirstByte = h.firstByte
}

// contentFiltered is the error of an attempt whose answer the provider's
// content filter stopped; it never reaches the client (see restoreHeld).
func contentFiltered(t router.Target) *llm.Error {
	name := t.Provider.Name()
	return &llm.Error{Status: http.StatusBadRequest, Type: llm.TypeInvalidRequest, Code: router.CodeContentFilter,
		Provider: name, Fault: llm.FaultProvider,
		Message: fmt.Sprintf("provider %q's content filter stopped the answer", name)}
}

// replayStream replays chunks, then ends with end.
type replayStream struct {
	chunks []llm.Chunk
	next   int
	end    error
}

func (s *replayStream) Recv() (*llm.Chunk, error) {
	if s.next < len(s.chunks) {
		s.next++
		return &s.chunks[s.next-1], nil
	}
	return nil, s.end
}

func (s *replayStream) Close() error { return nil }

// cloneChunk copies c deeply: a stream may reuse a chunk it returned.
func cloneChunk(c *llm.Chunk) llm.Chunk {
	out := *c
	out.Deltas = slices.Clone(c.Deltas)
	for i := range out.Deltas {
		d := &out.Deltas[i]
		d.ToolCalls = slices.Clone(d.ToolCalls)
		d.Logprobs, d.Citation, d.Raw = bytes.Clone(d.Logprobs), bytes.Clone(d.Citation), bytes.Clone(d.Raw)
	}
	if c.Usage != nil {
		u := *c.Usage
		out.Usage = &u
	}
	return out
}
