package gateway

import (
	"context"
	"io"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/router"
	"github.com/sluicehq/sluice/internal/telemetry"
	"github.com/sluicehq/sluice/internal/usage"
)

// pipeline returns the LLM stages in the order a request meets them. The
// order is reviewed here and nowhere else:
//
//	routes   — pins the config snapshot; the first matching conditional
//	           route may rewrite the model and mirror the request
//	usage    — records token usage from the response or as the stream passes
//	limits   — rate limits of the key, team, tenant and client IP: 429
//	           rate_limit_exceeded when one is spent; holds a concurrency
//	           slot until the answer (or its stream) ends
//	budget   — 429 budget_exceeded once the key's, team's or tenant's
//	           budget is spent (the cost is counted when a request finishes)
//	cache    — serves a cached answer (exact or semantic), or shares an
//	           identical request's upstream call, or stores the answer
//	           (see cache_stage.go); a hit still counts as a request
//	           against rate limits but spends no tokens or budget
//	dispatch — the router picks candidates; the provider is called
//
//	guard    — guardrails (see guard_stage.go): a blocked request never
//	           reaches the limits, the cache or a provider; answers, cached
//	           ones included, are checked on the way out (streams as they
//	           flow) and redactions restored
func (g *Gateway) pipeline() Handler {
	return chain(HandlerFunc(g.dispatch),
		g.routesStage,
		usageStage,
		g.guardStage,
		g.limitsStage,
		g.budgetStage,
		g.cacheStage,
	)
}

// dispatch plans the request with the router (the model's strategy
// orders its targets; a caller pinned to regions keeps only targets in
// them) and runs the plan: retries, fallbacks, breakers and timeouts are
// the router's (see router.Run). The x-sluice-* routing headers override
// the model's policy for this request.
func (g *Gateway) dispatch(ctx context.Context, ex *Exchange) error {
	rt := g.snapFor(ctx).router
	var model string
	stream := false
	if ex.Op == OpEmbeddings {
		model = ex.Embeddings.Model
	} else {
		model, stream = ex.Request.Model, ex.Request.Stream
	}
	req := router.Request{Model: model, Stream: stream}
	if p := infoFrom(ctx).principal; p.Pinned() {
		req.Regions = p
	}
	var buf [8]router.Target
	plan, err := rt.Plan(buf[:0], req)
	if ex.Route == "" {
		ex.Route = "direct"
		if plan.Virtual != nil {
			ex.Route = plan.Virtual.Name
		}
	}
	if err != nil {
		return err
	}
	if err := applyRoutingControls(ex.Header, &plan.Policy); err != nil {
		return err
	}
	if ex.Op == OpChat {
		if plan.Windows() {
			// Sized for the context-window pre-skip, with the cheap
			// estimate the routes and limits use.
			plan.PromptTokens, _ = estimatePromptTokens(ex.Request)
			if mt := ex.Request.MaxTokens; mt != nil {
				plan.MaxTokens = *mt
			}
		}
		ex.holdFiltered = plan.Policy.FallbackOn&router.FallbackContentPolicy != 0 && len(plan.Candidates) > 1
	}
	var rs *routedStream
	if stream {
		rs = &routedStream{}
	}
	if stream && plan.Policy.Idle > 0 {
		// A context of its own, which the idle timer cancels.
		rs.ctx = ctx
		ctx, rs.cancel = context.WithCancelCause(ctx)
		rs.sctx, rs.idleFor = ctx, plan.Policy.Idle
		cancel := rs.cancel
		rs.idle = time.AfterFunc(time.Hour, func() { cancel(errStreamIdle) })
		rs.idle.Stop()
	}
	res := rt.Run(ctx, &plan, func(ctx context.Context, t router.Target) error {
		err := g.attempt(ctx, ex, t)
		if err != nil {
			g.noteAttemptFailure(ctx, ex, t, err)
		}
		return err
	})
	ex.restoreHeld(ctx, &res)
	ex.Target, ex.Attempts = res.Target, res.Attempts
	if g.metrics != nil && (res.Retries > 0 || res.Fallbacks > 0) {
		g.metrics.RoutingRetries(res.Target.Provider.Name(), res.Retries, res.Fallbacks)
	}
	if res.Err != nil {
		if rs != nil && rs.cancel != nil {
			rs.cancel(nil)
		}
		return res.Err
	}
	if rs != nil {
		rs.Stream, rs.res = ex.Stream, &res
		ex.Stream = rs
	}
	return nil
}

