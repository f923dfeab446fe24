package admin

import (
	"context"
	"errors"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// placeInScope settles the tenant and team a key (or, with team nil, a
// team) belongs to after a create or an update:
//
//   - a scoped caller's tenant (and a member's team) is forced onto the
//     object; naming another is a 403;
//   - a team must exist and belong to the tenant; when the body names a
//     team but no tenant, the tenant follows the team;
//   - a tenant must exist ("" is the default tenant, which always does).
//
// tenant and team hold the object's values with the body applied;
// givenTenant and givenTeam are the body's (nil when absent). On update,
// nothing is looked up unless the body names a tenant or team. Objects a
// scoped caller may not see are reported as missing.
func (s *server) placeInScope(ctx context.Context, sc scope, tenant, team, givenTenant, givenTeam *string, create bool) error {
	if sc.byTeam && team != nil {
		if givenTeam != nil && *givenTeam != sc.team {
			return forbidden("team_id", "this key manages only its own team's keys (%s)", short(sc.team))
		}
		*team = sc.team
	}
	if sc.byTenant {
		if givenTenant != nil && *givenTenant != sc.tenant {
			return forbidden("tenant_id", "this key manages only its own tenant (%s)", short(sc.tenant))
		}
		*tenant = sc.tenant
	}
	if !create && givenTenant == nil && givenTeam == nil {
		return nil
	}
	if team != nil && *team != "" {
		t, err := s.db.GetTeam(ctx, *team)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return llm.BadRequest("team_id", "team_id: no team %s", short(*team))
		case err != nil:
			return storeError(err, "team", "")
		case givenTenant == nil && !sc.byTenant:
			*tenant = t.TenantID
		case t.TenantID != *tenant && sc.byTenant:
			return llm.BadRequest("team_id", "team_id: no team %s", short(*team))
		case t.TenantID != *tenant:
			return llm.BadRequest("team_id", "team_id: team %s belongs to tenant %s, not %s",
				short(*team), short(t.TenantID), short(*tenant))
		}
	}
	if *tenant != "" {
		_, err := s.db.GetTenant(ctx, *tenant)
		if errors.Is(err, store.ErrNotFound) {
			return llm.BadRequest("tenant_id", "tenant_id: no tenant %s", short(*tenant))
		}
		if err != nil {
			return storeError(err, "tenant", "")
		}
	}
	return nil
}
