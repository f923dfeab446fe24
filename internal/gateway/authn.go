package gateway

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/limit"
	"github.com/sluicehq/sluice/internal/llm"
)

// authenticate wraps an LLM route: the caller's gateway key (Bearer,
// x-api-key or api-key) becomes the request's principal. With
// auth.require_keys a request without a valid key gets a 401 that never
// says whether a key exists, was revoked or has expired; without it, a
// valid key still identifies the caller and anything else passes
// anonymously (SDKs always send some key). Keys with an admin role are for
// the admin API, not for traffic.
func (g *Gateway) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p *auth.Principal
		if g.keys != nil {
			if token, ok := auth.Presented(r.Header); ok {
				if err := g.authThrottled(r); err != nil {
					writeError(w, r, formatFor(r), err)
					return
				}
				if pr, ok := g.keys.Resolve(token); ok && pr.Role == "" {
					p = pr
				} else if err := g.authFailed(r); err != nil {
					writeError(w, r, formatFor(r), err)
					return
				}
			}
		}
		if p == nil {
			if g.cfg.Auth.RequireKeys {
				writeError(w, r, formatFor(r), invalidKey())
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if len(p.AllowedCIDRs) > 0 {
			ip, err := netip.ParseAddr(clientIP(r))
			if err != nil || !p.AllowsIP(ip) {
				writeError(w, r, formatFor(r), &llm.Error{Status: http.StatusForbidden, Type: llm.TypePermission,
					Code: "ip_not_allowed", Fault: llm.FaultCaller,
					Message: "this key may not be used from this address"})
				return
			}
		}
		infoFrom(r.Context()).principal = p
		next.ServeHTTP(w, r)
	})
}

// failedAuthRate is auth.failed_per_minute as a limit.Rate.
func (g *Gateway) failedAuthRate() limit.Rate {
	return limit.Rate{Limit: int64(g.cfg.Auth.FailedPerMinute), Period: time.Minute}
}

// authThrottled refuses an address that has spent its failed attempts,
// before its key is even looked at. Only when keys are required: an open
// gateway lets any key through (SDKs insist on sending one), so there is
// nothing to guess.
func (g *Gateway) authThrottled(r *http.Request) error {
	if g.authFails == nil || !g.cfg.Auth.RequireKeys {
		return nil
	}
	d, err := g.authFails.Allow(r.Context(), clientIP(r), g.failedAuthRate(), 0)
	if err != nil || d.Remaining > 0 {
		return nil
	}
	return tooManyFailures(d.ResetAfter)
}

// authFailed counts a failed key check from the request's address and
// logs it (the address, never what was presented). It returns the 429
// once the address is over its limit.
func (g *Gateway) authFailed(r *http.Request) error {
	if !g.cfg.Auth.RequireKeys {
		return nil // an open gateway: the request passes anonymously
	}
	g.log.Warn("authentication failed", "id", infoFrom(r.Context()).id, "client_ip", clientIP(r), "path", r.URL.Path)
	if g.authFails == nil {
		return nil
	}
	d, err := g.authFails.Allow(r.Context(), clientIP(r), g.failedAuthRate(), 1)
	if err != nil || d.Allowed {
		return nil
	}
	return tooManyFailures(d.RetryAfter)
}

func tooManyFailures(retry time.Duration) *llm.Error {
	return &llm.Error{Status: http.StatusTooManyRequests, Type: llm.TypeRateLimit, Code: "rate_limit_exceeded",
		Fault: llm.FaultCaller, RetryAfter: max(retry, time.Second),
		Message: "too many failed authentication attempts from this address; try again later"}
}

func invalidKey() *llm.Error {
	return &llm.Error{Status: http.StatusUnauthorized, Type: llm.TypeAuthentication, Code: "invalid_api_key",
		Fault: llm.FaultCaller, Message: "a valid Sluice key is required: send it as Authorization: Bearer <key>"}
}

// checkModel refuses a model the caller's key may not use.
func checkModel(p *auth.Principal, model string) error {
	if p == nil || p.AllowsModel(model) {
		return nil
	}
	return &llm.Error{Status: http.StatusForbidden, Type: llm.TypePermission, Code: "model_not_allowed",
		Param: "model", Fault: llm.FaultCaller, Message: "this key may not use model " + model}
}
