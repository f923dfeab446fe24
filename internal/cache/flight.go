package cache

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// Errors of Call.Wait. Both tell the follower to call upstream itself.
var (
	// ErrTimeout: the leader published nothing usable within the group's
	// timeout.
	ErrTimeout = errors.New("cache: timed out waiting for the shared answer")
	// ErrLeaderFailed: the leader got no answer the follower can use.
	ErrLeaderFailed = errors.New("cache: the shared request failed")
)

// errFollowerClosed is what a follower's stream returns after its Close.
var errFollowerClosed = errors.New("cache: shared stream closed")

// Group coalesces identical concurrent requests: the first caller for a
// key (the leader) calls upstream, and later callers (followers) share its
// answer, whole or as it streams. A Group is safe for concurrent use.
type Group struct {
	// maxWaiters is the most followers one call takes; 0 means none.
	maxWaiters int
	// timeout bounds a follower's wait for the leader's first
	// publication; 0 means followers wait until their context ends.
	timeout time.Duration

	mu    sync.Mutex
	calls map[Key]*Call
}

// NewGroup returns a group whose calls take at most maxWaiters followers
// each (0 or less: none, every later caller proceeds alone) and whose
// followers wait at most timeout for the leader (0 or less: no limit but
// their context).
func NewGroup(maxWaiters int, timeout time.Duration) *Group {
	return &Group{maxWaiters: max(maxWaiters, 0), timeout: max(timeout, 0), calls: make(map[Key]*Call)}
}

// Join joins the flight for k. The first caller for k is the leader
// (leader=true) and must call exactly one of Finish, Fail or Tee; later
// callers are followers and call Wait. ok=false (and c=nil) when k already
// has maxWaiters followers: the caller proceeds alone. The key leaves the
// group once the leader has published its end (Finish, Fail, or the end of
// its tee'd stream) or a follower timed out waiting: later Joins start a
// new flight, while followers that joined before still read this one.
func (g *Group) Join(k Key) (c *Call, leader, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c := g.calls[k]; c != nil {
		if c.waiters >= g.maxWaiters {
			return nil, false, false
		}
		c.waiters++
		return c, false, true
	}
	c = &Call{g: g, key: k, done: make(chan struct{})}
	g.calls[k] = c
	return c, true, true
}

// Len returns the number of keys in flight.
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// forget removes c's key from the group, if c still holds it.
func (g *Group) forget(c *Call) {
	g.mu.Lock()
	if g.calls[c.key] == c {
		delete(g.calls, c.key)
	}
	g.mu.Unlock()
}

// callState is what the leader published.
type callState uint8

const (
	stateOpen     callState = iota // nothing yet
	stateFinished                  // a whole answer (resp)
	stateFailed                    // no answer
	stateTeed                      // a stream (log, end, endErr)
)

// Call is one flight: a leader's request and the followers sharing it.
// The leader appends to it and never waits for followers.
type Call struct {
	g       *Group
	key     Key
	waiters int // followers joined; guarded by g.mu

	mu    sync.Mutex
	state callState
	resp  *llm.Response
	// log holds clones of the leader's chunks (one answer); it only
	// grows, and is fixed once ended.
	log    []*llm.Chunk
	ended  bool
	endErr error // why the tee'd stream ended; nil for io.EOF
	// more is closed (and set to nil) at each publication; it is made
	// only when a follower waits. done is closed at the end.
	more chan struct{}
	done chan struct{}

	collectOnce sync.Once
	collected   *llm.Response // the log as a whole answer, nil if not collectible

	// provider and upstream say who answered (SetSource), guarded by mu.
	provider, upstream string
}

// SetSource records which provider and upstream model answered, for the
// followers' records (the cost they saved). The leader calls it before
// Finish or Tee.
func (c *Call) SetSource(provider, upstream string) {
	c.mu.Lock()
	c.provider, c.upstream = provider, upstream
	c.mu.Unlock()
}

// Source returns what SetSource recorded; empty strings when the leader
// recorded nothing.
func (c *Call) Source() (provider, upstream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.provider, c.upstream
}

// Finish publishes the leader's whole answer. Followers share it
// read-only: each gets its own shallow copy of the Response, whose
// top-level fields it may change, but Choices and everything under them
// are shared and must not be modified, by followers or by the leader once
// it has called Finish. A nil resp is Fail. Only the leader's first
// Finish, Fail or Tee counts.
func (c *Call) Finish(resp *llm.Response) {
	if resp == nil {
		c.Fail()
		return
	}
	c.end(stateFinished, resp, nil)
}

