package admin

import (
	"net/http"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// This file serves /admin/v1/tenants, and holds the body and JSON forms
// tenants and teams share. Tenant writes are the owner's alone.

const kindTenant = "tenant"

// orgInput is a tenant or team body; a nil field was not given.
type orgInput struct {
	Name, TenantID *string
	Metadata       *map[string]string
	Disabled       *bool
	policyInput
}

// parseOrgInput decodes a tenant or team body that may hold the members
// allowed; a name, when given (and always on create), must not be empty.
func parseOrgInput(f fields, create bool, allowed ...string) (orgInput, *llm.Error) {
	var in orgInput
	if err := f.only(allowed...); err != nil {
		return in, err
	}
	var err *llm.Error
	if in.Disabled, err = f.flag("disabled"); err != nil {
		return in, err
	}
	if in.Metadata, err = f.metadata("metadata"); err != nil {
		return in, err
	}
	if in.Name, err = f.text("name", entityText); err != nil {
		return in, err
	}
	if (create && in.Name == nil) || (in.Name != nil && *in.Name == "") {
		return in, llm.BadRequest("name", "name: required, and must not be empty")
	}
	if in.TenantID, err = f.text("tenant_id", entityText); err != nil {
		return in, err
	}
	if err = in.policyInput.parse(f); err != nil {
		return in, err
	}
	return in, nil
}

// apply sets the given name, metadata, disabled and policy.
func (in *orgInput) apply(name *string, meta *map[string]string, disabled *bool, p *store.Policy) {
	in.policyInput.apply(p)
	if in.Name != nil {
		*name = *in.Name
	}
	if in.Metadata != nil {
		*meta = *in.Metadata
	}
	if in.Disabled != nil {
		*disabled = *in.Disabled
	}
}

// createTenant serves POST /tenants: name (required), metadata; 201.
func (s *server) createTenant(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := need(&c.p, auth.ManageTenants); err != nil {
		return err
	}
	f, perr := readFields(w, r)
	if perr != nil {
		return perr
	}
	in, perr := parseOrgInput(f, true, append([]string{"name", "metadata"}, policyFields...)...)
	if perr != nil {
		return perr
	}
	t := store.Tenant{ID: auth.NewID("ten_")}
	in.apply(&t.Name, &t.Metadata, &t.Disabled, &t.Policy)
	if err := s.db.CreateTenant(r.Context(), &t); err != nil {
		return storeError(err, kindTenant, "a tenant with this name exists")
	}
	s.scopesChanged(r.Context())
	c.target, c.detail = t.ID, map[string]string{"fields": f.names()}
	w.Header().Set("Location", Prefix+"/tenants/"+t.ID)
	c.reply(http.StatusCreated, appendTenant(nil, &t))
	return nil
}

// listTenants serves GET /tenants: every tenant the caller may see, by
// name, in the list envelope (always one page).
func (s *server) listTenants(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needOrgRead(&c.p); err != nil {
		return err
	}
	if perr := eachParam(r.URL.Query(), unknownParam); perr != nil {
		return perr
	}
	ts, err := s.db.ListTenants(r.Context())
	if err != nil {
		return storeError(err, kindTenant, "")
	}
	buf := append(make([]byte, 0, 256+len(ts)*256), `{"object":"list","data":[`...)
	n := 0
	for i := range ts {
		if !c.scope.allowsTenant(ts[i].ID) {
			continue
		}
		if n++; n > 1 {
			buf = append(buf, ',')
		}
		buf = appendTenant(buf, &ts[i])
	}
	c.reply(http.StatusOK, appendListEnd(buf, ""))
	return nil
}

// getTenant serves GET /tenants/{id}.
func (s *server) getTenant(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needOrgRead(&c.p); err != nil {
		return err
	}
	if perr := eachParam(r.URL.Query(), unknownParam); perr != nil {
		return perr
	}
	t, err := s.db.GetTenant(r.Context(), c.target)
	if err != nil {
		return storeError(err, kindTenant, "")
	}
	if !c.scope.allowsTenant(t.ID) {
		return hidden(kindTenant)
	}
	c.reply(http.StatusOK, appendTenant(nil, &t))
	return nil
}

// updateTenant serves PATCH /tenants/{id}: name, metadata, disabled.
func (s *server) updateTenant(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := need(&c.p, auth.ManageTenants); err != nil {
		return err
	}
	t, err := s.db.GetTenant(r.Context(), c.target)
	if err != nil {
		return storeError(err, kindTenant, "")
	}
	f, perr := readFields(w, r)
	if perr != nil {
		return perr
	}
	in, perr := parseOrgInput(f, false, append([]string{"name", "metadata", "disabled"}, policyFields...)...)
	if perr != nil {
		return perr
	}
	in.apply(&t.Name, &t.Metadata, &t.Disabled, &t.Policy)
	if err := s.db.UpdateTenant(r.Context(), &t); err != nil {
		return storeError(err, kindTenant, "a tenant with this name exists")
	}
	s.scopesChanged(r.Context())
	c.detail = map[string]string{"fields": f.names()}
	c.reply(http.StatusOK, appendTenant(nil, &t))
	return nil
}

// deleteTenant serves DELETE /tenants/{id}: 204, or 409 while teams or
// keys name the tenant.
func (s *server) deleteTenant(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := need(&c.p, auth.ManageTenants); err != nil {
		return err
	}
	if err := s.db.DeleteTenant(r.Context(), c.target); err != nil {
		return storeError(err, kindTenant, "teams or keys still belong to this tenant: delete or move them first")
	}
	s.scopesChanged(r.Context())
	c.reply(http.StatusNoContent, nil)
	return nil
}

// appendTenant appends t as the API's tenant object.
func appendTenant(dst []byte, t *store.Tenant) []byte {
	dst = append(dst, '{')
	dst = appendStr(dst, "object", "tenant")
	dst = appendStr(dst, "id", t.ID)
	dst = appendStr(dst, "name", t.Name)
	dst = appendPolicy(dst, &t.Policy)
	return appendOrgTail(dst, t.Metadata, t.Disabled, t.CreatedAt, t.UpdatedAt)
}

// appendOrgTail appends the members tenants and teams end with, and the
// closing brace.
func appendOrgTail(dst []byte, meta map[string]string, disabled bool, created, updated time.Time) []byte {
	dst = jsonw.AppendKey(dst, "metadata")
	dst = appendStringMap(dst, meta)
	dst = jsonw.AppendKey(dst, "disabled")
	dst = jsonw.AppendBool(dst, disabled)
	dst = appendTime(dst, "created_at", created)
	dst = appendTime(dst, "updated_at", updated)
	return append(dst, '}')
}
