package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/sluicehq/sluice/internal/llm"
)

// This file is the admin API's whole authentication: one bootstrap token.
// The key system (roles, per-key scopes) will replace authenticate's body
// and widen principal; handlers only ever see a principal.

// principal is who an admin request acts as.
type principal struct {
	// Name identifies the caller in logs and audit records.
	Name string
	// Admin is true for full access to every admin endpoint.
	Admin bool
}

// authenticator checks bearer tokens against the admin key.
type authenticator struct {
	// keySum is SHA-256 of the admin key; set is false when there is none.
	keySum [sha256.Size]byte
	set    bool
}

func newAuthenticator(adminKey string) authenticator {
	if adminKey == "" {
		return authenticator{}
	}
	return authenticator{keySum: sha256.Sum256([]byte(adminKey)), set: true}
}

// Reasons a request was refused, for the log (Error.Err); clients see only
// the message.
var (
	errKeyUnset = errors.New("admin key not set")
	errNoToken  = errors.New("no bearer token")
	errBadToken = errors.New("wrong token")
)

// authenticate returns the principal r acts as, or a 401. The token is
// compared in constant time over SHA-256 sums, so neither its content nor
// its length shows in the timing; it never appears in the error.
func (a authenticator) authenticate(r *http.Request) (principal, *llm.Error) {
	if !a.set {
		return principal{}, unauthorized(errKeyUnset,
			"the admin API is disabled: SLUICE_ADMIN_KEY is not set")
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return principal{}, unauthorized(errNoToken,
			"missing admin token: send Authorization: Bearer <SLUICE_ADMIN_KEY>")
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], a.keySum[:]) != 1 {
		return principal{}, unauthorized(errBadToken, "invalid admin token")
	}
	return principal{Name: "admin-key", Admin: true}, nil
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