// Fail publishes that the leader got no answer: waiting followers get
// ErrLeaderFailed and go upstream themselves.
func (c *Call) Fail() { c.end(stateFailed, nil, nil) }

// end publishes the end of the call, in state (stateTeed: the end of the
// tee'd stream, with err, else a Finish or Fail of an open call), and
// removes the key from the group. A call ends once.
func (c *Call) end(state callState, resp *llm.Response, err error) {
	from := stateOpen
	if state == stateTeed {
		from = stateTeed
	}
	c.mu.Lock()
	if c.ended || c.state != from {
		c.mu.Unlock()
		return
	}
	c.state, c.resp, c.ended, c.endErr = state, resp, true, err
	c.wake()
	close(c.done)
	c.mu.Unlock()
	c.g.forget(c)
}

// wake wakes the followers waiting for more; c.mu is held.
func (c *Call) wake() {
	if c.more != nil {
		close(c.more)
		c.more = nil
	}
}

// moreChan returns the channel closed at the next publication; c.mu is
// held.
func (c *Call) moreChan() chan struct{} {
	if c.more == nil {
		c.more = make(chan struct{})
	}
	return c.more
}

// Tee wraps the leader's stream: every chunk it returns is also cloned
// into the call's log, which followers read. At io.EOF followers reach
// io.EOF too; another error ends followers' streams with the same error;
// Close before the end ends them with an *llm.Error (502 api_error
// upstream_aborted). The leader must read the stream to its end or Close
// it, as any stream; followers wait until then (or their context ends).
// If the leader already called Finish or Fail, s is returned as is.
func (c *Call) Tee(s llm.Stream) llm.Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return s
	}
	c.state = stateTeed
	return &teeStream{s: s, c: c}
}

// teeStream is the leader's stream as Tee wraps it.
type teeStream struct {
	s     llm.Stream
	c     *Call
	ended atomic.Bool
}

func (t *teeStream) Recv() (*llm.Chunk, error) {
	ch, err := t.s.Recv()
	switch {
	case t.ended.Load():
	case err == nil:
		if ch != nil {
			t.c.append(CloneChunk(ch))
		}
	case err == io.EOF:
		t.end(nil)
	default:
		t.end(err)
	}
	return ch, err
}

// Close ends the followers' streams with upstream_aborted unless the
// stream already ended, then closes the leader's stream.
func (t *teeStream) Close() error {
	t.end(errAborted())
	return t.s.Close()
}

func (t *teeStream) end(err error) {
	if t.ended.CompareAndSwap(false, true) {
		t.c.end(stateTeed, nil, err)
	}
}

// errAborted is what followers get when the leader closes its stream
// before the end.
func errAborted() *llm.Error {
	return &llm.Error{Status: http.StatusBadGateway, Type: llm.TypeAPI, Code: "upstream_aborted",
		Fault: llm.FaultProvider, Message: "the shared answer was cut off"}
}

// append adds a cloned chunk to the log and wakes followers.
func (c *Call) append(ch *llm.Chunk) {
	c.mu.Lock()
	if !c.ended {
		c.log = append(c.log, ch)
		c.wake()
	}
	c.mu.Unlock()
}

// Wait waits for the leader and returns its answer. With stream=false it
// returns the whole answer: the leader's Finish'ed one, or its stream's
// chunks collected once it reached io.EOF (ErrLeaderFailed if they are
// not collectible, or the stream ended otherwise). With stream=true it
// returns a Stream that yields the leader's chunks from the first one as
// they arrive, or a Replay of a Finish'ed answer; ErrLeaderFailed if the
// leader's stream ended before its first chunk.
//
// Errors: ErrTimeout when the leader published nothing usable (stream=true:
// no Finish and no first chunk; stream=false: no whole answer) within the
// group's timeout, counted from the call to Wait (the key then leaves the
// group, so that later callers do not wait on a stuck leader);
// ErrLeaderFailed after Fail; ctx.Err() when ctx ends first.
//
// A follower's stream keeps ctx: its Recv returns ctx.Err() once ctx
// ends, and an error after its Close (which may be called from another
// goroutine). Its chunks are its own until its next Recv as the Stream
// contract says, down to the tool-call deltas and usage; their JSON bytes
// (Logprobs, Citation, Raw) are shared with other followers, read-only.
func (c *Call) Wait(ctx context.Context, stream bool) (*llm.Response, llm.Stream, error) {
	var expired <-chan time.Time
	if c.g.timeout > 0 {
		t := time.NewTimer(c.g.timeout)
		defer t.Stop()
		expired = t.C
	}
	for {
		c.mu.Lock()
		resp, s, ready, err := c.poll(ctx, stream)
		var wait chan struct{}
		if !ready {
			if wait = c.done; stream {
				wait = c.moreChan()
			}
		}
		c.mu.Unlock()
		if ready {
			if err == nil && resp == nil && s == nil {
				resp, err = c.collect()
			}
			return resp, s, err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-expired:
			c.g.forget(c)
			return nil, nil, ErrTimeout
		}
	}
}

