package auth

// Admin roles (Principal.Role). The empty role has no admin rights: a plain
// gateway key can call models and nothing else.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleViewer = "viewer"
)

// Action is something the admin API lets a caller do.
type Action string

// The admin actions.
const (
	// ReadLogs reads request logs and usage. For RoleMember the caller must
	// restrict results to the principal's team (see TeamScoped).
	ReadLogs Action = "read_logs"
	// ManageKeys creates, edits and revokes any key of the tenant.
	ManageKeys Action = "manage_keys"
	// ManageTeamKeys creates, edits and revokes keys of the caller's team.
	ManageTeamKeys Action = "manage_team_keys"
	// ManageTenants creates, edits and deletes tenants and teams.
	ManageTenants Action = "manage_tenants"
	// ReadAudit reads the admin audit trail.
	ReadAudit Action = "read_audit"
	// ManageCredentials sets and rotates provider credentials.
	ManageCredentials Action = "manage_credentials"
	// PurgeCache removes cached answers from the response cache.
	PurgeCache Action = "purge_cache"
)

// grants is the whole RBAC policy: the actions each role may take. Owner
// may do everything; admin everything but ManageTenants (the line between
// running a tenant and running the installation); member reads logs and
// manages keys of its own team; viewer only reads logs. Unknown roles and ""
// have no entry and so may do nothing.
var grants = map[string][]Action{
	RoleOwner:  {ReadLogs, ManageKeys, ManageTeamKeys, ManageTenants, ReadAudit, ManageCredentials, PurgeCache},
	RoleAdmin:  {ReadLogs, ManageKeys, ManageTeamKeys, ReadAudit, ManageCredentials, PurgeCache},
	RoleMember: {ReadLogs, ManageTeamKeys},
	RoleViewer: {ReadLogs},
}

// Can reports whether the principal's role allows action. It answers for
// the role only; which team or tenant the action may touch is the caller's
// check (TeamScoped, TenantID). A nil Principal can do nothing.
func (p *Principal) Can(action Action) bool {
	if p == nil {
		return false
	}
	for _, a := range grants[p.Role] {
		if a == action {
			return true
		}
	}
	return false
}

// TeamScoped reports whether the principal's admin rights reach only its own
// team (RoleMember): such a caller's reads must be filtered to TeamID and it
// may manage only that team's keys. False for a nil Principal.
func (p *Principal) TeamScoped() bool {
	return p != nil && p.Role == RoleMember
}

// ValidRole reports whether role is one of the four admin roles or "".
func ValidRole(role string) bool {
	_, ok := grants[role]
	return ok || role == ""
}

// roleRank orders roles by privilege, for picking the strongest of several
// (a JWT may carry many); unknown roles rank 0.
func roleRank(role string) int {
	switch role {
	case RoleOwner:
		return 4
	case RoleAdmin:
		return 3
	case RoleMember:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}
