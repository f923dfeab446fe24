package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// Call sends the request to one target. ctx ends when the attempt must
// stop (the client left, or a timeout). For a streamed plan, a nil error
// means the first chunk has arrived: after that nothing is retried.
type Call func(ctx context.Context, t Target) error

// Result is the outcome of Run.
type Result struct {
	// Target answered (or failed last); Attempts counts every attempt,
	// retries included; Err is nil on success.
	Target   Target
	Attempts int
	Err      error
	// Retries counts attempts that repeated a target; Fallbacks counts
	// moves to another candidate after a failure.
	Retries, Fallbacks int

	release func(err error)
}

// Release ends a successful streamed request: the target stops counting
// it in flight, and its context is released. err is how the stream ended
// (nil or io.EOF for a clean end); an upstream failure mid-stream counts
// against the target's health. Call it exactly once for a streamed plan's
// success; it does nothing otherwise.
func (r *Result) Release(err error) {
	if f := r.release; f != nil {
		r.release = nil
		f(err)
	}
}

// Errors that end attempts early; the attempt's error then says which.
var (
	errAttemptTimeout = errors.New("router: attempt timeout")
	errRequestTimeout = errors.New("router: request timeout")
)

// Run sends the request to the plan's candidates in order until one
// answers or none is left. Each target gets up to Policy.MaxAttempts
// attempts when its failures are retryable, spaced by the backoff (or the
// upstream's Retry-After, up to MaxRetryAfter); a retryable failure, an
// unsupported parameter and, where FallbackOn says, a context-length or
// content-policy refusal move on to the next candidate; any other error,
// the client leaving or the request timeout end the run. Targets whose
// breaker is open (or whose provider is down) are skipped; if that skips
// every candidate, the one that failed least recently is tried anyway.
// Candidates too small for the request are skipped before any call (see
// Plan.PromptTokens); a target's own Retry replaces the policy's retry
// settings for that target.
//
// For a streamed plan, the caller must call Result.Release when the
// stream ends (on success only).
func (r *Router) Run(ctx context.Context, p *Plan, call Call) Result {
	var res Result
	pol := &p.Policy
	rctx, deadline := ctx, reqDeadline{}
	if pol.RequestTimeout > 0 {
		var cancel context.CancelCauseFunc
		rctx, cancel = context.WithCancelCause(ctx)
		deadline = reqDeadline{cancel: cancel, timer: time.AfterFunc(pol.RequestTimeout, func() { cancel(errRequestTimeout) })}
	}
	fit := p.windowFit()
	minWindow := -1 // after a context-length refusal: only larger windows
	refused := 0    // candidates skipped because their breaker was open
	moved := false
	var last error
	var scratch Policy // a target's own retry settings, when it has some
	for i := range p.Candidates {
		t := &p.Candidates[i]
		if t.Provider == nil || minWindow >= 0 && t.ContextWindow <= minWindow || fit.skip(p, t) {
			continue // a provider-less target never comes out of Plan; never call one
		}
		tp := pol.forTarget(t, &scratch)
		perTarget := tp.attempts()
		next, tried := false, false
		for n := 1; n <= perTarget && !next; n++ {
			if res.Attempts >= maxTotalAttempts {
				break
			}
			ok, probe := t.h.allow()
			if !ok {
				if n == 1 {
					refused++
				}
				break
			}
			if moved && n == 1 {
				res.Fallbacks++
			}
			if n > 1 {
				res.Retries++
			}
			res.Attempts++
			res.Target, tried = *t, true
			err, release := r.attempt(ctx, rctx, p, t, call, probe)
			if err == nil {
				res.Target = *t // with the health a first answer adopted
				return deadline.succeed(res, p, release)
			}
			last = err
			e := llm.AsError(err)
			if ctx.Err() != nil || context.Cause(rctx) == errRequestTimeout {
				res.Err = err
				deadline.end()
				return res
			}
			switch judge(e, pol.FallbackOn) {
			case verdictStop:
				res.Err = err
				deadline.end()
				return res
			case verdictNext:
				next = true
			case verdictLonger:
				minWindow = t.ContextWindow
				next = true
			case verdictRetry:
				if n == perTarget {
					break
				}
				d, ok := tp.wait(n, e.RetryAfter)
				if !ok {
					next = true
					break
				}
				if d > 0 && !r.sleep(rctx, d) {
					if ctx.Err() == nil {
						res.Err = requestTimeout(pol.RequestTimeout)
					} else {
						res.Err = err
					}
					deadline.end()
					return res
				}
			}
		}
		moved = moved || tried
	}
	if res.Attempts == 0 && refused > 0 {
		// Every candidate's breaker is open: rather than fail at once, try
		// the one that failed least recently.
		t := leastRecentlyFailed(p, fit)
		res.Attempts, res.Target = 1, *t
		err, release := r.attempt(ctx, rctx, p, t, call, false)
		if err == nil {
			res.Target = *t
			return deadline.succeed(res, p, release)
		}
		last = err
	}
	deadline.end()
	if last == nil {
		last = &llm.Error{Status: http.StatusServiceUnavailable, Type: llm.TypeOverloaded, Code: "no_target_available",
			Fault: llm.FaultProvider, Message: "no target of this model is available"}
	}
	res.Err = last
	return res
}

