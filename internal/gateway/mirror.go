package gateway

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/usage"
)

// mirror is one route's shadow traffic: which share of its requests is
// copied, where to, and how many copies may run at once. Its counter and
// semaphore belong to one config snapshot (a reload starts afresh).
type mirror struct {
	route string
	model string
	// per10k is the share copied in hundredths of a percent (10000: all).
	per10k  uint64
	timeout time.Duration
	// sem holds a token per shadow request running; full means drop.
	sem chan struct{}
	// seen counts the route's requests, for the share.
	seen atomic.Uint64
}

func newMirror(route string, c config.Mirror) *mirror {
	return &mirror{route: route, model: c.Model, per10k: uint64(c.Percent*100 + 0.5),
		timeout: c.Timeout.Std(), sem: make(chan struct{}, c.MaxInFlight)}
}

// sample reports whether the route's next request is copied. The share
// is exact over any run of requests (1 in 4 for 25%, spread evenly), not
// drawn at random.
func (m *mirror) sample() bool {
	n := m.seen.Add(1)
	return n*m.per10k/10000 > (n-1)*m.per10k/10000
}

// mirrors is the gateway's shadow-traffic machinery: counters (kept
// across reloads) and the shadow requests in flight, which Close cancels
// and waits for.
type mirrors struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context // detached from every client; cancelled by close
	cancel context.CancelFunc

	started, dropped, failed atomic.Uint64
}

func newMirrors() *mirrors {
	m := &mirrors{}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// add registers a shadow request about to start; false once closed.
func (ms *mirrors) add() bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.closed {
		return false
	}
	ms.wg.Add(1)
	return true
}

// close cancels the shadow requests in flight and waits for them (and
// their records) to finish. Safe to call more than once, and on nil.
func (ms *mirrors) close() {
	if ms == nil {
		return
	}
	ms.mu.Lock()
	ms.closed = true
	ms.mu.Unlock()
	ms.cancel()
	ms.wg.Wait()
}

// register exports the counters to reg.
func (ms *mirrors) register(reg *prometheus.Registry) {
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v.Load()) })
	}
	reg.MustRegister(
		counter("sluice_mirror_started_total", "Shadow requests started (traffic mirroring).", &ms.started),
		counter("sluice_mirror_dropped_total", "Shadow requests not sent: the route's max_in_flight was reached.", &ms.dropped),
		counter("sluice_mirror_failed_total", "Shadow requests that ended in an error.", &ms.failed),
	)
}

// MirrorStats are the gateway's traffic-mirroring counters.
type MirrorStats struct {
	Started, Dropped, Failed uint64
}

// MirrorStats returns the traffic-mirroring counters since New.
func (g *Gateway) MirrorStats() MirrorStats {
	return MirrorStats{Started: g.mirrors.started.Load(), Dropped: g.mirrors.dropped.Load(),
		Failed: g.mirrors.failed.Load()}
}

// startMirror copies the request ex (as it went to the primary, after
// every input stage) to the route's candidate, if this request falls in
// the sampled share and the route has room; otherwise the copy is
// dropped and counted. It never blocks: the copy runs on its own
// goroutine, detached from the client, bounded by the mirror's timeout,
// and ends in its own log record with MirrorOf = ex.ID.
func (g *Gateway) startMirror(s *snapshot, m *mirror, ex *Exchange, ri *requestInfo) {
	if !m.sample() {
		return
	}
	select {
	case m.sem <- struct{}{}:
	default:
		g.mirrors.dropped.Add(1)
		g.log.Debug("mirror dropped: max_in_flight reached", "route", m.route, "request_id", ex.ID)
		return
	}
	if !g.mirrors.add() {
		<-m.sem
		return
	}
	g.mirrors.started.Add(1)
	shadow := &Exchange{ID: newRequestID(), Op: ex.Op, Header: ex.Header.Clone(), Route: m.route}
	if ex.Op == OpEmbeddings {
		req := *ex.Embeddings
		req.Model = m.model
		shadow.Embeddings = &req
	} else {
		req := *ex.Request
		req.Model = m.model
		req.IncludeUsage = true // the shadow's tokens are the point
		shadow.Request = &req
	}
	sri := &requestInfo{id: shadow.ID, model: m.model, principal: ri.principal, metadata: ri.metadata,
		snap: s, stream: shadow.Op == OpChat && shadow.Request.Stream}
	go func() {
		defer func() {
			<-m.sem
			g.mirrors.wg.Done()
		}()
		g.runMirror(m, shadow, sri, ex.ID, routeOf(ex))
	}()
}

// runMirror sends the shadow request, reads its answer to the end, and
// queues its record.
func (g *Gateway) runMirror(m *mirror, ex *Exchange, ri *requestInfo, primary, route string) {
	ctx, cancel := context.WithTimeout(g.mirrors.ctx, m.timeout)
	defer cancel()
	ctx = context.WithValue(ctx, infoKey{}, ri)
	ex.Start = time.Now()
	err := g.mirrorPipe.Serve(ctx, ex)
	if err == nil && ex.Stream != nil {
		err = drain(ex.Stream)
		ex.Stream.Close()
	}
	end := time.Now()
	settleUsage(ex)
	var e *llm.Error
	if err != nil {
		e = llm.AsError(err)
		g.mirrors.failed.Add(1)
		g.log.Debug("mirror failed", "route", m.route, "request_id", ex.ID, "mirror_of", primary, "error", err)
	}
	if g.records == nil {
		return
	}
	rec := &store.Record{ID: ex.ID, MirrorOf: primary, Node: g.node, Time: ex.Start, Route: route,
		ModelRequested: m.model, Attempts: ex.Attempts, Stream: ri.stream, Metadata: ri.metadata,
		Status: http.StatusOK, LatencyMicros: end.Sub(ex.Start).Microseconds()}
	if p := ri.principal; p != nil {
		rec.KeyID, rec.TenantID, rec.TeamID = p.KeyID, p.TenantID, p.TeamID
	}
	if ex.Target.Provider != nil {
		rec.Provider, rec.Model = ex.Target.Provider.Name(), ex.Target.Model
	}
	if e != nil {
		rec.Status, rec.ErrorCode, rec.ErrorType = e.Status, e.Code, e.Type
		if rec.ErrorCode == "" {
			rec.ErrorCode = e.Type
		}
	}
	if ri.stream && !ex.FirstByte.IsZero() {
		rec.TTFTMicros = ex.FirstByte.Sub(ex.Start).Microseconds()
	}
	u := ex.Usage
	rec.PromptTokens, rec.CompletionTokens = u.InputTokens, u.OutputTokens
	rec.CachedTokens, rec.CacheWriteTokens, rec.ReasoningTokens = u.CachedInputTokens, u.CacheWriteTokens, u.ReasoningTokens
	rec.Estimated = ex.Estimated
	if rec.Provider != "" && !u.IsZero() {
		s := ri.snap
		if price, ok := s.prices.Lookup(rec.Provider, s.providerTypes[rec.Provider], rec.Model); ok {
			rec.PriceKnown, rec.CostMicros = true, usage.Cost(price, u)
		}
	}
	g.records.Enqueue(rec)
}

// drain reads a stream to its end; io.EOF is success.
func drain(s llm.Stream) error {
	for {
		if _, err := s.Recv(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// routeOf is the API route a request came in on, for its shadow's record.
func routeOf(ex *Exchange) string {
	switch {
	case ex.Op == OpEmbeddings:
		return "/v1/embeddings"
	case ex.Request.Format == "anthropic":
		return "/v1/messages"
	}
	return "/v1/chat/completions"
}
