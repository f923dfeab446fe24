package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Defaults and bounds for JWTConfig.
const (
	DefaultLeeway          = 30 * time.Second
	DefaultRefreshInterval = 10 * time.Minute
	// MinRefreshGap is the shortest time between two JWKS fetches, whatever
	// triggers them (expiry, unknown kid, a failed fetch).
	MinRefreshGap = 30 * time.Second
	// maxTokenLen bounds the work a single bearer can cause.
	maxTokenLen = 64 << 10
)

// defaultAlgorithms is used when JWTConfig.Algorithms is empty.
var defaultAlgorithms = []string{"RS256", "ES256", "EdDSA"}

// supportedAlgorithms are the asymmetric algorithms a config may list. HMAC
// ("HS256"…) and "none" are never accepted: a shared secret would let any
// holder mint tokens, and the classic attack signs HS256 with the public key.
var supportedAlgorithms = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// JWTConfig configures a JWTValidator. At least one key source (JWKSURL or
// StaticKeys), the Issuer and one Audience are required.
type JWTConfig struct {
	// JWKSURL is where the identity provider publishes its keys. It must be
	// https, or http to a loopback host. "" = no JWKS (StaticKeys only).
	JWKSURL string
	// StaticKeys are PEM public keys (PKIX "PUBLIC KEY", PKCS#1 "RSA PUBLIC
	// KEY" or a "CERTIFICATE"); one entry may hold several blocks. They are
	// tried for any kid, after JWKS keys with a matching kid.
	StaticKeys []string
	// Issuer must equal the token's "iss" exactly.
	Issuer string
	// Audience lists accepted "aud" values; the token must name one of them.
	Audience []string
	// Leeway is the clock skew allowed on exp, nbf and iat; 0 = 30s.
	Leeway time.Duration
	// Algorithms lists accepted "alg" values; empty = RS256, ES256, EdDSA.
	// Only RS*, PS*, ES* and EdDSA may be listed.
	Algorithms []string
	// TenantClaim, TeamClaim, RolesClaim and ModelsClaim name the claims the
	// principal's tenant, team, role and model allowlist come from; "" = not
	// read. A name is first looked up as a top-level claim (so
	// "https://example.com/roles" works), then as a dotted path ("org.id").
	// A configured TenantClaim must be present in every token; the others
	// may be absent. Roles and models are an array of strings or one string
	// split on spaces and commas; of several roles the strongest wins and
	// unknown ones are ignored; an absent or empty models claim allows every
	// model (Principal.AllowsModel).
	TenantClaim, TeamClaim, RolesClaim, ModelsClaim string
	// RefreshInterval is how old the cached JWKS may get before the next
	// validation refreshes it in the background; 0 = 10m, at least 30s.
	RefreshInterval time.Duration
	// Client fetches the JWKS; nil = a client with a 10s timeout. Each fetch
	// is also bounded by 10s.
	Client *http.Client
	// Now is the clock; nil = time.Now. Tests inject one.
	Now func() time.Time
}

// ErrInvalidToken is wrapped by every error Validate returns. The error's
// text adds a short reason for the log; it never contains the token.
var ErrInvalidToken = errors.New("auth: invalid token")

// tokenError is Validate's error: Error() is "auth: invalid token: " plus a
// reason written here, so nothing from the token leaks into logs; the cause
// (a go-jose or jwt error) stays reachable with errors.Is and errors.As.
type tokenError struct {
	reason string
	cause  error
}

func (e *tokenError) Error() string { return ErrInvalidToken.Error() + ": " + e.reason }

func (e *tokenError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrInvalidToken}
	}
	return []error{ErrInvalidToken, e.cause}
}

func invalid(reason string, cause error) error { return &tokenError{reason: reason, cause: cause} }

