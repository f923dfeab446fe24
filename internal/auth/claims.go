package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"
)

// principal checks the registered claims of a verified payload and maps
// the configured custom claims onto a Principal.
// It also returns the registered claims (Expiry is never nil).
func (v *JWTValidator) principal(payload []byte) (Principal, *jwt.Claims, error) {
	var std jwt.Claims
	if err := json.Unmarshal(payload, &std); err != nil {
		return Principal{}, nil, invalid("malformed claims", err)
	}
	if std.Expiry == nil {
		return Principal{}, nil, invalid("missing exp", nil)
	}
	if err := std.ValidateWithLeeway(v.expected(), v.cfg.Leeway); err != nil {
		return Principal{}, nil, invalid(claimReason(err), err)
	}
	if std.Subject == "" {
		return Principal{}, nil, invalid("missing sub", nil)
	}
	p, err := v.customClaims(payload, Principal{KeyID: "jwt:" + std.Subject, Via: ViaJWT})
	if err != nil {
		return Principal{}, nil, err
	}
	return p, &std, nil
}

// customClaims maps the configured tenant, team, roles and models claims
// of payload onto p.
func (v *JWTValidator) customClaims(payload []byte, p Principal) (Principal, error) {
	c := v.cfg
	if c.TenantClaim == "" && c.TeamClaim == "" && c.RolesClaim == "" && c.ModelsClaim == "" {
		return p, nil
	}
	var all map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&all); err != nil {
		return Principal{}, invalid("malformed claims", err)
	}
	var ok bool
	if c.TenantClaim != "" {
		if p.TenantID, ok = claimString(all, c.TenantClaim); !ok || p.TenantID == "" {
			return Principal{}, invalid("missing or bad tenant claim", nil)
		}
	}
	if c.TeamClaim != "" {
		if p.TeamID, ok = claimString(all, c.TeamClaim); !ok {
			return Principal{}, invalid("bad team claim", nil)
		}
	}
	if c.RolesClaim != "" {
		roles, ok := claimList(all, c.RolesClaim)
		if !ok {
			return Principal{}, invalid("bad roles claim", nil)
		}
		for _, r := range roles {
			if roleRank(r) > roleRank(p.Role) {
				p.Role = r
			}
		}
	}
	if c.ModelsClaim != "" {
		if p.Models, ok = claimList(all, c.ModelsClaim); !ok {
			return Principal{}, invalid("bad models claim", nil)
		}
	}
	return p, nil
}

// claimReason names a jwt validation failure for the log.
func claimReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrExpired):
		return "expired"
	case errors.Is(err, jwt.ErrNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return "issued in the future"
	}
	return "claims rejected"
}

// lookupClaim finds name as a top-level claim, or else as a dotted path
// through nested objects ("org.id" is claims["org"]["id"]).
func lookupClaim(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok {
		return v, true
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// claimString reads a string claim; a number is taken as its JSON text. An
// absent or null claim is ("", true); any other type is (_, false).
func claimString(claims map[string]any, name string) (string, bool) {
	v, ok := lookupClaim(claims, name)
	if !ok {
		return "", true
	}
	switch s := v.(type) {
	case nil:
		return "", true
	case string:
		return s, true
	case json.Number:
		return s.String(), true
	}
	return "", false
}

// claimList reads a list claim: an array of strings, or one string of
// values separated by spaces or commas (OAuth "scope" style). An absent or
// null claim is (nil, true); any other shape is (nil, false).
func claimList(claims map[string]any, name string) ([]string, bool) {
	v, ok := lookupClaim(claims, name)
	if !ok {
		return nil, true
	}
	switch l := v.(type) {
	case nil:
		return nil, true
	case string:
		return strings.FieldsFunc(l, func(r rune) bool { return r == ' ' || r == ',' }), true
	case []any:
		out := make([]string, 0, len(l))
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}
