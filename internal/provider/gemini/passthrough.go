package gemini

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/sluicehq/sluice/internal/provider"
)

// RewritePassthrough aims a client's request at the Gemini API unchanged:
// the URL becomes the configured base URL joined with path (so a client
// names the version itself: "v1beta/models/gemini-2.5-flash:generateContent"),
// the query is kept without any "key" parameter (a client's own key must
// not reach Google, and the gateway's travels in the x-goog-api-key
// header), and the static headers and the credential are set.
func (p *Provider) RewritePassthrough(pr *httputil.ProxyRequest, path string) {
	pr.Out.URL = provider.JoinURL(p.root, path, withoutKey(pr.Out.URL.RawQuery))
	pr.Out.Host = ""
	p.setHeaders(pr.Out.Header)
	// A vault key, when there is one. The answer goes back through the
	// gateway's proxy unread: a 401 here is not reported.
	if cred := provider.Pick(p.creds); cred != nil {
		pr.Out.Header[http.CanonicalHeaderKey(apiKeyHeader)] = cred.KeyHeader()
	}
}

// withoutKey removes every "key" parameter from a raw query, keeping the
// other parameters byte for byte and in order.
func withoutKey(q string) string {
	if !strings.Contains(q, "key") && !strings.Contains(q, "%") {
		return q
	}
	var b strings.Builder
	first := true
	for more := true; more; {
		var param string
		param, q, more = strings.Cut(q, "&")
		name, _, _ := strings.Cut(param, "=")
		if n, err := url.QueryUnescape(name); err == nil && n == "key" || name == "key" {
			continue
		}
		if !first {
			b.WriteByte('&')
		}
		first = false
		b.WriteString(param)
	}
	return b.String()
}
