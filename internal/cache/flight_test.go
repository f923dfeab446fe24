package cache_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluicehq/sluice/internal/cache"
	"github.com/sluicehq/sluice/internal/llm"
)

// longWait is a group timeout no passing test reaches.
const longWait = 10 * time.Second

// flightKey returns a distinct key per name.
func flightKey(name string) cache.Key {
	var k cache.Key
	copy(k[:], name)
	return k
}

// scriptStream is a leader's upstream: it returns chunks, then end
// (io.EOF when nil). With reuse it returns one Chunk object every time,
// overwritten in place after scribbling over the previous contents, as
// providers that reuse their chunk do.
type scriptStream struct {
	chunks []*llm.Chunk
	end    error
	reuse  bool
	next   int
	closed bool

	buf    llm.Chunk
	deltas []llm.Delta
	usage  llm.Usage
	calls  []llm.ToolCallDelta
	bytes  []byte
}

func (s *scriptStream) Recv() (*llm.Chunk, error) {
	if s.closed {
		return nil, errors.New("recv after close")
	}
	if s.next >= len(s.chunks) {
		if s.end != nil {
			return nil, s.end
		}
		return nil, io.EOF
	}
	c := s.chunks[s.next]
	s.next++
	if !s.reuse {
		return c, nil
	}
	s.scribble()
	s.deltas = append(s.deltas[:0], c.Deltas...)
	s.buf = llm.Chunk{ID: c.ID, Model: c.Model, Created: c.Created, Deltas: s.deltas,
		SystemFingerprint: c.SystemFingerprint, ServiceTier: c.ServiceTier}
	if c.Deltas == nil {
		s.buf.Deltas = nil
	}
	s.calls, s.bytes = s.calls[:0], s.bytes[:0]
	for i := range s.buf.Deltas {
		d := &s.buf.Deltas[i]
		if n := len(s.calls); d.ToolCalls != nil {
			s.calls = append(s.calls, d.ToolCalls...)
			d.ToolCalls = s.calls[n:]
		}
		if n := len(s.bytes); d.Logprobs != nil {
			s.bytes = append(s.bytes, d.Logprobs...)
			d.Logprobs = s.bytes[n:]
		}
	}
	if c.Usage != nil {
		s.usage = *c.Usage
		s.buf.Usage = &s.usage
	}
	return &s.buf, nil
}

// scribble overwrites everything the previously returned chunk reaches.
func (s *scriptStream) scribble() {
	s.buf.ID, s.buf.Model = "SCRIBBLED", "SCRIBBLED"
	for i := range s.deltas {
		s.deltas[i] = llm.Delta{Index: 99, Text: "SCRIBBLED"}
	}
	for i := range s.calls {
		s.calls[i] = llm.ToolCallDelta{ID: "SCRIBBLED", Arguments: "SCRIBBLED"}
	}
	for i := range s.bytes {
		s.bytes[i] = 'X'
	}
	s.usage = llm.Usage{InputTokens: -1}
}

func (s *scriptStream) Close() error {
	s.closed = true
	return nil
}

// answerChunks is the rich answer as a stream.
func answerChunks(t testing.TB) []*llm.Chunk {
	t.Helper()
	chunks, err := recvAll(t, cache.Replay(richAnswer()))
	if err != nil {
		t.Fatal(err)
	}
	return chunks
}

// followerResult is what a follower got.
type followerResult struct {
	resp   *llm.Response
	chunks []*llm.Chunk
	err    error // from Wait
	endErr error // from the stream's end (nil for io.EOF)
}

// follow runs Wait in a goroutine (and reads the stream to its end) and
// returns a channel with the result.
func follow(t testing.TB, ctx context.Context, c *cache.Call, stream bool) <-chan followerResult {
	out := make(chan followerResult, 1)
	go func() {
		var r followerResult
		var s llm.Stream
		r.resp, s, r.err = c.Wait(ctx, stream)
		if s != nil {
			r.chunks, r.endErr = recvAll(t, s)
			s.Close()
		}
		out <- r
	}()
	return out
}

// result waits for a follower's result.
func result(t testing.TB, ch <-chan followerResult) followerResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(longWait):
		t.Fatal("follower did not return")
		return followerResult{}
	}
}

