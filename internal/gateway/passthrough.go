package gateway

import (
	"net/http"
	"net/http/httputil"
	"strings"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// clientCredentialHeaders are removed from every passthrough request: the
// client's credentials are for Sluice, never for the upstream.
var clientCredentialHeaders = []string{
	"Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key", "Cookie", "Proxy-Authorization",
}

// handlePassthrough serves /{provider}/{rest...}: the request goes unchanged
// to that configured provider's base URL joined with rest, with the
// provider's credentials. Only configured providers are reachable; the
// client can never choose the host.
func (g *Gateway) handlePassthrough(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	rp, ok := g.proxies[name]
	if !ok {
		writeError(w, r, formatOpenAI, notFound(r))
		return
	}
	ri := infoFrom(r.Context())
	ri.provider = name
	rp.ServeHTTP(w, r)
}

func newPassthroughProxy(p provider.Passthrough, transport http.RoundTripper) *httputil.ReverseProxy {
	name := p.(provider.Provider).Name()
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			for _, h := range clientCredentialHeaders {
				pr.Out.Header.Del(h)
			}
			for k := range pr.Out.Header {
				if strings.HasPrefix(strings.ToLower(k), "x-sluice-") {
					pr.Out.Header.Del(k)
				}
			}
			p.RewritePassthrough(pr, pr.In.PathValue("rest"))
		},
		Transport: transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			e := llm.AsError(err)
			if e.Fault == llm.FaultGateway {
				e = provider.TransportError(r.Context(), name, err)
			}
			writeError(w, r, formatOpenAI, e)
		},
	}
}
