package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/provider"
)

// NewReverseProxy returns the bare baseline: net/http/httputil's
// ReverseProxy in front of upstream, tuned as a careful deployment would be:
// the same transport (and so the same keep-alive pool) Sluice's provider
// adapters use, and pooled copy buffers instead of 32 KiB allocated per
// request. It does nothing a gateway does — no parsing, no translation, no
// auth — which is what makes it the floor Sluice is measured against. Event
// streams are flushed on every write (ReverseProxy does that for
// text/event-stream).
func NewReverseProxy(upstream *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		BufferPool: &bufferPool{},
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(upstream)
			r.Out.Host = upstream.Host
		},
		Transport: provider.NewTransport(),
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			if errors.Is(err, context.Canceled) {
				return // the client went away; nobody is left to answer
			}
			http.Error(w, "bad gateway: "+err.Error(), http.StatusBadGateway)
		},
	}
}

// bufferPool recycles ReverseProxy's copy buffers.
type bufferPool struct{ p sync.Pool }

// copyBufferSize is what ReverseProxy allocates when it has no pool.
const copyBufferSize = 32 << 10

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, copyBufferSize)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// ServeReverseProxy serves NewReverseProxy(upstream) on listen until ctx
// ends. listen must be a loopback address.
func ServeReverseProxy(ctx context.Context, listen, upstream string) error {
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("goproxy: upstream %q: want an absolute URL", upstream)
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("goproxy: listen %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("goproxy: listen %q: must be a loopback address", listen)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("goproxy: %w", err)
	}
	srv := &http.Server{Handler: NewReverseProxy(u), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("goproxy: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	return nil
}
