package gateway

import (
	"context"
	"io"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/router"
)

// pipeline returns the LLM stages in the order a request meets them. The
// order is reviewed here and nowhere else:
//
//	usage    — records token usage from the response or as the stream passes
//	dispatch — the router picks candidates; the provider is called
//
// Policy stages (guardrails, limits, cache) go between usage and dispatch
// as they are built.
func (g *Gateway) pipeline() Handler {
	return chain(HandlerFunc(g.dispatch),
		usageStage,
	)
}

// dispatch resolves the requested model and calls the candidates in order
// until one answers.
func (g *Gateway) dispatch(ctx context.Context, ex *Exchange) error {
	rt := g.router.Load()
	var model string
	if ex.Op == OpEmbeddings {
		model = ex.Embeddings.Model
	} else {
		model = ex.Request.Model
	}
	candidates, err := rt.Resolve(model)
	if err != nil {
		return err
	}
	t, n, err := router.Do(ctx, candidates, func(ctx context.Context, t router.Target) error {
		return call(ctx, ex, t)
	})
	ex.Target, ex.Attempts = t, n
	return err
}

// call sends the exchange to one target.
func call(ctx context.Context, ex *Exchange, t router.Target) error {
	switch ex.Op {
	case OpEmbeddings:
		emb, ok := t.Provider.(provider.Embedder)
		if !ok {
			return &llm.Error{Status: 400, Type: llm.TypeInvalidRequest, Code: "unsupported_operation",
				Param: "model", Provider: t.Provider.Name(), Fault: llm.FaultCaller,
				Message: "provider " + t.Provider.Name() + " does not serve embeddings"}
		}
		req := *ex.Embeddings
		req.Model = t.Model
		resp, err := emb.Embed(ctx, &req)
		if err != nil {
			return err
		}
		ex.EmbeddingsResponse = resp
		return nil
	default:
		req := *ex.Request
		req.Model = t.Model
		if ex.Request.Stream {
			s, err := t.Provider.ChatStream(ctx, &req)
			if err != nil {
				return err
			}
			// Read the first chunk before committing to this target:
			// providers report overload and similar failures as the first
			// event of a 200 stream, and until a byte reaches the client
			// another target can still answer.
			first, err := s.Recv()
			if err != nil {
				s.Close()
				if err == io.EOF {
					err = &llm.Error{Status: 502, Type: llm.TypeAPI, Code: "empty_stream", Provider: t.Provider.Name(),
						Fault: llm.FaultProvider, Message: "the provider ended the stream without sending anything"}
				}
				return err
			}
			ex.Stream, ex.FirstByte = &peekedStream{Stream: s, first: first}, time.Now()
			return nil
		}
		resp, err := t.Provider.Chat(ctx, &req)
		if err != nil {
			return err
		}
		ex.Response, ex.FirstByte = resp, time.Now()
		return nil
	}
}

// usageStage records the answer's token usage in the exchange: at once for
// whole answers, and as the usage chunk passes for streams.
func usageStage(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, ex *Exchange) error {
		if err := next.Serve(ctx, ex); err != nil {
			return err
		}
		switch {
		case ex.Response != nil:
			ex.Usage = ex.Response.Usage
		case ex.EmbeddingsResponse != nil:
			ex.Usage = ex.EmbeddingsResponse.Usage
		case ex.Stream != nil:
			ex.Stream = &usageStream{Stream: ex.Stream, ex: ex}
		}
		return nil
	})
}

// usageStream copies each usage report into the exchange; the last one wins.
type usageStream struct {
	llm.Stream
	ex *Exchange
}

func (s *usageStream) Recv() (*llm.Chunk, error) {
	c, err := s.Stream.Recv()
	if err == nil && c.Usage != nil {
		s.ex.Usage = *c.Usage
	}
	return c, err
}

// peekedStream returns a chunk already read from its stream before the
// rest of it.
type peekedStream struct {
	llm.Stream
	first *llm.Chunk
}

func (s *peekedStream) Recv() (*llm.Chunk, error) {
	if c := s.first; c != nil {
		s.first = nil
		return c, nil
	}
	return s.Stream.Recv()
}
