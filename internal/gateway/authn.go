package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/limit"
	"github.com/sluicehq/sluice/internal/llm"
)

// authenticate wraps an LLM route: the caller's credential (Bearer,
// x-api-key or api-key) becomes the request's principal. A credential
// shaped like a JWT is checked against auth.jwt when that is configured;
// anything else is looked up as a gateway key. With auth.require_keys a
// request without a valid credential gets a 401 that never says whether a
// key exists, was revoked or has expired, nor why a token failed; without
// it, a valid credential still identifies the caller and anything else
// passes anonymously (SDKs always send some key). Keys with an admin role
// are for the admin API, not for traffic; a JWT serves traffic whatever
// its roles. Last, auth.spike may refuse the request (429).
func (g *Gateway) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p *auth.Principal
		if g.keys != nil || g.jwt != nil {
			if token, ok := auth.Presented(r.Header); ok {
				if err := g.authThrottled(r); err != nil {
					writeError(w, r, formatFor(r), err)
					return
				}
				var reason string
				if p, reason = g.resolveCaller(r.Context(), token); p == nil {
					if err := g.authFailed(r, reason); err != nil {
						writeError(w, r, formatFor(r), err)
						return
					}
				}
			}
		}
		if p == nil && g.cfg.Auth.RequireKeys {
			writeError(w, r, formatFor(r), invalidKey())
			return
		}
		if p != nil && len(p.AllowedCIDRs) > 0 {
			ip, err := netip.ParseAddr(clientIP(r))
			if err != nil || !p.AllowsIP(ip) {
				writeError(w, r, formatFor(r), &llm.Error{Status: http.StatusForbidden, Type: llm.TypePermission,
					Code: "ip_not_allowed", Fault: llm.FaultCaller,
					Message: "this key may not be used from this address"})
				return
			}
		}
		infoFrom(r.Context()).principal = p
		if err := g.checkSpike(r, p); err != nil {
			writeError(w, r, formatFor(r), err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// buildAuth sets up what authentication needs besides the key store: the
// failed-attempt limit, the JWT validator and the spike guard.
func (g *Gateway) buildAuth(cfg *config.Config) error {
	if cfg.Auth.FailedPerMinute > 0 {
		g.authFails = limit.NewMemory(nil)
	}
	if cfg.Auth.JWT.Enabled() {
		jc, err := cfg.Auth.JWT.AuthConfig()
		if err == nil {
			g.jwt, err = auth.NewJWTValidator(jc)
		}
		if err != nil {
			return fmt.Errorf("gateway: auth.jwt: %w", err)
		}
	}
	var err error
	g.spike, err = newSpikeGuard(cfg.Auth.Spike, nil)
	return err
}

// resolveCaller returns the principal of a presented credential for
// traffic, or nil and why not (for the log: never the credential).
func (g *Gateway) resolveCaller(ctx context.Context, token string) (*auth.Principal, string) {
	if g.jwt != nil && auth.LooksLikeJWT(token) {
		p, err := g.jwtPrincipal(ctx, token)
		if err != nil {
			return nil, err.Error()
		}
		return &p, ""
	}
	if g.keys == nil {
		return nil, "not a JWT, and there are no gateway keys"
	}
	if p, ok := g.keys.Resolve(token); ok && p.Role == "" {
		return p, ""
	}
	return nil, "not a valid gateway key for traffic"
}

// errScopeDisabled is a JWT whose team or tenant is disabled.
var errScopeDisabled = errors.New("the token's team or tenant is disabled")

// jwtPrincipal validates a JWT and completes its principal with the
// settings of the team and tenant its claims name (their limits, models
// and regions apply as they do to keys). A disabled team or tenant
// refuses the token. Errors never contain the token.
func (g *Gateway) jwtPrincipal(ctx context.Context, token string) (auth.Principal, error) {
	p, err := g.jwt.Validate(ctx, token)
	if err != nil {
		return auth.Principal{}, err
	}
	if g.keys != nil && (p.TeamID != "" || p.TenantID != "") {
		var disabled bool
		if p.Team, p.Tenant, disabled = g.keys.Scope(p.TeamID, p.TenantID); disabled {
			return auth.Principal{}, errScopeDisabled
		}
	}
	return p, nil
}

// adminJWTWait bounds how long an admin request waits for a JWKS fetch.
const adminJWTWait = 10 * time.Second

// resolveAdmin is the admin API's Options.Resolve: a JWT (when auth.jwt
// is configured) whose roles claim grants an admin role, or a stored key
// with a role. The JWT's principal acts as "jwt:"+sub in the audit log.
func (g *Gateway) resolveAdmin(token string) (auth.Principal, bool) {
	if g.jwt != nil && auth.LooksLikeJWT(token) {
		ctx, cancel := context.WithTimeout(context.Background(), adminJWTWait)
		defer cancel()
		p, err := g.jwtPrincipal(ctx, token)
		switch {
		case err != nil:
			g.log.Warn("admin: token rejected", "reason", err.Error())
			return auth.Principal{}, false
		case p.Role == "":
			g.log.Warn("admin: token rejected", "reason", "no admin role in the roles claim", "subject", p.KeyID)
			return auth.Principal{}, false
		}
		return p, true
	}
	if g.keys == nil {
		return auth.Principal{}, false
	}
	return g.keys.ResolveAdmin(token)
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
	if !g.cfg.Auth.RequireKeys {
		return nil
	}
	return g.failuresSpent(r)
}

// failuresSpent returns the 429 for an address with no failed attempts
// left; nil without a limit.
func (g *Gateway) failuresSpent(r *http.Request) error {
	if g.authFails == nil {
		return nil
	}
	d, err := g.authFails.Allow(r.Context(), clientIP(r), g.failedAuthRate(), 0)
	if err != nil || d.Remaining > 0 {
		return nil
	}
	return tooManyFailures(d.ResetAfter)
}

// authFailed counts a failed credential check from the request's address
// and logs it with reason (the address, never what was presented). It
// returns the 429 once the address is over its limit.
func (g *Gateway) authFailed(r *http.Request, reason string) error {
	if !g.cfg.Auth.RequireKeys {
		return nil // an open gateway: the request passes anonymously
	}
	g.log.Warn("authentication failed", "id", infoFrom(r.Context()).id, "client_ip", clientIP(r),
		"path", r.URL.Path, "reason", reason)
	return g.countFailure(r)
}

// countFailure takes one failed attempt from the request's address and
// returns the 429 once it is over its limit.
func (g *Gateway) countFailure(r *http.Request) error {
	if g.authFails == nil {
		return nil
	}
	d, err := g.authFails.Allow(r.Context(), clientIP(r), g.failedAuthRate(), 1)
	if err != nil || d.Allowed {
		return nil
	}
	return tooManyFailures(d.RetryAfter)
}

// guardAdmin puts the failed-authentication limit (auth.failed_per_minute,
// per client address, shared with the LLM routes) in front of the admin
// API: an address past it gets 429 for every request, a valid token's
// too, so that the answer never tells a guesser which guess was right.
// Every 401 the admin API answers to a request with an Authorization
// header counts as a failure; the admin API logs each refusal with its
// reason, never the token.
func (g *Gateway) guardAdmin(next http.Handler) http.Handler {
	if g.authFails == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.failuresSpent(r); err != nil {
			g.log.Warn("admin: request refused", "id", infoFrom(r.Context()).id, "client_ip", clientIP(r),
				"path", r.URL.Path, "reason", "too many failed authentications from this address")
			writeError(w, r, formatOpenAI, err)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == http.StatusUnauthorized && r.Header.Get("Authorization") != "" {
			g.countFailure(r) //nolint:errcheck // the 401 is already written; the next request gets the 429
		}
	})
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
