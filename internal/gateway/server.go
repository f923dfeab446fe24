package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
)

// Serve serves the gateway on ln until ctx is done, then shuts down
// gracefully: /readyz turns 503, the listener closes, and in-flight requests
// and streams get the configured grace period to finish before their
// contexts are cancelled and connections cut. It returns nil after a clean
// shutdown.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	s := g.cfg.Server
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: s.ReadHeaderTimeout.Std(),
		IdleTimeout:       s.IdleTimeout.Std(),
		MaxHeaderBytes:    1 << 20,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	g.draining.Store(true)
	grace := s.ShutdownGrace.Std()
	g.log.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		g.log.Warn("grace period over; cutting remaining requests")
		cancelBase()
		srv.Close()
		err = nil
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
