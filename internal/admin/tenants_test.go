package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sluicehq/sluice/internal/store"
)

// orgObject is the API's tenant or team object.
type orgObject struct {
	Object   string  `json:"object"`
	ID       string  `json:"id"`
	TenantID *string `json:"tenant_id"` // teams only
	Name     string  `json:"name"`
	PolicyObject
	Metadata  map[string]string `json:"metadata"`
	Disabled  bool              `json:"disabled"`
	CreatedAt string            `json:"created_at"`
	UpdatedAt string            `json:"updated_at"`
}

func decodeOrg(t *testing.T, r response, status int) orgObject {
	t.Helper()
	wantStatus(t, r, status)
	var o orgObject
	decodeStrict(t, r.body, &o)
	return o
}

func TestTenantsAndTeams(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		api := serveKeys(t, db, nil)
		ten := decodeOrg(t, api.call(t, testKey, "POST", "/admin/v1/tenants", `{"name":"acme","metadata":{"tier":"gold"}}`), 201)
		if !strings.HasPrefix(ten.ID, "ten_") || ten.Object != "tenant" || ten.TenantID != nil || ten.CreatedAt == "" {
			t.Errorf("created tenant %+v", ten)
		}
		team := decodeOrg(t, api.call(t, testKey, "POST", "/admin/v1/teams", `{"tenant_id":"`+ten.ID+`","name":"search"}`), 201)
		if !strings.HasPrefix(team.ID, "team_") || team.Object != "team" || team.TenantID == nil || *team.TenantID != ten.ID {
			t.Errorf("created team %+v", team)
		}
		defTeam := decodeOrg(t, api.call(t, testKey, "POST", "/admin/v1/teams", `{"name":"ops"}`), 201)

		got := decodeOrg(t, api.call(t, testKey, "PATCH", "/admin/v1/tenants/"+ten.ID, `{"disabled":true}`), 200)
		want := ten
		want.Disabled = true
		if diff := cmp.Diff(got, want, cmpopts.IgnoreFields(orgObject{}, "UpdatedAt")); diff != "" {
			t.Errorf("patched tenant (-got +want):\n%s", diff)
		}
		decodeOrg(t, api.call(t, testKey, "GET", "/admin/v1/teams/"+team.ID, ""), 200)

		r := api.call(t, testKey, "GET", "/admin/v1/teams", "")
		wantStatus(t, r, 200)
		var l struct {
			Data []orgObject `json:"data"`
		}
		if err := json.Unmarshal(r.body, &l); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range l.Data {
			names = append(names, o.Name)
		}
		if diff := cmp.Diff(names, []string{"ops", "search"}); diff != "" {
			t.Errorf("teams, default tenant's first (-got +want):\n%s", diff)
		}
		r = api.call(t, testKey, "GET", "/admin/v1/teams?tenant_id="+ten.ID, "")
		if !strings.Contains(string(r.body), team.ID) || strings.Contains(string(r.body), defTeam.ID) {
			t.Errorf("teams of %s: %s", ten.ID, r.body)
		}

		refusals := []struct {
			name, method, path, body string
			wantStatus               int
			wantParam, wantCode      string
		}{
			{name: "tenant without name", method: "POST", path: "/tenants", body: `{}`, wantStatus: 400, wantParam: "name"},
			{name: "tenant empty name", method: "POST", path: "/tenants", body: `{"name":""}`, wantStatus: 400, wantParam: "name"},
			{name: "tenant id is not settable", method: "POST", path: "/tenants", body: `{"id":"x","name":"y"}`, wantStatus: 400, wantParam: "id"},
			{name: "tenant name taken", method: "POST", path: "/tenants", body: `{"name":"acme"}`, wantStatus: 409, wantCode: "conflict"},
			{name: "team in unknown tenant", method: "POST", path: "/teams", body: `{"tenant_id":"nope","name":"x"}`, wantStatus: 400, wantParam: "tenant_id"},
			{name: "team name taken in tenant", method: "POST", path: "/teams", body: `{"tenant_id":"` + ten.ID + `","name":"search"}`, wantStatus: 409, wantCode: "conflict"},
			{name: "team moved", method: "PATCH", path: "/teams/" + team.ID, body: `{"tenant_id":""}`, wantStatus: 400, wantParam: "tenant_id"},
			{name: "tenant with teams deleted", method: "DELETE", path: "/tenants/" + ten.ID, wantStatus: 409, wantCode: "conflict"},
			{name: "unknown tenant", method: "GET", path: "/tenants/nope", wantStatus: 404, wantCode: "not_found"},
			{name: "unknown team patched", method: "PATCH", path: "/teams/nope", body: `{"name":"x"}`, wantStatus: 404, wantCode: "not_found"},
			{name: "teams bad parameter", method: "GET", path: "/teams?tenant=x", wantStatus: 400, wantParam: "tenant"},
			{name: "PUT tenants", method: "PUT", path: "/tenants", wantStatus: 405, wantCode: "method_not_allowed"},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				r := api.call(t, testKey, tc.method, "/admin/v1"+tc.path, tc.body)
				e := decodeError(t, r)
				if r.status != tc.wantStatus || deref(e.Error.Param) != tc.wantParam || deref(e.Error.Code) != tc.wantCode {
					t.Errorf("got %d %s, want %d param %q code %q", r.status, r.body, tc.wantStatus, tc.wantParam, tc.wantCode)
				}
			})
		}

		// A team with a key cannot go; without, it can, and then its tenant.
		k := api.createKey(t, testKey, `{"team_id":"`+team.ID+`"}`)
		wantStatus(t, api.call(t, testKey, "DELETE", "/admin/v1/teams/"+team.ID, ""), http.StatusConflict)
		wantStatus(t, api.call(t, testKey, "DELETE", "/admin/v1/keys/"+k.ID, ""), http.StatusNoContent)
		wantStatus(t, api.call(t, testKey, "DELETE", "/admin/v1/teams/"+team.ID, ""), http.StatusNoContent)
		wantStatus(t, api.call(t, testKey, "DELETE", "/admin/v1/tenants/"+ten.ID, ""), http.StatusNoContent)
		wantStatus(t, api.call(t, testKey, "GET", "/admin/v1/tenants/"+ten.ID, ""), http.StatusNotFound)
	})
}

