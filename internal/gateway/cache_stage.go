package gateway

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/sluicehq/sluice/internal/cache"
	"github.com/sluicehq/sluice/internal/llm"
)

// cacheStage serves chat requests from the response cache and stores
// their answers (see cache.go for the policy and controls). In order:
//
//  1. an exact hit (same tenant, model and answer-changing fields; a
//     stream flag of its own: a cached answer replays as a stream and a
//     streamed one is served whole) is served at once;
//  2. a request identical to one already on its way upstream waits for
//     that answer (coalescing) rather than calling the provider again;
//  3. the semantic cache, where on, embeds the prompt and serves the
//     answer of the most similar cached prompt above the threshold;
//  4. otherwise the request goes on, and its answer is stored (a stream
//     as it ends) unless it was cut short, too big or not cacheable.
//
// A cache error never fails a request: it counts as a miss.
func (g *Gateway) cacheStage(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, ex *Exchange) error {
		c := g.cache
		if c == nil || ex.Op != OpChat {
			return next.Serve(ctx, ex)
		}
		ctl, err := readCacheControls(ex.Header)
		if err != nil {
			return err // a bad cache header is refused wherever a cache exists
		}
		ri := infoFrom(ctx)
		pol := c.policyFor(g.snapFor(ctx), ex)
		if !pol.enabled {
			return next.Serve(ctx, ex)
		}
		if ctl.ttl > 0 {
			pol.ttl = ctl.ttl
		}
		if ex.cacheSkip {
			ctl.skip, ctl.noStore = true, true
		}
		ri.cacheStatus = cacheMiss
		if ctl.skip {
			ri.cacheStatus = cacheBypass
			if ctl.noStore {
				return next.Serve(ctx, ex)
			}
		}
		ns := cacheNamespace(ri.principal, pol.shared)
		var key cache.Key
		if ctl.key != "" {
			key = cache.CustomKey(ns, ex.Request.Model, ctl.key)
		} else {
			key = cache.KeyFor(ns, ex.Request)
		}
		ri.cacheKey = key.String()
		m := &cacheFill{c: c, key: key, pol: pol, ex: ex, store: !ctl.noStore}
		if !ctl.skip {
			if e, _ := c.get(ctx, key); e != nil {
				return serveCached(ex, ri, e, cacheHit)
			}
			if c.group != nil {
				if served, err := m.join(ctx, ri); served {
					return err
				}
			}
			if pol.semantic && c.index != nil && ctl.key == "" && c.semanticEligible(ex.Request) {
				if e, ok := g.semanticLookup(ctx, m, ri); ok {
					if m.call != nil {
						m.call.SetSource(e.Provider, e.Upstream)
					}
					m.finish(e.Response)
					return serveCached(ex, ri, e, cacheSemanticHit)
				}
			}
		}
		err = next.Serve(ctx, ex)
		return m.done(ctx, err)
	})
}

// serveCached answers an exchange with a stored entry.
func serveCached(ex *Exchange, ri *requestInfo, e *cache.Entry, status string) error {
	ri.cacheStatus = status
	ri.cacheAge = int64(time.Since(e.Created) / time.Second)
	ri.provider, ri.upstream = e.Provider, e.Upstream
	ex.cacheServed = true
	ex.FirstByte = time.Now()
	if e.Error != nil {
		x := *e.Error // the caller may not change the entry's
		return &x
	}
	if ex.Request.Stream {
		ex.Stream = cache.Replay(e.Response)
	} else {
		ex.Response = e.Response
	}
	return nil
}

// cacheFill is a request the cache could not answer at once: the
// coalescing call it leads (if any), the vector its prompt embedded to
// (if the semantic cache looked), and what storing its answer needs.
type cacheFill struct {
	c     *responseCache
	key   cache.Key
	pol   cachePolicy
	ex    *Exchange
	store bool
	// call is the coalescing call this request leads; nil when it leads
	// none (coalescing off, too many waiters, or it waited in vain).
	call *cache.Call
	// scope and vec are the semantic index's, for storing; vec is nil
	// when the semantic cache did not embed the prompt.
	scope string
	vec   []float32
}

// join coalesces the request with an identical one on its way upstream.
// It reports served when this request was answered (err is then its
// outcome); otherwise the request goes on, leading the call if it got to.
func (m *cacheFill) join(ctx context.Context, ri *requestInfo) (served bool, err error) {
	call, leader, ok := m.c.group.Join(m.key)
	if !ok {
		return false, nil
	}
	if leader {
		m.call = call
		return false, nil
	}
	resp, s, err := call.Wait(ctx, m.ex.Request.Stream)
	switch {
	case err == nil:
		ri.cacheStatus = cacheCoalesced
		ri.provider, ri.upstream = call.Source()
		m.ex.cacheServed = true
		m.ex.FirstByte = time.Now()
		if s != nil {
			m.ex.Stream = s
		} else {
			m.ex.Response = resp
		}
		return true, nil
	case ctx.Err() != nil:
		return true, clientGone(ctx.Err())
	}
	// The leader failed or was too slow: go alone.
	if m.c.metrics != nil {
		m.c.metrics.CoalesceGaveUp(errors.Is(err, cache.ErrTimeout))
	}
	return false, nil
}

