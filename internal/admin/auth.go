package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/llm"
)

// This file is the admin API's authentication: the bootstrap token
// (SLUICE_ADMIN_KEY), then stored admin keys through Options.Resolve.
// Handlers only ever see the resulting auth.Principal.

// bootstrapName names the bootstrap token's principal in audit entries.
const bootstrapName = "bootstrap"

// authenticator checks bearer tokens.
type authenticator struct {
	// keySum is SHA-256 of the bootstrap token; set is false when there is
	// none.
	keySum [sha256.Size]byte
	set    bool
	// resolve maps a stored admin key to its principal; nil when the
	// gateway has no key store.
	resolve func(token string) (auth.Principal, bool)
}

func newAuthenticator(adminKey string, resolve func(string) (auth.Principal, bool)) authenticator {
	a := authenticator{resolve: resolve}
	if adminKey != "" {
		a.keySum, a.set = sha256.Sum256([]byte(adminKey)), true
	}
	return a
}

// Reasons a request was refused, for the log (Error.Err); clients see only
// the message, which never says whether a key exists, was revoked or
// expired, or is a gateway key without a role.
var (
	errKeyUnset = errors.New("no admin key configured")
	errNoToken  = errors.New("no bearer token")
	errBadToken = errors.New("unknown token, or a key without an admin role")
)

// authenticate returns the principal r acts as, or a 401. The bootstrap
// token is compared in constant time over SHA-256 sums, so neither its
// content nor its length shows in the timing; the token never appears in
// the error.
func (a authenticator) authenticate(r *http.Request) (auth.Principal, *llm.Error) {
	if !a.set && a.resolve == nil {
		return auth.Principal{}, unauthorized(errKeyUnset,
			"the admin API is disabled: SLUICE_ADMIN_KEY is not set")
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return auth.Principal{}, unauthorized(errNoToken,
			"missing admin token: send Authorization: Bearer <admin key>")
	}
	if a.set {
		sum := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(sum[:], a.keySum[:]) == 1 {
			return auth.Principal{Role: auth.RoleOwner, Via: auth.ViaAdminBootstrap, Name: bootstrapName}, nil
		}
	}
	if a.resolve != nil {
		if p, ok := a.resolve(token); ok && p.Role != "" && auth.ValidRole(p.Role) {
			return p, nil
		}
	}
	return auth.Principal{}, unauthorized(errBadToken, "invalid admin token")
}

// bearer returns the token of an "Authorization: Bearer <token>" value (the
// scheme is case-insensitive); ok is false for any other form.
func bearer(h string) (token string, ok bool) {
	const scheme = "bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	token = strings.TrimSpace(h[len(scheme):])
	return token, token != ""
}

func unauthorized(reason error, msg string) *llm.Error {
	return &llm.Error{Status: http.StatusUnauthorized, Type: llm.TypeAuthentication,
		Code: "invalid_api_key", Message: msg, Fault: llm.FaultPolicy, Err: reason}
}

// principalKey is the context key of the authenticated principal.
type principalKey struct{}

// withPrincipal returns ctx carrying p, for the routed handler.
func withPrincipal(ctx context.Context, p auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalFrom returns the principal ServeHTTP stored; a zero Principal
// (no role, so no rights) if there is none.
func principalFrom(ctx context.Context) auth.Principal {
	p, _ := ctx.Value(principalKey{}).(auth.Principal)
	return p
}
