package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"strings"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/provider"
)

// clientCredentialHeaders are removed from every passthrough request: the
// client's credentials are for Sluice, never for the upstream. The
// OpenAI organization and project headers go too: with the gateway's key
// they would let a client choose whose account is billed and whose files
// it reaches (a provider's config can still set them in its headers).
var clientCredentialHeaders = []string{
	"Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key", "Cookie", "Proxy-Authorization",
	"Openai-Organization", "Openai-Project",
}

// handlePassthrough serves /{provider}/{rest...}: the request goes unchanged
// to that configured provider's base URL joined with rest, with the
// provider's credentials. Only configured providers are reachable; the
// client can never choose the host.
func (g *Gateway) handlePassthrough(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	rp, ok := g.current().proxies[name]
	if !ok {
		// Not an LLM request (a scanner's /wp-admin/x, a typo): answered,
		// logged, but not recorded or counted as one.
		infoFrom(r.Context()).noRecord = true
		writeError(w, r, formatOpenAI, notFound(r))
		return
	}
	ri := infoFrom(r.Context())
	ri.provider = name
	if err := passthroughAllowed(ri.principal, g.current().cfg.ProviderByName(name)); err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	if err := g.readControls(r, nil); err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	release, err := g.limitPassthrough(r)
	if err != nil {
		writeError(w, r, formatOpenAI, err)
		return
	}
	defer release()
	rp.ServeHTTP(w, r)
}

// passthroughAllowed refuses passthrough to a caller it could not hold to
// its policy: the body is neither read nor priced here, so a model list
// (the key's, its team's or its tenant's) cannot be checked and a budget
// could not be charged. A caller pinned to regions may reach only a
// provider tagged with one of them (pc is nil for the built-in mock,
// which has no region).
func passthroughAllowed(p *auth.Principal, pc *config.Provider) *llm.Error {
	if p == nil {
		return nil
	}
	refuse := func(code, why string) *llm.Error {
		return &llm.Error{Status: http.StatusForbidden, Type: llm.TypePermission, Code: code,
			Fault: llm.FaultCaller, Message: why + " and may not use provider passthrough"}
	}
	switch {
	case len(p.Models) > 0 || len(p.Team.Models) > 0 || len(p.Tenant.Models) > 0:
		return refuse("model_not_allowed", "this key is limited to some models")
	case p.BudgetMicros > 0 || p.Team.BudgetMicros > 0 || p.Tenant.BudgetMicros > 0:
		return refuse("budget_not_supported", "this key has a budget (passthrough answers are not priced)")
	case p.Pinned():
		region := ""
		if pc != nil {
			region = pc.Region
		}
		if !p.AllowsRegion(region) {
			return refuse("region_not_allowed", "this key is limited to some regions")
		}
	}
	return nil
}

func newPassthroughProxy(p provider.Passthrough, transport http.RoundTripper, log *slog.Logger) *httputil.ReverseProxy {
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
		// The proxy's own messages (a body copy that failed) are details:
		// the request's record and access line say what happened.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ModifyResponse: func(resp *http.Response) error {
			// The response carries the gateway's request id; the
			// upstream's own id stays available under another name.
			if id := resp.Header.Get("X-Request-Id"); id != "" {
				resp.Header.Del("X-Request-Id")
				resp.Header.Set("X-Upstream-Request-Id", id)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, r, formatOpenAI, bodyError(err)) // the client's fault, not the provider's
				return
			}
			writeError(w, r, formatOpenAI, provider.TransportError(r.Context(), name, err))
		},
	}
}
