package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// errIdleTimeout ends a stream whose upstream went silent for the timeout.
// It wraps context.DeadlineExceeded, so provider.TransportError reports a
// 504.
var errIdleTimeout = fmt.Errorf("openai: the upstream sent nothing for the configured timeout: %w", context.DeadlineExceeded)

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
