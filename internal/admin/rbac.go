package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// This file is the admin API's authorisation: which role may call which
// endpoint (auth.Principal.Can answers for the role) and which tenants,
// teams and keys a caller reaches (its scope). The policy:
//
//	owner   everything, across every tenant
//	admin   everything but tenant writes; tenant-scoped when its key names a tenant
//	member  its own team only: that team's keys (create, read, change, rotate,
//	        revoke), logs and usage; no tenants, teams or audit
//	viewer  reads only: logs, usage, keys (never secrets), tenants and teams;
//	        tenant-scoped when its key names a tenant
//
// Nobody creates a key with a role above their own, nor touches (changes,
// rotates, revokes) a key whose role is above their own: rotating an
// owner key would hand its new secret to whoever rotated it.

// rank orders roles by privilege; "" (a gateway key) and unknown roles
// are 0.
func rank(role string) int {
	switch role {
	case auth.RoleOwner:
		return 4
	case auth.RoleAdmin:
		return 3
	case auth.RoleMember:
		return 2
	case auth.RoleViewer:
		return 1
	}
	return 0
}

// scope is what part of the installation a caller reaches. The zero
// scope reaches everything.
type scope struct {
	// byTenant limits the caller to tenant ("" = the default tenant).
	byTenant bool
	tenant   string
	// byTeam limits the caller to team, which is never "": a member key
	// without a team reaches nothing (see needTeam).
	byTeam bool
	team   string
}

// scopeOf returns p's scope: owners reach everything; members their own
// team (and tenant); admins and viewers their tenant when their key
// names one, else everything.
func scopeOf(p *auth.Principal) scope {
	switch {
	case p.Role == auth.RoleOwner:
		return scope{}
	case p.TeamScoped():
		return scope{byTenant: true, tenant: p.TenantID, byTeam: true, team: p.TeamID}
	case p.TenantID != "":
		return scope{byTenant: true, tenant: p.TenantID}
	}
	return scope{}
}

// errOutOfScope marks a 404 that hides an object outside the caller's
// scope: the client cannot tell it from a missing one, but a write so
// refused is audited as denied.
var errOutOfScope = errors.New("outside the caller's scope")

// hidden is the 404 for an object of kind outside the caller's scope.
func hidden(kind string) *llm.Error {
	return &llm.Error{Status: http.StatusNotFound, Type: llm.TypeNotFound, Code: "not_found",
		Fault: llm.FaultCaller, Message: "no such " + kind, Err: errOutOfScope}
}

// forbidden is the 403 for an action the caller's role or scope does not
// allow; param names the body member or query parameter at fault, if any.
func forbidden(param, format string, args ...any) *llm.Error {
	return &llm.Error{Status: http.StatusForbidden, Type: llm.TypePermission, Code: "permission_denied",
		Param: param, Fault: llm.FaultPolicy, Message: fmt.Sprintf(format, args...)}
}

// need refuses p unless its role may take action.
func need(p *auth.Principal, action auth.Action) *llm.Error {
	if !p.Can(action) {
		return forbidden("", "role %q may not %s", p.Role, describe(action))
	}
	return nil
}

func describe(a auth.Action) string {
	switch a {
	case auth.ReadLogs:
		return "read this"
	case auth.ManageKeys, auth.ManageTeamKeys:
		return "manage keys"
	case auth.ManageTenants:
		return "manage tenants"
	case auth.ReadAudit:
		return "read the audit log"
	}
	return string(a)
}

// needRead refuses p unless it may read logs, usage and keys; a member
// must have a team.
func needRead(p *auth.Principal) *llm.Error {
	if err := need(p, auth.ReadLogs); err != nil {
		return err
	}
	return needTeam(p)
}

// needKeyWrite refuses p unless it may manage some keys: every key in its
// scope (ManageKeys) or its own team's (ManageTeamKeys, with a team).
func needKeyWrite(p *auth.Principal) *llm.Error {
	if p.Can(auth.ManageKeys) {
		return nil
	}
	if p.Can(auth.ManageTeamKeys) && p.TeamScoped() {
		return needTeam(p)
	}
	return need(p, auth.ManageKeys)
}

// needTeam refuses a member key that names no team: its scope would be
// empty, and "" must never read as "every team".
func needTeam(p *auth.Principal) *llm.Error {
	if p.TeamScoped() && p.TeamID == "" {
		return forbidden("", "this member key belongs to no team, so it may manage and read nothing")
	}
	return nil
}

// needOrgRead refuses p unless it may read tenants and teams: any role
// that reads logs but a member, which sees only its own team's keys.
func needOrgRead(p *auth.Principal) *llm.Error {
	if p.TeamScoped() {
		return forbidden("", "role %q may not read tenants or teams", p.Role)
	}
	return need(p, auth.ReadLogs)
}

// needRank refuses p when role (a key's, given or stored) ranks above p's
// own; param names the member at fault.
func needRank(p *auth.Principal, param, role string) *llm.Error {
	if rank(role) > rank(p.Role) {
		return forbidden(param, "a %q key may not manage a key with role %q", p.Role, role)
	}
	return nil
}

// allowsKey reports whether k lies within the scope.
func (sc scope) allowsKey(k *store.Key) bool {
	return (!sc.byTenant || k.TenantID == sc.tenant) && (!sc.byTeam || k.TeamID == sc.team)
}

// allowsTeam reports whether t lies within the scope.
func (sc scope) allowsTeam(t *store.Team) bool {
	return (!sc.byTenant || t.TenantID == sc.tenant) && (!sc.byTeam || t.ID == sc.team)
}

// allowsTenant reports whether the tenant with id lies within the scope.
func (sc scope) allowsTenant(id string) bool { return !sc.byTenant || id == sc.tenant }

// allowsRecord reports whether a log record lies within the scope. A
// scope limited to the default tenant alone is held by its team, never by
// the record's tenant, which older records may lack.
func (sc scope) allowsRecord(rec *store.Record) bool {
	return (!sc.byTenant || sc.tenant == "" || rec.TenantID == sc.tenant) && (!sc.byTeam || rec.TeamID == sc.team)
}

// narrow forces the scope onto a query's tenant and team filters, or
// refuses one that asks for another tenant or team (rather than silently
// answering for a different one). A filter for the default tenant cannot
// be written ("" does not filter), so a scope limited to it is held by
// its team alone (members) or not by tenant (never for admins: they are
// tenant-scoped only when their key names a tenant).
func (sc scope) narrow(tenantID, teamID *string) *llm.Error {
	if sc.byTeam {
		if *teamID != "" && *teamID != sc.team {
			return forbidden("team_id", "this key reads only its own team (%s)", short(sc.team))
		}
		*teamID = sc.team
	}
	if sc.byTenant && sc.tenant != "" {
		if *tenantID != "" && *tenantID != sc.tenant {
			return forbidden("tenant_id", "this key reads only its own tenant (%s)", short(sc.tenant))
		}
		*tenantID = sc.tenant
	}
	return nil
}
