package provider

import (
	"net"
	"net/http"
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