// JWTValidator checks JWTs and turns their claims into a Principal. It is
// safe for concurrent use; build it with NewJWTValidator.
type JWTValidator struct {
	cfg    JWTConfig // defaults applied
	algs   []jose.SignatureAlgorithm
	static []verifyKey
	jwks   *jwksSource // nil without JWKSURL
	now    func() time.Time
	// verified remembers tokens that passed, by SHA-256, so a client that
	// sends the same token on every request pays for one signature check
	// (RS256 verification is tens of microseconds), not one per request.
	verified *lru.Cache[[sha256.Size]byte, verifiedToken]
}

// verifiedToken is a token that passed Validate, valid for reuse from
// notBefore until until.
type verifiedToken struct {
	p                Principal
	notBefore, until time.Time
	// set is the JWKS key set current when the token was verified: a
	// refreshed set (keys rotated or withdrawn) means checking again.
	set *keySet
}

// Bounds of the verified-token cache.
const (
	verifiedCacheSize = 10_000
	// verifiedTTL bounds how long a verified token is reused without
	// checking its signature again, so a key the IdP withdraws from its
	// JWKS stops validating within this time.
	verifiedTTL = 5 * time.Minute
)

// NewJWTValidator validates cfg, applies its defaults and parses its static
// keys; it fetches nothing (the JWKS is fetched on first use). All problems
// are reported at once, joined.
func NewJWTValidator(cfg JWTConfig) (*JWTValidator, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if cfg.JWKSURL == "" && len(cfg.StaticKeys) == 0 {
		bad("jwks_url or static_keys: one key source is required")
	}
	if cfg.JWKSURL != "" {
		if err := checkJWKSURL(cfg.JWKSURL); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.Issuer == "" {
		bad("issuer: required")
	}
	if len(cfg.Audience) == 0 {
		bad("audience: at least one value is required")
	}
	for i, a := range cfg.Audience {
		if a == "" {
			bad("audience[%d]: must not be empty", i)
		}
	}
	switch {
	case cfg.Leeway < 0:
		bad("leeway: must not be negative")
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	}
	switch {
	case cfg.RefreshInterval == 0:
		cfg.RefreshInterval = DefaultRefreshInterval
	case cfg.RefreshInterval < MinRefreshGap:
		bad("refresh_interval: must be at least %s", MinRefreshGap)
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = defaultAlgorithms
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(cfg.Algorithms))
	for i, a := range cfg.Algorithms {
		if !supportedAlgorithms[a] {
			bad("algorithms[%d]: %q is not allowed (use RS*, PS*, ES* or EdDSA; HMAC and none are refused)", i, a)
			continue
		}
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	var static []verifyKey
	for i, pemText := range cfg.StaticKeys {
		keys, err := parsePEMKeys(pemText)
		if err != nil {
			bad("static_keys[%d]: %w", i, err)
			continue
		}
		static = append(static, keys...)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("auth: jwt config: %w", errors.Join(errs...))
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: fetchTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	verified, err := lru.New[[sha256.Size]byte, verifiedToken](verifiedCacheSize)
	if err != nil {
		return nil, fmt.Errorf("auth: jwt: %w", err)
	}
	v := &JWTValidator{cfg: cfg, algs: algs, static: static, now: cfg.Now, verified: verified}
	if cfg.JWKSURL != "" {
		v.jwks = &jwksSource{url: cfg.JWKSURL, client: cfg.Client, now: cfg.Now, interval: cfg.RefreshInterval}
	}
	return v, nil
}

// checkJWKSURL accepts https URLs, and http ones only to loopback hosts
// (a local IdP or a test server).
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("jwks_url: must be an absolute http(s) URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("jwks_url: must use https (http is allowed only to a loopback host)")
	}
	return errors.New("jwks_url: must be an absolute http(s) URL")
}

// Validate checks token's signature, algorithm, iss, aud, exp (required),
// nbf and iat (with leeway) and a non-empty sub, and returns the caller as a
// Principal with Via "jwt" and KeyID "jwt:"+sub. Limits, Name and
// AllowedCIDRs are left zero for the gateway to fill from tenant or team
// settings. Every error wraps ErrInvalidToken. ctx bounds waiting for a
// JWKS fetch; the fetch itself is shared and outlives a cancelled caller.
func (v *JWTValidator) Validate(ctx context.Context, token string) (Principal, error) {
	if len(token) > maxTokenLen || !LooksLikeJWT(token) {
		return Principal{}, invalid("malformed", nil)
	}
	h := sha256.Sum256([]byte(token))
	now := v.now()
	var set *keySet
	if v.jwks != nil {
		set = v.jwks.current()
	}
	if vt, ok := v.verified.Get(h); ok {
		if !now.Before(vt.notBefore) && now.Before(vt.until) && vt.set == set {
			return vt.p, nil
		}
		v.verified.Remove(h) // expired or keys changed: check it again
	}
	sig, err := jose.ParseSignedCompact(token, v.algs)
	if err != nil {
		return Principal{}, invalid("malformed or algorithm not allowed", err)
	}
	hdr := sig.Signatures[0].Header
	payload, err := v.verify(ctx, sig, hdr.KeyID, hdr.Algorithm)
	if err != nil {
		return Principal{}, err
	}
	p, claims, err := v.principal(payload)
	if err != nil {
		return Principal{}, err
	}
	// set is the one current before verify: if verify or a background
	// refresh replaced it meanwhile, the next use checks again.
	vt := verifiedToken{p: p, until: claims.Expiry.Time().Add(v.cfg.Leeway), set: set}
	if ttl := now.Add(verifiedTTL); ttl.Before(vt.until) {
		vt.until = ttl
	}
	if claims.NotBefore != nil {
		vt.notBefore = claims.NotBefore.Time().Add(-v.cfg.Leeway)
	}
	v.verified.Add(h, vt)
	return p, nil
}

// verify returns the verified payload of sig, refreshing the JWKS once
// (subject to MinRefreshGap) when kid names no known key.
func (v *JWTValidator) verify(ctx context.Context, sig *jose.JSONWebSignature, kid, alg string) ([]byte, error) {
	var set *keySet
	var fetchErr error
	if v.jwks != nil {
		set, fetchErr = v.jwks.keys(ctx)
	}
	payload, tried := verifyWith(sig, set, v.static, kid, alg)
	if payload != nil {
		return payload, nil
	}
	if v.jwks != nil && kid != "" && !set.hasKid(kid) && fetchErr == nil {
		// A kid we have never seen: the IdP may have rotated keys.
		fetchErr = v.jwks.refresh(ctx, true)
		set = v.jwks.current()
		var more int
		payload, more = verifyWith(sig, set, v.static, kid, alg)
		if payload != nil {
			return payload, nil
		}
		tried += more
	}
	switch {
	case tried > 0:
		return nil, invalid("bad signature", jose.ErrCryptoFailure)
	case fetchErr != nil && !errors.Is(fetchErr, errRefreshLimited):
		return nil, invalid("no key for kid: "+fetchErr.Error(), fetchErr)
	default:
		return nil, invalid("no key for kid", nil)
	}
}

// LooksLikeJWT reports whether s has the shape of a compact JWS: three
// non-empty base64url segments (no padding) separated by dots. It lets the
// gateway route a bearer to JWT or gateway-key checks; it proves nothing.
func LooksLikeJWT(s string) bool {
	dots, segLen := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if segLen == 0 {
				return false
			}
			dots++
			segLen = 0
		case isBase62(c) || c == '-' || c == '_':
			segLen++
		default:
			return false
		}
	}
	return dots == 2 && segLen > 0
}

// expected returns the registered-claim expectations at the current time.
func (v *JWTValidator) expected() jwt.Expected {
	return jwt.Expected{Issuer: v.cfg.Issuer, AnyAudience: v.cfg.Audience, Time: v.now()}
}
