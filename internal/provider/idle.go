package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
)

// errIdleTimeout ends a stream whose upstream went silent for the timeout.
// It wraps context.DeadlineExceeded, so provider.TransportError reports a
// 504.
var errIdleTimeout = fmt.Errorf("provider: the upstream sent nothing for the configured timeout: %w", context.DeadlineExceeded)

// idleTimer cancels a request when no progress was made for d. A nil
// *idleTimer (no timeout configured) does nothing.
type idleTimer struct {
	d     time.Duration
	t     *time.Timer
	fired atomic.Bool
}

func newIdleTimer(d time.Duration, cancel context.CancelFunc) *idleTimer {
	if d <= 0 {
		return nil
	}
	it := &idleTimer{d: d}
	it.t = time.AfterFunc(d, func() {
		it.fired.Store(true)
		cancel()
	})
	return it
}

// reset restarts the countdown after progress.
func (it *idleTimer) reset() {
	if it != nil && !it.fired.Load() {
		it.t.Reset(it.d)
	}
}

// stop stops the timer and reports whether it had fired.
func (it *idleTimer) stop() bool {
	if it == nil {
		return false
	}
	it.t.Stop()
	return it.fired.Load()
}

// streamBody is the upstream's response body as the SSE stream reads it: each
// read restarts the idle timer, a read cut short by the timer reports a
// timeout, and Close releases the connection and the request's context.
type streamBody struct {
	body   io.ReadCloser
	cancel context.CancelFunc
	idle   *idleTimer
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if b.idle != nil {
		if b.idle.fired.Load() {
			if err == nil || !errors.Is(err, io.EOF) {
				return n, errIdleTimeout
			}
		} else if n > 0 {
			b.idle.reset()
		}
	}
	return n, err
}

func (b *streamBody) Close() error {
	b.idle.stop()
	err := b.body.Close()
	b.cancel()
	return err
}

// OpenStream sends a streamed request and returns the upstream's answer as
// an llm.Stream. build makes the upstream request with the context it is
// given (an error from it is returned as it is). timeout is an idle bound, not a total: the stream fails with 504
// when the upstream sends nothing for that long (zero: no bound), so a long
// healthy answer (extended thinking) is never cut. A 2xx JSON answer is
// decoded as the upstream's error (502), so it can be
// retried or fall back. Cancelling ctx is the client going away (499);
// closing the stream releases the connection and the timer.
func OpenStream(ctx context.Context, client *http.Client, provider string, timeout time.Duration,
	build func(ctx context.Context) (*http.Request, error), decode ErrorDecoder, dec EventDecoder) (llm.Stream, error) {
	sctx, cancel := context.WithCancel(ctx)
	req, err := build(sctx)
	if err != nil {
		cancel()
		return nil, err
	}
	idle := newIdleTimer(timeout, cancel)
	resp, err := Send(client, req, provider, decode)
	if err != nil {
		cancel()
		if idle.stop() {
			return nil, TransportError(ctx, provider, errIdleTimeout)
		}
		return nil, err
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		// Some servers label their streams loosely (text/plain, none);
		// only a JSON answer is taken for what it is.
		if mt, _, _ := mime.ParseMediaType(ct); mt == "application/json" || strings.HasSuffix(mt, "+json") {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
			resp.Body.Close()
			idle.stop()
			cancel()
			e := decode(provider, http.StatusBadGateway, resp.Header, body)
			e.Code = "invalid_upstream_response"
			e.Message = fmt.Sprintf("provider %q answered a streamed request with %q instead of an event stream: %s",
				provider, mt, e.Message)
			return nil, e
		}
	}
	idle.reset()
	// The stream reports with the caller's context: its cancellation is the
	// client going away (499), while sctx is also cancelled by the idle
	// timer, which is a timeout (504).
	return NewSSEStream(ctx, provider, &streamBody{body: resp.Body, cancel: cancel, idle: idle}, dec), nil
}
