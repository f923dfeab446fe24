package auth

import (
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"
)

// How a Principal was authenticated (Principal.Via).
const (
	ViaKey            = "key"
	ViaJWT            = "jwt"
	ViaAdminBootstrap = "admin-bootstrap"
)

// Principal is an authenticated caller, as the gateway and the admin API see
// it. A zero value is a caller with no role, no tenant and no restrictions;
// what the zero numbers mean (inherit the team's or tenant's settings, or no
// limit) is decided by the limit package, not here. A Principal is a value:
// callers copy it freely and must not share its slices across goroutines
// while mutating them.
type Principal struct {
	// KeyID names the credential: a gateway key's ID ("key_…"), or
	// "jwt:"+sub for a JWT. Never a secret.
	KeyID string
	// TenantID and TeamID scope the caller; "" means not set.
	TenantID, TeamID string
	// Name is a human label for logs (a key's name); may be "".
	Name string
	// Role is the admin role: "" (none: gateway traffic only), RoleOwner,
	// RoleAdmin, RoleMember or RoleViewer. See Can.
	Role string
	// Models lists the models the caller may use, as globs; nil or empty
	// allows every model. See AllowsModel.
	Models []string
	// RPM, TPM and MaxConcurrent are request, token and in-flight limits;
	// zero means not set on this principal.
	RPM, TPM, MaxConcurrent int64
	// BudgetMicros is a spend cap in millionths of a US dollar per
	// BudgetPeriod ("daily", "weekly", "monthly", or "" for lifetime), with
	// periods starting at midnight in the IANA zone BudgetTZ ("" = UTC);
	// zero BudgetMicros means not set.
	BudgetMicros int64
	BudgetPeriod string
	BudgetTZ     string
	// Regions lists the provider regions the caller's requests may go
	// to; nil or empty allows any. See AllowsRegion.
	Regions []string
	// AllowedCIDRs lists the networks the caller may connect from; nil or
	// empty allows every address. See AllowsIP.
	AllowedCIDRs []netip.Prefix
	// Team and Tenant are the settings of the caller's team and tenant.
	// They apply on top of the caller's own: a model or region must be
	// allowed by all three lists that are set, and each limit and budget
	// is counted separately for the key, the team and the tenant.
	Team, Tenant Limits
	// Via says how the caller authenticated: ViaKey, ViaJWT or
	// ViaAdminBootstrap.
	Via string
}

// Limits are one scope's settings: a key's own (Principal.Own), its
// team's or its tenant's. Zero values mean "not set here".
type Limits struct {
	Models, Regions         []string
	RPM, TPM, MaxConcurrent int64
	BudgetMicros            int64
	BudgetPeriod, BudgetTZ  string
}

// Own returns the caller's own settings as Limits.
func (p *Principal) Own() Limits {
	return Limits{Models: p.Models, Regions: p.Regions, RPM: p.RPM, TPM: p.TPM, MaxConcurrent: p.MaxConcurrent,
		BudgetMicros: p.BudgetMicros, BudgetPeriod: p.BudgetPeriod, BudgetTZ: p.BudgetTZ}
}

// Scope kinds (Scope.Kind).
const (
	ScopeKey    = "key"
	ScopeTeam   = "team"
	ScopeTenant = "tenant"
)

// Scope is one level whose limits and budget apply to a request.
type Scope struct {
	Kind   string // ScopeKey, ScopeTeam or ScopeTenant
	ID     string // the key, team or tenant ID
	Limits Limits
}

// Scopes returns the caller's key, team and tenant, in that order, with
// their settings; a level without an ID is left out. The result is a
// fixed-size array so that the request path does not allocate; n says
// how many entries are used.
func (p *Principal) Scopes() (s [3]Scope, n int) {
	if p == nil {
		return s, 0
	}
	if p.KeyID != "" {
		s[n] = Scope{Kind: ScopeKey, ID: p.KeyID, Limits: p.Own()}
		n++
	}
	if p.TeamID != "" {
		s[n] = Scope{Kind: ScopeTeam, ID: p.TeamID, Limits: p.Team}
		n++
	}
	if p.TenantID != "" {
		s[n] = Scope{Kind: ScopeTenant, ID: p.TenantID, Limits: p.Tenant}
		n++
	}
	return s, n
}

