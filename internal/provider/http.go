package provider

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// NewHTTPClient returns the client adapters use by default: keep-alive
// connections pooled generously per host (a gateway sends many concurrent
// requests to few hosts), HTTP/2 where the upstream offers it over TLS, and
// no overall timeout (streams are long; callers bound requests with their
// context).
func NewHTTPClient() *http.Client {
	return &http.Client{Transport: NewTransport()}
}

// NewTransport returns the tuned transport behind NewHTTPClient.
func NewTransport() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2048,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Upstream responses are decoded by the adapters; gzip from the
		// upstream is handled transparently by the transport.
	}
}

// NewRequest returns a request to an upstream, as
// http.NewRequestWithContext returns it for a *bytes.Reader of body (with
// ContentLength and GetBody), the URL a copy of u, in fewer allocations.
// header becomes the request's header as it is: it must be the request's
// own. body is read in place and must not change until the request is
// done; nil sends no body.
func NewRequest(ctx context.Context, method string, u *url.URL, header http.Header, body []byte) *http.Request {
	out := &outbound{url: *u}
	req := http.Request{Method: method, URL: &out.url, Host: out.url.Host, Header: header,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	switch {
	case len(body) > 0:
		out.body.Reset(body)
		req.Body, req.ContentLength, req.GetBody = &out.body, int64(len(body)), out.getBody
	case body != nil:
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	}
	return req.WithContext(ctx)
}

// outbound is what a request made by NewRequest points to: its URL and
// its body, allocated together.
type outbound struct {
	url  url.URL
	body bodyReader
}

// getBody returns a new reader of the body from its start, for a request
// that must be sent again (a redirect, a retry on a new connection).
func (o *outbound) getBody() (io.ReadCloser, error) {
	r := &bodyReader{}
	r.Reset(o.body.data)
	return r, nil
}

// bodyReader reads a request body held in memory.
type bodyReader struct {
	bytes.Reader
	data []byte
}

func (r *bodyReader) Reset(b []byte) {
	r.Reader.Reset(b)
	r.data = b
}

// Close does nothing: the body is memory.
func (r *bodyReader) Close() error { return nil }

// ErrTooLarge is ReadAll's error for an answer over its limit.
var ErrTooLarge = errTooLarge{}

type errTooLarge struct{}

func (errTooLarge) Error() string { return "provider: the answer is larger than the limit" }

// ReadAll appends what r yields to dst until io.EOF and returns the
// extended buffer; ErrTooLarge when r holds more than limit bytes.
func ReadAll(dst []byte, r io.Reader, limit int) ([]byte, error) {
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, 512)
		}
		room := cap(dst) - len(dst)
		if over := len(dst) - start + room - (limit + 1); over > 0 {
			room -= over
		}
		n, err := r.Read(dst[len(dst) : len(dst)+room])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return dst, ErrTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// Buffer is a pooled buffer for reading a whole answer (see GetBuffer).
type Buffer struct{ B []byte }

var bufferPool = sync.Pool{New: func() any { return &Buffer{B: make([]byte, 0, 8192)} }}

// GetBuffer returns an empty buffer from a pool; PutBuffer returns it once
// nothing refers to its bytes.
func GetBuffer() *Buffer {
	b := bufferPool.Get().(*Buffer)
	b.B = b.B[:0]
	return b
}

// PutBuffer returns b to the pool (unless it grew huge).
func PutBuffer(b *Buffer) {
	if cap(b.B) <= 1<<20 {
		bufferPool.Put(b)
	}
}