// finish hands a whole answer to the requests waiting on this one.
func (m *cacheFill) finish(resp *llm.Response) {
	if m.call != nil {
		m.call.Finish(resp)
		m.call = nil
	}
}

// semanticLookup embeds the prompt and looks for a cached answer to a
// similar one. The vector is kept for storing this request's own answer.
func (g *Gateway) semanticLookup(ctx context.Context, m *cacheFill, ri *requestInfo) (*cache.Entry, bool) {
	c := g.cache
	text := cache.SemanticText(m.ex.Request, c.sem.Input)
	if text == "" {
		return nil, false
	}
	vec, err := g.embed(ctx, text)
	if err != nil {
		c.failed("embed", err)
		return nil, false
	}
	m.scope, m.vec = cache.Scope(cacheNamespace(ri.principal, m.pol.shared), m.ex.Request.Model), vec
	k, sim, ok, err := c.index.Search(ctx, m.scope, vec, m.pol.threshold)
	if err != nil {
		c.failed("search", err)
	}
	if !ok {
		return nil, false
	}
	e, failed := c.get(ctx, k)
	if e == nil {
		if !failed {
			// The answer expired or was evicted: forget its vector.
			if err := c.index.Remove(ctx, m.scope, k); err != nil {
				c.failed("index", err)
			}
		}
		return nil, false
	}
	ri.cacheSimilarity = sim
	ri.cacheKey = k.String() // the answer served: what a purge names
	return e, true
}

// done finishes a miss once the rest of the pipeline answered: it hands
// the answer to the waiting requests and stores it (a stream as it ends).
func (m *cacheFill) done(ctx context.Context, err error) error {
	ex := m.ex
	if m.call != nil && ex.Target.Provider != nil {
		m.call.SetSource(ex.Target.Provider.Name(), ex.Target.Model)
	}
	switch {
	case err != nil:
		if m.call != nil {
			m.call.Fail()
		}
		if e := llm.AsError(err); m.store && e.Provider != "" && m.pol.cacheable(e.Status) {
			m.save(ctx, &cache.Entry{Error: e})
		}
		return err
	case ex.Response != nil:
		m.finish(ex.Response)
		if m.store && m.pol.cacheable(200) && m.fits(ex.Response) {
			m.save(ctx, &cache.Entry{Response: ex.Response})
		}
	case ex.Stream != nil:
		if m.call != nil {
			ex.Stream = m.call.Tee(ex.Stream)
			m.call = nil
		}
		if m.store && m.pol.cacheable(200) {
			ex.Stream = &storingStream{Stream: ex.Stream, m: m, ctx: ctx, col: cache.NewCollector(m.pol.maxEntry)}
		}
	}
	return nil
}

// fits reports whether a whole answer is small enough to store: the
// bytes of its text, reasoning, tool calls and opaque parts.
func (m *cacheFill) fits(resp *llm.Response) bool {
	n := 0
	for i := range resp.Choices {
		for _, p := range resp.Choices[i].Message.Parts {
			n += len(p.Text) + len(p.Signature) + len(p.Raw)
			if p.ToolCall != nil {
				n += len(p.ToolCall.Name) + len(p.ToolCall.Arguments)
			}
		}
		n += len(resp.Choices[i].Logprobs)
	}
	return n <= m.pol.maxEntry
}

// save stores an entry (and its vector, for the semantic cache).
func (m *cacheFill) save(ctx context.Context, e *cache.Entry) {
	ex := m.ex
	e.Model, e.Created = ex.Request.Model, time.Now()
	if ex.Target.Provider != nil {
		e.Provider, e.Upstream = ex.Target.Provider.Name(), ex.Target.Model
	}
	if !m.c.put(ctx, m.key, e, m.pol.ttl) {
		return
	}
	ex.cacheStored = true
	if m.vec == nil || e.Response == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cacheWriteTimeout)
	defer cancel()
	if err := m.c.index.Add(ctx, m.scope, m.vec, m.key, m.pol.ttl); err != nil {
		m.c.failed("index", err)
	}
}

// storingStream collects a streamed answer and stores it when the stream
// ends complete; a stream cut short or too big is not stored.
type storingStream struct {
	llm.Stream
	m   *cacheFill
	ctx context.Context
	col *cache.Collector
	// off is set once collecting stopped (too big, or not storable).
	off bool
}

func (s *storingStream) Recv() (*llm.Chunk, error) {
	c, err := s.Stream.Recv()
	switch {
	case err == io.EOF:
		if !s.off {
			s.off = true
			if resp, ok := s.col.Response(); ok {
				s.m.save(s.ctx, &cache.Entry{Response: resp})
			}
		}
	case err != nil:
		s.off = true
	case !s.off:
		s.off = !s.col.Add(c)
	}
	return c, err
}