// joinFollower joins k and fails unless the caller is a follower.
func joinFollower(t testing.TB, g *cache.Group, k cache.Key) *cache.Call {
	t.Helper()
	c, leader, ok := g.Join(k)
	if leader || !ok || c == nil {
		t.Fatalf("Join = %v, leader=%v, ok=%v; want a follower", c, leader, ok)
	}
	return c
}

// joinLeader joins k and fails unless the caller is the leader.
func joinLeader(t testing.TB, g *cache.Group, k cache.Key) *cache.Call {
	t.Helper()
	c, leader, ok := g.Join(k)
	if !leader || !ok || c == nil {
		t.Fatalf("Join = %v, leader=%v, ok=%v; want the leader", c, leader, ok)
	}
	return c
}

func TestGroupFiftyJoinersShareOneAnswer(t *testing.T) {
	g := cache.NewGroup(100, longWait)
	k := flightKey(t.Name())
	want := richAnswer()
	var joined, done sync.WaitGroup
	var mu sync.Mutex
	leaders := 0
	var got []*llm.Response
	joined.Add(50)
	done.Add(50)
	start := make(chan struct{})
	for range 50 {
		go func() {
			defer done.Done()
			<-start
			c, leader, ok := g.Join(k)
			joined.Done()
			if !ok {
				t.Error("Join refused under maxWaiters")
				return
			}
			if leader {
				mu.Lock()
				leaders++
				mu.Unlock()
				joined.Wait() // everyone has joined this flight
				c.Finish(want)
				return
			}
			resp, s, err := c.Wait(context.Background(), false)
			if err != nil || s != nil {
				t.Errorf("Wait = %v, %v", s, err)
				return
			}
			mu.Lock()
			got = append(got, resp)
			mu.Unlock()
		}()
	}
	close(start)
	done.Wait()
	if leaders != 1 || len(got) != 49 {
		t.Fatalf("%d leaders and %d answered followers, want 1 and 49", leaders, len(got))
	}
	seen := map[*llm.Response]bool{want: true}
	for _, r := range got {
		if diff := cmp.Diff(r, want); diff != "" {
			t.Fatalf("follower's answer (-got +want):\n%s", diff)
		}
		if seen[r] {
			t.Fatal("two callers share one *Response: each follower needs its own copy")
		}
		seen[r] = true
	}
	if n := g.Len(); n != 0 {
		t.Errorf("Len after Finish = %d, want 0", n)
	}
}

func TestGroupStreamFollowersGetEveryChunk(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		name := "fresh chunks"
		if reuse {
			name = "provider reuses its chunk"
		}
		t.Run(name, func(t *testing.T) {
			g := cache.NewGroup(10, longWait)
			k := flightKey(t.Name())
			want := answerChunks(t)
			ctx := context.Background()
			c := joinLeader(t, g, k)
			before := follow(t, ctx, joinFollower(t, g, k), true)
			wholeBefore := follow(t, ctx, joinFollower(t, g, k), false)

			s := c.Tee(&scriptStream{chunks: want, reuse: reuse})
			atStart := follow(t, ctx, joinFollower(t, g, k), true)
			var leaderGot []*llm.Chunk
			for range 3 {
				ch, err := s.Recv()
				if err != nil {
					t.Fatal(err)
				}
				leaderGot = append(leaderGot, cache.CloneChunk(ch))
			}
			during := follow(t, ctx, joinFollower(t, g, k), true)
			late := joinFollower(t, g, k) // joins now, waits after the end
			if n := g.Len(); n != 1 {
				t.Errorf("Len in flight = %d, want 1", n)
			}
			rest, err := recvAll(t, s)
			if err != nil {
				t.Fatal(err)
			}
			leaderGot = append(leaderGot, rest...)
			if diff := cmp.Diff(leaderGot, want); diff != "" {
				t.Fatalf("the leader's own stream changed (-got +want):\n%s", diff)
			}
			if n := g.Len(); n != 0 {
				t.Errorf("Len after the leader's EOF = %d, want 0", n)
			}
			if _, leader, _ := g.Join(k); !leader {
				t.Error("a Join after the end did not start a new flight")
			}
			after := follow(t, ctx, late, true)
			for name, ch := range map[string]<-chan followerResult{
				"before Tee": before, "at start": atStart, "after 3 chunks": during, "waiting after the end": after,
			} {
				r := result(t, ch)
				if r.err != nil || r.endErr != nil {
					t.Errorf("%s: Wait error %v, stream end %v", name, r.err, r.endErr)
				}
				if diff := cmp.Diff(r.chunks, want); diff != "" {
					t.Errorf("%s: chunks (-got +want):\n%s", name, diff)
				}
			}
			r := result(t, wholeBefore)
			if r.err != nil {
				t.Fatalf("non-stream follower: %v", r.err)
			}
			if diff := cmp.Diff(r.resp, richAnswer()); diff != "" {
				t.Errorf("non-stream follower's collected answer (-got +want):\n%s", diff)
			}
		})
	}
}

