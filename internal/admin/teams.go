package admin

import (
	"net/http"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// This file serves /admin/v1/teams. Team writes are for owners and
// admins (a tenant's admin within its tenant); a team's tenant is fixed
// at creation, since moving a team would leave its keys behind.

const kindTeam = "team"

// createTeam serves POST /teams: tenant_id ("" = the default tenant),
// name (required, unique within the tenant), metadata; 201.
func (s *server) createTeam(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := need(&c.p, auth.ManageKeys); err != nil {
		return err
	}
	f, perr := readFields(w, r)
	if perr != nil {
		return perr
	}
	in, perr := parseOrgInput(f, true, append([]string{"tenant_id", "name", "metadata"}, policyFields...)...)
	if perr != nil {
		return perr
	}
	t := store.Team{ID: auth.NewID("team_")}
	if in.TenantID != nil {
		t.TenantID = *in.TenantID
	}
	in.apply(&t.Name, &t.Metadata, &t.Disabled, &t.Policy)
	if err := s.placeInScope(r.Context(), c.scope, &t.TenantID, nil, in.TenantID, nil, true); err != nil {
		return err
	}
	if err := s.db.CreateTeam(r.Context(), &t); err != nil {
		return storeError(err, kindTeam, "the tenant has a team with this name")
	}
	s.scopesChanged(r.Context())
	c.target, c.detail = t.ID, map[string]string{"fields": f.names()}
	w.Header().Set("Location", Prefix+"/teams/"+t.ID)
	c.reply(http.StatusCreated, appendTeam(nil, &t))
	return nil
}

// listTeams serves GET /teams: the teams of tenant_id when given, else of
// every tenant the caller may see (the default tenant's first, then by
// tenant name), each tenant's by name, in the list envelope (one page).
func (s *server) listTeams(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needOrgRead(&c.p); err != nil {
		return err
	}
	var tenant, team string
	if perr := eachParam(r.URL.Query(), func(name, v string) *llm.Error {
		if name != "tenant_id" {
			return unknownParam(name, v)
		}
		tenant = v
		return nil
	}); perr != nil {
		return perr
	}
	if perr := c.scope.narrow(&tenant, &team); perr != nil {
		return perr
	}
	tenants := []string{tenant}
	if tenant == "" {
		ts, err := s.db.ListTenants(r.Context())
		if err != nil {
			return storeError(err, kindTenant, "")
		}
		for _, t := range ts {
			tenants = append(tenants, t.ID)
		}
	}
	buf := append(make([]byte, 0, 1024), `{"object":"list","data":[`...)
	n := 0
	for _, id := range tenants {
		teams, err := s.db.ListTeams(r.Context(), id)
		if err != nil {
			return storeError(err, kindTeam, "")
		}
		for i := range teams {
			if !c.scope.allowsTeam(&teams[i]) {
				continue
			}
			if n++; n > 1 {
				buf = append(buf, ',')
			}
			buf = appendTeam(buf, &teams[i])
		}
	}
	c.reply(http.StatusOK, appendListEnd(buf, ""))
	return nil
}

// teamInScope returns the team the path names, or a 404 when it is
// missing or outside the caller's scope.
func (s *server) teamInScope(r *http.Request, c *call) (store.Team, error) {
	t, err := s.db.GetTeam(r.Context(), c.target)
	if err != nil {
		return store.Team{}, storeError(err, kindTeam, "")
	}
	if !c.scope.allowsTeam(&t) {
		return store.Team{}, hidden(kindTeam)
	}
	return t, nil
}

// getTeam serves GET /teams/{id}.
func (s *server) getTeam(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needOrgRead(&c.p); err != nil {
		return err
	}
	if perr := eachParam(r.URL.Query(), unknownParam); perr != nil {
		return perr
	}
	t, err := s.teamInScope(r, c)
	if err != nil {
		return err
	}
	c.reply(http.StatusOK, appendTeam(nil, &t))
	return nil
}

// updateTeam serves PATCH /teams/{id}: name, metadata, disabled.
func (s *server) updateTeam(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := need(&c.p, auth.ManageKeys); err != nil {
		return err
	}
	t, err := s.teamInScope(r, c)
	if err != nil {
		return err
	}
	f, perr := readFields(w, r)
	if perr != nil {
		return perr
	}
	if _, ok := f["tenant_id"]; ok {
		return llm.BadRequest("tenant_id", "tenant_id: a team's tenant cannot be changed (its keys would stay behind)")
	}
	in, perr := parseOrgInput(f, false, append([]string{"name", "metadata", "disabled"}, policyFields...)...)
	if perr != nil {
		return perr
	}
	in.apply(&t.Name, &t.Metadata, &t.Disabled, &t.Policy)
	if err := s.db.UpdateTeam(r.Context(), &t); err != nil {
		return storeError(err, kindTeam, "the tenant has a team with this name")
	}
	s.scopesChanged(r.Context())
	c.detail = map[string]string{"fields": f.names()}
	c.reply(http.StatusOK, appendTeam(nil, &t))
	return nil
}

// deleteTeam serves DELETE /teams/{id}: 204, or 409 while keys name it.
func (s *server) deleteTeam(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := need(&c.p, auth.ManageKeys); err != nil {
		return err
	}
	if _, err := s.teamInScope(r, c); err != nil {
		return err
	}
	if err := s.db.DeleteTeam(r.Context(), c.target); err != nil {
		return storeError(err, kindTeam, "keys still belong to this team: delete or move them first")
	}
	s.scopesChanged(r.Context())
	c.reply(http.StatusNoContent, nil)
	return nil
}

// appendTeam appends t as the API's team object.
func appendTeam(dst []byte, t *store.Team) []byte {
	dst = append(dst, '{')
	dst = appendStr(dst, "object", "team")
	dst = appendStr(dst, "id", t.ID)
	dst = appendStr(dst, "tenant_id", t.TenantID)
	dst = appendStr(dst, "name", t.Name)
	dst = appendPolicy(dst, &t.Policy)
	return appendOrgTail(dst, t.Metadata, t.Disabled, t.CreatedAt, t.UpdatedAt)
}