// TestRoutingWithStore covers the new resources' method handling and
// their absence without a store.
func TestRoutingWithStore(t *testing.T) {
	api := serveKeys(t, sqliteStore(t), nil)
	for _, tc := range []struct {
		method, path, wantAllow string
		wantStatus              int
	}{
		{method: "PUT", path: "/admin/v1/keys", wantStatus: 405, wantAllow: "GET, HEAD, POST"},
		{method: "POST", path: "/admin/v1/keys/key_x", wantStatus: 405, wantAllow: "DELETE, GET, HEAD, PATCH"},
		{method: "GET", path: "/admin/v1/keys/key_x/rotate", wantStatus: 405, wantAllow: "POST"},
		{method: "HEAD", path: "/admin/v1/keys", wantStatus: 200},
		{method: "GET", path: "/admin/v1/keys/key_x/other", wantStatus: 404},
	} {
		r := api.call(t, testKey, tc.method, tc.path, "")
		if r.status != tc.wantStatus || r.header.Get("Allow") != tc.wantAllow {
			t.Errorf("%s %s: got %d Allow %q, want %d Allow %q", tc.method, tc.path, r.status, r.header.Get("Allow"), tc.wantStatus, tc.wantAllow)
		}
	}
	base, _ := serve(t, sqliteStore(t), Options{AdminKey: testKey})
	for _, path := range []string{"/admin/v1/keys", "/admin/v1/tenants", "/admin/v1/teams", "/admin/v1/audit"} {
		if r := get(t, base, path); r.status != 404 {
			t.Errorf("GET %s without a store: %d, want 404", path, r.status)
		}
	}
}

// TestTeamAndTenantPolicy sets limits, budgets, models and regions on a
// tenant and a team, reads them back, and changes one by PATCH.
func TestTeamAndTenantPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		api := serveKeys(t, db, nil)
		ten := decodeOrg(t, api.call(t, testKey, "POST", "/admin/v1/tenants",
			`{"name":"acme","models":["mock/*"],"regions":["eu"],"rpm":600,"budget_usd":"100","budget_period":"monthly","budget_tz":"Europe/Berlin"}`), 201)
		want := PolicyObject{Models: []string{"mock/*"}, Regions: []string{"eu"}, RPM: 600, BudgetUSD: "100.000000",
			BudgetMicros: 100_000_000, BudgetPeriod: "monthly", BudgetTZ: "Europe/Berlin"}
		if diff := cmp.Diff(ten.PolicyObject, want); diff != "" {
			t.Errorf("tenant policy (-got +want):\n%s", diff)
		}
		team := decodeOrg(t, api.call(t, testKey, "POST", "/admin/v1/teams",
			`{"tenant_id":"`+ten.ID+`","name":"search","tpm":5000,"max_concurrent":3}`), 201)
		team = decodeOrg(t, api.call(t, testKey, "PATCH", "/admin/v1/teams/"+team.ID, `{"budget_usd":"2.5","budget_period":"daily"}`), 200)
		want = PolicyObject{Models: []string{}, Regions: []string{}, TPM: 5000, MaxConcurrent: 3, BudgetUSD: "2.500000",
			BudgetMicros: 2_500_000, BudgetPeriod: "daily"}
		if diff := cmp.Diff(team.PolicyObject, want); diff != "" {
			t.Errorf("team policy after PATCH (-got +want):\n%s", diff)
		}
		stored, err := db.GetTeam(context.Background(), team.ID)
		if err != nil || stored.TPM != 5000 || stored.BudgetMicros != 2_500_000 {
			t.Errorf("stored team %+v, %v", stored, err)
		}
		for _, body := range []string{`{"budget_period":"hourly"}`, `{"rpm":-1}`, `{"regions":[""]}`, `{"budget_tz":"Mars/Base"}`} {
			r := api.call(t, testKey, "PATCH", "/admin/v1/tenants/"+ten.ID, body)
			wantStatus(t, r, 400)
		}
	})
}