func TestGroupFollowerChunksAreTheirOwn(t *testing.T) {
	g := cache.NewGroup(10, longWait)
	k := flightKey(t.Name())
	want := answerChunks(t)
	c := joinLeader(t, g, k)
	f1, f2 := joinFollower(t, g, k), joinFollower(t, g, k)
	if _, err := recvAll(t, c.Tee(&scriptStream{chunks: want})); err != nil {
		t.Fatal(err)
	}
	_, s1, err := f1.Wait(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	// The first follower changes everything it may in each chunk.
	for {
		ch, err := s1.Recv()
		if err != nil {
			break
		}
		ch.ID = "mine"
		for i := range ch.Deltas {
			ch.Deltas[i].Text = "mine"
			for j := range ch.Deltas[i].ToolCalls {
				ch.Deltas[i].ToolCalls[j].Arguments = "mine"
			}
		}
		if ch.Usage != nil {
			ch.Usage.InputTokens = -1
		}
	}
	r := result(t, follow(t, context.Background(), f2, true))
	if diff := cmp.Diff(r.chunks, want); diff != "" {
		t.Errorf("one follower's changes reached another (-got +want):\n%s", diff)
	}
}

func TestGroupStreamFollowerOfFinishedLeaderGetsReplay(t *testing.T) {
	g := cache.NewGroup(10, longWait)
	k := flightKey(t.Name())
	c := joinLeader(t, g, k)
	f := follow(t, context.Background(), joinFollower(t, g, k), true)
	c.Finish(richAnswer())
	r := result(t, f)
	if r.err != nil || r.endErr != nil {
		t.Fatalf("Wait %v, stream end %v", r.err, r.endErr)
	}
	if diff := cmp.Diff(r.chunks, answerChunks(t)); diff != "" {
		t.Errorf("chunks are not Replay's (-got +want):\n%s", diff)
	}
}

func TestGroupLeaderFails(t *testing.T) {
	for _, tt := range []struct {
		name string
		fail func(testing.TB, *cache.Call)
	}{
		{"Fail", func(_ testing.TB, c *cache.Call) { c.Fail() }},
		{"Finish(nil)", func(_ testing.TB, c *cache.Call) { c.Finish(nil) }},
		{"stream ends before its first chunk", func(t testing.TB, c *cache.Call) { recvAll(t, c.Tee(&scriptStream{})) }},
		{"stream fails before its first chunk", func(t testing.TB, c *cache.Call) {
			recvAll(t, c.Tee(&scriptStream{end: errors.New("boom")}))
		}},
		{"stream closed before its first chunk", func(_ testing.TB, c *cache.Call) { c.Tee(&scriptStream{}).Close() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := cache.NewGroup(10, longWait)
			k := flightKey(t.Name())
			c := joinLeader(t, g, k)
			streamed := follow(t, context.Background(), joinFollower(t, g, k), true)
			whole := follow(t, context.Background(), joinFollower(t, g, k), false)
			tt.fail(t, c)
			for _, ch := range []<-chan followerResult{streamed, whole} {
				if r := result(t, ch); !errors.Is(r.err, cache.ErrLeaderFailed) {
					t.Errorf("Wait error = %v, want ErrLeaderFailed", r.err)
				}
			}
			if n := g.Len(); n != 0 {
				t.Errorf("Len = %d, want 0", n)
			}
		})
	}
}

func TestGroupLeaderStreamErrorReachesFollowers(t *testing.T) {
	g := cache.NewGroup(10, longWait)
	k := flightKey(t.Name())
	want := answerChunks(t)[:4]
	boom := &llm.Error{Status: 502, Type: llm.TypeAPI, Message: "upstream broke"}
	c := joinLeader(t, g, k)
	streamed := follow(t, context.Background(), joinFollower(t, g, k), true)
	whole := follow(t, context.Background(), joinFollower(t, g, k), false)
	got, err := recvAll(t, c.Tee(&scriptStream{chunks: want, end: boom}))
	if err != boom || len(got) != len(want) {
		t.Fatalf("leader got %d chunks and %v", len(got), err)
	}
	r := result(t, streamed)
	if r.err != nil || r.endErr != boom {
		t.Errorf("stream follower: Wait %v, end %v; want the leader's error", r.err, r.endErr)
	}
	if diff := cmp.Diff(r.chunks, want); diff != "" {
		t.Errorf("chunks before the error (-got +want):\n%s", diff)
	}
	if r := result(t, whole); !errors.Is(r.err, cache.ErrLeaderFailed) {
		t.Errorf("non-stream follower: %v, want ErrLeaderFailed", r.err)
	}
}

func TestGroupLeaderCloseMidwayAbortsFollowers(t *testing.T) {
	g := cache.NewGroup(10, longWait)
	k := flightKey(t.Name())
	all := answerChunks(t)
	c := joinLeader(t, g, k)
	streamed := follow(t, context.Background(), joinFollower(t, g, k), true)
	whole := follow(t, context.Background(), joinFollower(t, g, k), false)
	up := &scriptStream{chunks: all}
	s := c.Tee(up)
	for range 2 {
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil || !up.closed {
		t.Fatalf("Close = %v, upstream closed %v", err, up.closed)
	}
	r := result(t, streamed)
	var e *llm.Error
	if !errors.As(r.endErr, &e) || e.Status != 502 || e.Type != llm.TypeAPI || e.Code != "upstream_aborted" ||
		e.Fault != llm.FaultProvider || e.Message != "the shared answer was cut off" {
		t.Errorf("stream follower ended with %#v, want upstream_aborted", r.endErr)
	}
	if diff := cmp.Diff(r.chunks, all[:2]); diff != "" {
		t.Errorf("chunks before the close (-got +want):\n%s", diff)
	}
	if r := result(t, whole); !errors.Is(r.err, cache.ErrLeaderFailed) {
		t.Errorf("non-stream follower: %v, want ErrLeaderFailed", r.err)
	}
}

func TestGroupTimeout(t *testing.T) {
	const timeout = 50 * time.Millisecond
	for _, stream := range []bool{true, false} {
		g := cache.NewGroup(10, timeout)
		k := flightKey(t.Name())
		c := joinLeader(t, g, k)
		if stream {
			c.Tee(&scriptStream{}) // streaming, but no chunk yet
		}
		f := joinFollower(t, g, k)
		start := time.Now()
		resp, s, err := f.Wait(context.Background(), stream)
		if took := time.Since(start); !errors.Is(err, cache.ErrTimeout) || resp != nil || s != nil || took < timeout {
			t.Errorf("stream=%v: Wait = %v, %v, %v after %v; want ErrTimeout after %v", stream, resp, s, err, took, timeout)
		}
		if _, leader, _ := g.Join(k); !leader {
			t.Errorf("stream=%v: after a timeout the stuck flight still holds its key", stream)
		}
	}
}

func TestGroupMaxWaiters(t *testing.T) {
	g := cache.NewGroup(2, longWait)
	k := flightKey(t.Name())
	c := joinLeader(t, g, k)
	joinFollower(t, g, k)
	joinFollower(t, g, k)
	if c3, leader, ok := g.Join(k); c3 != nil || leader || ok {
		t.Errorf("third follower: Join = %v, leader=%v, ok=%v; want nil, false, false", c3, leader, ok)
	}
	if _, _, ok := g.Join(flightKey("other")); !ok {
		t.Error("the cap of one key refused another key")
	}
	c.Fail()
	if _, leader, ok := g.Join(k); !leader || !ok {
		t.Error("after the end, Join did not start a new flight")
	}
	zero := cache.NewGroup(0, longWait)
	joinLeader(t, zero, k)
	if _, _, ok := zero.Join(k); ok {
		t.Error("maxWaiters 0 took a follower")
	}
}

func TestGroupFollowerContext(t *testing.T) {
	t.Run("cancel while waiting", func(t *testing.T) {
		g := cache.NewGroup(10, longWait)
		k := flightKey(t.Name())
		c := joinLeader(t, g, k)
		ctx, cancel := context.WithCancel(context.Background())
		f := follow(t, ctx, joinFollower(t, g, k), true)
		cancel()
		if r := result(t, f); !errors.Is(r.err, context.Canceled) {
			t.Errorf("Wait = %v, want context.Canceled", r.err)
		}
		// The leader is not affected: another follower still gets the answer.
		other := follow(t, context.Background(), joinFollower(t, g, k), false)
		c.Finish(richAnswer())
		if r := result(t, other); r.err != nil {
			t.Errorf("other follower: %v", r.err)
		}
	})
	t.Run("cancel while reading the stream", func(t *testing.T) {
		g := cache.NewGroup(10, longWait)
		k := flightKey(t.Name())
		c := joinLeader(t, g, k)
		f := joinFollower(t, g, k)
		s := c.Tee(&scriptStream{chunks: answerChunks(t)})
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		_, fs, err := f.Wait(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Recv(); err != nil {
			t.Fatal(err)
		}
		ended := make(chan error, 1)
		go func() {
			_, err := fs.Recv() // blocks: the leader has sent nothing more
			ended <- err
		}()
		cancel()
		select {
		case err := <-ended:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Recv = %v, want context.Canceled", err)
			}
		case <-time.After(longWait):
			t.Fatal("cancel did not wake Recv")
		}
		if _, err := s.Recv(); err != nil {
			t.Errorf("the leader's stream failed after a follower left: %v", err)
		}
	})
	t.Run("close from another goroutine", func(t *testing.T) {
		g := cache.NewGroup(10, longWait)
		k := flightKey(t.Name())
		c := joinLeader(t, g, k)
		f := joinFollower(t, g, k)
		s := c.Tee(&scriptStream{chunks: answerChunks(t)})
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
		_, fs, err := f.Wait(context.Background(), true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Recv(); err != nil {
			t.Fatal(err)
		}
		ended := make(chan error, 1)
		go func() {
			_, err := fs.Recv() // blocks: the leader has sent nothing more
			ended <- err
		}()
		fs.Close()
		select {
		case err := <-ended:
			if err == nil || err == io.EOF {
				t.Errorf("Recv after Close = %v, want an error", err)
			}
		case <-time.After(longWait):
			t.Fatal("Close did not wake Recv")
		}
	})
}

func TestGroupOnlyTheFirstPublicationCounts(t *testing.T) {
	g := cache.NewGroup(10, longWait)
	k := flightKey(t.Name())
	c := joinLeader(t, g, k)
	f := joinFollower(t, g, k)
	c.Finish(richAnswer())
	c.Fail()
	c.Finish(&llm.Response{ID: "second"})
	up := &scriptStream{chunks: answerChunks(t)}
	if s := c.Tee(up); s != llm.Stream(up) {
		t.Error("Tee after Finish wrapped the stream")
	}
	resp, _, err := f.Wait(context.Background(), false)
	if err != nil || resp.ID != richAnswer().ID {
		t.Errorf("Wait = %v, %v; want the first Finish's answer", resp, err)
	}
}

func TestGroupFollowerStreamAfterClose(t *testing.T) {
	g := cache.NewGroup(10, longWait)
	k := flightKey(t.Name())
	c := joinLeader(t, g, k)
	f := joinFollower(t, g, k)
	if _, err := recvAll(t, c.Tee(&scriptStream{chunks: answerChunks(t)})); err != nil {
		t.Fatal(err)
	}
	_, s, err := f.Wait(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if ch, err := s.Recv(); ch != nil || err == nil || err == io.EOF {
		t.Errorf("Recv after Close = %v, %v; want an error", ch, err)
	}
}
