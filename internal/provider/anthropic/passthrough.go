package anthropic

import (
	"net/http/httputil"

	"github.com/sluicehq/sluice/internal/provider"
)

// RewritePassthrough aims a client's request at the upstream: the URL is the
// base URL joined with path, keeping the client's query; x-api-key is set,
// anthropic-version is set unless the client sent one (so clients can pin
// theirs), and the static headers are added.
func (p *Provider) RewritePassthrough(pr *httputil.ProxyRequest, path string) {
	pr.Out.URL = provider.JoinURL(p.base, path, pr.In.URL.RawQuery)
	pr.Out.Host = ""
	p.setAuth(pr.Out.Header)
	// A vault key, when there is one. The answer goes back through the
	// gateway's proxy unread: a 401 here is not reported.
	setCredential(pr.Out.Header, provider.Pick(p.creds))
}
