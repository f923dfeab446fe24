package mock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// shutdownGrace bounds how long a stopping server waits for answers in
// flight (slow streams included) before closing their connections.
const shutdownGrace = 5 * time.Second

// ListenAndServe serves a new mock Server on addr until ctx is done, then
// shuts down gracefully: answers in flight get shutdownGrace to finish. It
// returns nil after a shutdown caused by ctx, and an error if addr cannot be
// listened on or serving fails. A nil logger means slog.Default().
func ListenAndServe(ctx context.Context, addr string, opts Options, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mock: listen: %w", err)
	}
	srv := newHTTPServer(New(opts), logger)
	logger.Info("mock provider listening", "addr", ln.Addr().String(),
		"openai_base_url", "http://"+ln.Addr().String()+"/v1")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("mock: serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("mock provider shutting down")
	if err := shutdown(srv); err != nil {
		return fmt.Errorf("mock: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("mock: serve: %w", err)
	}
	return nil
}

// Start serves a new mock Server on 127.0.0.1 at a free port, in the
// background, and returns its base URL ("http://127.0.0.1:PORT", without
// /v1) and a stop function that shuts it down and waits until it has. stop
// may be called more than once.
func Start(opts Options) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("mock: listen: %w", err)
	}
	srv := newHTTPServer(New(opts), slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // always ErrServerClosed once stop has run
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = shutdown(srv)
			<-done
		})
	}
	return "http://" + ln.Addr().String(), stop, nil
}

func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// shutdown stops srv gracefully, closing what is still open after
// shutdownGrace.
func shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return errors.Join(err, srv.Close())
	}
	return nil
}