// attempt calls one target, with a trace span and an error count.
func (g *Gateway) attempt(ctx context.Context, ex *Exchange, t router.Target) error {
	name := t.Provider.Name()
	var span trace.Span
	if g.tracer != nil {
		op := "chat"
		if ex.Op == OpEmbeddings {
			op = "embeddings"
		}
		ctx, span = g.tracer.StartAttempt(ctx, op, g.snapFor(ctx).providerTypes[name], t.Model)
	}
	err := call(ctx, ex, t)
	if span != nil {
		var u llm.Usage
		if ex.Response != nil {
			u = ex.Response.Usage
		}
		telemetry.EndAttempt(span, err, u, t.Model)
	}
	if err != nil && g.metrics != nil {
		g.metrics.UpstreamError(name, llm.AsError(err).Code)
	}
	return err
}

// call sends the exchange to one target (with the target's max_tokens cap
// and extra params applied to a copy of the request). With holdFiltered,
// an answer the content filter stopped is held and fails the attempt.
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
		capTokens(&req, t.MaxTokens)
		if o := t.Overrides; o != nil && o.Patch != nil {
			req.Patch = o.Patch
		}
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
			if ex.holdFiltered && filteredChunk(first) {
				return ex.holdStream(t, s, first)
			}
			ex.Stream, ex.FirstByte = &peekedStream{Stream: s, first: first}, time.Now()
			return nil
		}
		resp, err := t.Provider.Chat(ctx, &req)
		if err != nil {
			return err
		}
		if ex.holdFiltered && filteredResponse(resp) {
			return ex.holdResponse(t, resp)
		}
		ex.Response, ex.FirstByte = resp, time.Now()
		return nil
	}
}

// usageStage records the answer's token usage in the exchange: at once for
// whole answers, and as the usage chunk passes for streams. It also keeps
// the streamed text (bounded) so settleUsage can count tokens if the
// provider never reports them.
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

// usageStream copies each usage report into the exchange (the last one
// wins) and feeds the output text to the exchange's token counter.
type usageStream struct {
	llm.Stream
	ex *Exchange
}

func (s *usageStream) Recv() (*llm.Chunk, error) {
	c, err := s.Stream.Recv()
	if err != nil {
		if err == io.EOF {
			s.ex.streamEnded = true
		}
		return c, err
	}
	for i := range c.Deltas {
		d := &c.Deltas[i]
		if d.FinishReason != "" {
			s.ex.streamFinished = true
		}
		s.ex.output.Add(d.Text)
		s.ex.output.Add(d.Reasoning)
		s.ex.output.Add(d.Refusal)
		for j := range d.ToolCalls {
			s.ex.output.Add(d.ToolCalls[j].Name)
			s.ex.output.Add(d.ToolCalls[j].Arguments)
		}
	}
	if c.Usage != nil {
		s.ex.Usage = *c.Usage
		// A report with or after the finish is the final count (OpenAI
		// sends it after, Anthropic and Gemini with the finish).
		s.ex.usageFinal = s.ex.streamFinished
	}
	return c, err
}

// settleUsage makes ex.Usage final once the answer has been sent. Where
// the provider reported no usage — some servers never do, and a stream cut
// short (by the provider or by the client leaving) ends before its usage
// report — Sluice counts the tokens itself (a stream cut after its final
// usage report keeps the report) and sets ex.Estimated. Reported
// numbers are kept where they exist (Anthropic reports input tokens at the
// start of a stream).
func settleUsage(ex *Exchange) {
	switch {
	case ex.Stream != nil:
		if ex.usageFinal || ex.streamEnded && !ex.Usage.IsZero() {
			return
		}
		if ex.Usage.InputTokens == 0 {
			ex.Usage.InputTokens = usage.CountRequest(ex.Request)
		}
		if n := ex.output.Tokens(ex.Target.Model); n > ex.Usage.OutputTokens {
			ex.Usage.OutputTokens = n
		}
		ex.Estimated = true
	case ex.Response != nil:
		if !ex.Usage.IsZero() {
			return
		}
		ex.Usage.InputTokens = usage.CountRequest(ex.Request)
		for i := range ex.Response.Choices {
			ex.Usage.OutputTokens += usage.CountText(ex.Target.Model, ex.Response.Choices[i].Message.Text())
		}
		ex.Estimated = true
	case ex.EmbeddingsResponse != nil:
		if !ex.Usage.IsZero() {
			return
		}
		ex.Usage.InputTokens = usage.CountEmbeddings(ex.Embeddings)
		ex.Estimated = true
	}
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