// AllowsRegion reports whether the caller's requests may go to a target
// in region. A caller with no region list at any level may go anywhere;
// otherwise every list that is set must name region, so an untagged
// target ("") is refused to a pinned caller. A nil Principal allows
// every region (an anonymous caller on an open gateway is not pinned).
func (p *Principal) AllowsRegion(region string) bool {
	if p == nil {
		return true
	}
	for _, l := range [3][]string{p.Regions, p.Team.Regions, p.Tenant.Regions} {
		if len(l) > 0 && !slices.Contains(l, region) {
			return false
		}
	}
	return true
}

// Pinned reports whether any of the caller's levels restricts regions.
func (p *Principal) Pinned() bool {
	return p != nil && (len(p.Regions) > 0 || len(p.Team.Regions) > 0 || len(p.Tenant.Regions) > 0)
}

// AllowsModel reports whether the caller may use model, given as
// "provider/model" or as a bare (possibly virtual) model name. An empty
// Models list allows everything; a nil Principal allows nothing.
//
// Each entry is a glob with two wildcards: '*' matches any run of
// characters, '/' included (unlike path.Match), so "*" allows every model
// and "openai/*" every OpenAI model; '?' matches one character. Every other
// character, '[' and '\' included, is literal, and matching is
// case-sensitive. The team's and tenant's lists (Team.Models,
// Tenant.Models) must allow the model too where they are set. An entry
// without '/' is also tried against the part of
// model after its first '/', so "gpt-4o*" allows "gpt-4o-mini" and
// "azure/gpt-4o" alike; an entry with '/' is tried only against the whole
// name, so "*/gpt-4o" does not allow the bare "gpt-4o".
func (p *Principal) AllowsModel(model string) bool {
	if p == nil {
		return false
	}
	return modelAllowed(p.Models, model) && modelAllowed(p.Team.Models, model) &&
		modelAllowed(p.Tenant.Models, model)
}

// modelAllowed is AllowsModel for one list; an empty list allows all.
func modelAllowed(models []string, model string) bool {
	if len(models) == 0 {
		return true
	}
	bare := model
	if i := strings.IndexByte(model, '/'); i >= 0 {
		bare = model[i+1:]
	}
	for _, pat := range models {
		if globMatch(pat, model) {
			return true
		}
		if bare != model && !strings.Contains(pat, "/") && globMatch(pat, bare) {
			return true
		}
	}
	return false
}

// AllowsIP reports whether the caller may connect from ip. An empty
// AllowedCIDRs allows every address, even an invalid one; otherwise ip is
// unmapped (::ffff:10.1.2.3 is 10.1.2.3) and must lie in one of the
// prefixes, so write IPv4 networks as IPv4. A nil Principal allows nothing.
func (p *Principal) AllowsIP(ip netip.Addr) bool {
	if p == nil {
		return false
	}
	if len(p.AllowedCIDRs) == 0 {
		return true
	}
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap()
	for _, pfx := range p.AllowedCIDRs {
		if pfx.Contains(ip) {
			return true
		}
	}
	return false
}

// globMatch reports whether name matches pat, where '*' matches any run of
// characters (including '/') and '?' exactly one character (rune); all other
// bytes match themselves. It runs in O(len(pat)*len(name)) at worst and
// never allocates.
func globMatch(pat, name string) bool {
	px, nx := 0, 0
	starPx, starNx := -1, 0 // the last '*' seen and where its match ends
	for px < len(pat) || nx < len(name) {
		if px < len(pat) {
			switch c := pat[px]; c {
			case '*':
				starPx, starNx = px, nx
				px++
				continue
			case '?':
				if nx < len(name) {
					_, w := utf8.DecodeRuneInString(name[nx:])
					px, nx = px+1, nx+w
					continue
				}
			default:
				if nx < len(name) && name[nx] == c {
					px, nx = px+1, nx+1
					continue
				}
			}
		}
		// Mismatch: let the last '*' swallow one more character and retry.
		if starPx >= 0 && starNx < len(name) {
			_, w := utf8.DecodeRuneInString(name[starNx:])
			starNx += w
			px, nx = starPx+1, starNx
			continue
		}
		return false
	}
	return true
}
