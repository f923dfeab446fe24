package openai

import (
	"net/http/httputil"
	"net/url"

	"github.com/sluicehq/sluice/internal/provider"
)

// RewritePassthrough aims a client's request at the provider: the URL is the
// base URL joined with path (which cannot climb above the base path; see
// provider.JoinURL) and the client's query, for Azure with the configured
// api-version added when the client sent none. Any credential header the
// request still carries is replaced by the provider's own, and the static
// headers are set.
func (p *Provider) RewritePassthrough(pr *httputil.ProxyRequest, path string) {
	query := pr.In.URL.RawQuery
	if p.azure {
		if q, err := url.ParseQuery(query); err != nil || q.Get("api-version") == "" {
			if query != "" {
				query += "&"
			}
			query += "api-version=" + url.QueryEscape(p.apiVer)
		}
	}
	u := provider.JoinURL(p.base, path, query)
	pr.Out.URL, pr.Out.Host = u, u.Host
	h := pr.Out.Header
	for _, k := range []string{"Authorization", "Api-Key", "X-Api-Key"} {
		h.Del(k)
	}
	for k, v := range p.header {
		h[k] = append([]string(nil), v...)
	}
	// A vault key, when there is one. The answer goes back through the
	// gateway's proxy unread: a 401 here is not reported.
	p.setCredential(h, provider.Pick(p.creds))
}