// reqDeadline is the request timeout's timer and the cancel of its
// context; the zero value is no timeout.
type reqDeadline struct {
	timer  *time.Timer
	cancel context.CancelCauseFunc
}

// end stops the timer and releases the context.
func (d reqDeadline) end() {
	if d.timer != nil {
		d.timer.Stop()
		d.cancel(nil)
	}
}

// succeed finishes res after a successful attempt. A whole answer
// releases the deadline at once. A stream keeps the request context until
// Release but stops the timer now: RequestTimeout bounds the first byte,
// not the stream; if the timer fired as the answer arrived, the stream is
// released and res fails with the request timeout.
func (d reqDeadline) succeed(res Result, p *Plan, release func(error)) Result {
	if !p.Stream {
		d.end()
		return res
	}
	res.release = func(err error) { release(err); d.end() }
	if d.timer != nil && !d.timer.Stop() {
		// The deadline passed as the answer arrived.
		res.Release(nil)
		res.Err = requestTimeout(p.Policy.RequestTimeout)
	}
	return res
}

// attempt makes one attempt on t with the attempt timeout, keeping the
// target's in-flight count and recording the outcome. On success of a
// streamed plan, release ends it; otherwise release is nil and everything
// is released already.
//
// A direct target not tracked yet (adopt) is tracked from its first
// success on; that attempt itself is not counted in flight.
//
//lint:ignore ST1008 the release func is the second result by design: callers name it done
func (r *Router) attempt(ctx, rctx context.Context, p *Plan, t *Target, call Call, probe bool) (error, func(error)) {
	h := t.h
	counted := h != nil
	if counted {
		h.inflight.Add(1)
	}
	d := p.Policy.AttemptTimeout
	if p.Stream && p.Policy.TTFT > 0 {
		d = p.Policy.TTFT
	}
	actx, cancel := rctx, context.CancelCauseFunc(nil)
	var timer *time.Timer
	if d > 0 {
		actx, cancel = context.WithCancelCause(rctx)
		timer = time.AfterFunc(d, func() { cancel(errAttemptTimeout) })
	}
	start := time.Now()
	err := call(actx, *t)
	took := time.Since(start)
	if timer != nil {
		timer.Stop()
	}
	if err != nil {
		switch cause := context.Cause(actx); {
		case ctx.Err() != nil:
		case cause == errAttemptTimeout:
			err = attemptTimeout(t, d, p.Stream && p.Policy.TTFT > 0)
		case cause == errRequestTimeout:
			err = requestTimeout(p.Policy.RequestTimeout)
		}
		if cancel != nil {
			cancel(nil)
		}
		if counted {
			h.inflight.Add(-1)
		}
		o := health(llm.AsError(err))
		if context.Cause(rctx) == errRequestTimeout && context.Cause(actx) != errAttemptTimeout {
			o = outcomeNeutral // we stopped it, not the target failing
		}
		h.record(o, probe, p.Stream, took)
		return err, nil
	}
	if h == nil && t.adopt {
		h = r.health.Target(t.Provider.Name(), t.Model, false)
		t.h, t.adopt = h, false
	}
	h.record(outcomeSuccess, probe, p.Stream, took)
	if !p.Stream {
		if cancel != nil {
			cancel(nil)
		}
		if counted {
			h.inflight.Add(-1)
		}
		return nil, nil
	}
	return nil, func(err error) {
		if cancel != nil {
			cancel(nil)
		}
		if h == nil {
			return
		}
		if counted {
			h.inflight.Add(-1)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			if e := llm.AsError(err); health(e) == outcomeFailure {
				h.record(outcomeFailure, false, true, 0)
			}
		}
	}
}

// leastRecentlyFailed returns the candidate with a provider, not left out
// by the context-window pre-skip, whose last failure is oldest (one at
// least qualifies: its breaker refused).
func leastRecentlyFailed(p *Plan, fit windowFit) *Target {
	var best *Target
	for i := range p.Candidates {
		t := &p.Candidates[i]
		if t.Provider == nil || fit.skip(p, t) {
			continue
		}
		if best == nil || t.h != nil && (best.h == nil || t.h.lastFail.Load() < best.h.lastFail.Load()) {
			best = t
		}
	}
	return best
}

func attemptTimeout(t *Target, d time.Duration, ttft bool) *llm.Error {
	what := "the attempt timeout"
	if ttft {
		what = "the time-to-first-token timeout"
	}
	return &llm.Error{Status: http.StatusGatewayTimeout, Type: llm.TypeTimeout, Code: "upstream_timeout",
		Provider: t.Provider.Name(), Fault: llm.FaultProvider, Err: errAttemptTimeout,
		Message: fmt.Sprintf("provider %q did not answer within %s (%s)", t.Provider.Name(), what, d)}
}

func requestTimeout(d time.Duration) *llm.Error {
	return &llm.Error{Status: http.StatusGatewayTimeout, Type: llm.TypeTimeout, Code: "request_timeout",
		Fault: llm.FaultProvider, Err: errRequestTimeout,
		Message: fmt.Sprintf("no answer within the request timeout (%s)", d)}
}

// sleepCtx waits d unless ctx ends first; it reports whether it waited.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