// poll returns what Wait returns if the leader published it; all zero and
// ready when the stream ended at io.EOF and must be collected. c.mu is
// held.
func (c *Call) poll(ctx context.Context, stream bool) (resp *llm.Response, s llm.Stream, ready bool, err error) {
	switch {
	case c.state == stateFinished && stream:
		return nil, Replay(c.resp), true, nil
	case c.state == stateFinished:
		cp := *c.resp
		return &cp, nil, true, nil
	case c.state == stateFailed:
		return nil, nil, true, ErrLeaderFailed
	case c.state == stateTeed && stream && len(c.log) > 0:
		return nil, &followerStream{c: c, ctx: ctx, closed: make(chan struct{})}, true, nil
	case c.state == stateTeed && c.ended && (stream || c.endErr != nil):
		return nil, nil, true, ErrLeaderFailed
	case c.state == stateTeed && c.ended:
		return nil, nil, true, nil
	}
	return nil, nil, false, nil
}

// collect returns a copy of the ended log collected as a whole answer,
// ErrLeaderFailed if it is not collectible. The log is collected once.
func (c *Call) collect() (*llm.Response, error) {
	c.collectOnce.Do(func() {
		c.mu.Lock()
		log := c.log
		c.mu.Unlock()
		// The log holds the whole answer already: no further bound.
		col := NewCollector(math.MaxInt)
		for _, ch := range log {
			col.Add(ch)
		}
		if resp, ok := col.Response(); ok {
			c.collected = resp
		}
	})
	if c.collected == nil {
		return nil, ErrLeaderFailed
	}
	cp := *c.collected
	return &cp, nil
}

// followerStream reads a call's log from its first chunk. cur, deltas,
// calls and usage hold the chunk last returned, copied from the log.
type followerStream struct {
	c         *Call
	ctx       context.Context
	pos       int
	closed    chan struct{}
	closeOnce sync.Once

	cur    llm.Chunk
	deltas []llm.Delta
	calls  []llm.ToolCallDelta
	usage  llm.Usage
}

func (f *followerStream) Recv() (*llm.Chunk, error) {
	for {
		select {
		case <-f.closed:
			return nil, errFollowerClosed
		default:
		}
		if err := f.ctx.Err(); err != nil {
			return nil, err
		}
		c := f.c
		c.mu.Lock()
		if f.pos < len(c.log) {
			ch := c.log[f.pos]
			f.pos++
			c.mu.Unlock()
			return f.own(ch), nil
		}
		if c.ended {
			err := c.endErr
			c.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return nil, err
		}
		more := c.moreChan()
		c.mu.Unlock()
		select {
		case <-more:
		case <-f.ctx.Done():
			return nil, f.ctx.Err()
		case <-f.closed:
			return nil, errFollowerClosed
		}
	}
}

// own returns a copy of the logged chunk ch in f's buffers, so that the
// caller may change it without touching the log.
func (f *followerStream) own(ch *llm.Chunk) *llm.Chunk {
	f.cur = *ch
	if ch.Deltas != nil {
		f.deltas = append(f.deltas[:0], ch.Deltas...)
		f.cur.Deltas = f.deltas
	}
	f.calls = f.calls[:0]
	for i := range f.cur.Deltas {
		d := &f.cur.Deltas[i]
		if d.ToolCalls != nil {
			n := len(f.calls)
			f.calls = append(f.calls, d.ToolCalls...)
			d.ToolCalls = f.calls[n:len(f.calls):len(f.calls)]
		}
	}
	if ch.Usage != nil {
		f.usage = *ch.Usage
		f.cur.Usage = &f.usage
	}
	return &f.cur
}

// Close ends the follower's stream (not the leader's) and wakes its Recv.
func (f *followerStream) Close() error {
	f.closeOnce.Do(func() { close(f.closed) })
	return nil
}
