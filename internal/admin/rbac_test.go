package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/store"
)

// rbacWorld is a store with tenants t1 (team ta) and t2 (team tb), one
// admin key per role, and helpers that make fresh objects to act on.
type rbacWorld struct {
	api    *keyAPI
	tokens map[string]string // caller name → secret
	n      int
}

// The callers of the RBAC table.
const (
	asOwner     = "owner"
	asAdmin     = "admin"
	asMember    = "member"
	asViewer    = "viewer"
	asT2Admin   = "t2-admin"    // an admin key of tenant t2
	asTeamless  = "teamless"    // a member key without a team
	asGateway   = "gateway"     // a key without a role
	asBootstrap = "bootstrap"   // SLUICE_ADMIN_KEY
	asNobody    = "no-token"    // no Authorization header
	asWrong     = "wrong-token" // a token that is no key
)

var rbacCallers = []string{asOwner, asAdmin, asMember, asViewer, asT2Admin, asTeamless, asGateway, asBootstrap, asNobody, asWrong}

func newRBACWorld(t *testing.T) *rbacWorld {
	db := sqliteStore(t)
	orgFixture(t, db)
	w := &rbacWorld{api: serveKeys(t, db, nil), tokens: map[string]string{asBootstrap: testKey, asWrong: "sk-sluice-nope"}}
	for name, k := range map[string]store.Key{
		asOwner:    {Name: "o", Role: "owner"},
		asAdmin:    {Name: "a", Role: "admin"},
		asMember:   {Name: "m", Role: "member", TenantID: "t1", TeamID: "ta"},
		asViewer:   {Name: "v", Role: "viewer"},
		asT2Admin:  {Name: "t2a", Role: "admin", TenantID: "t2"},
		asTeamless: {Name: "tl", Role: "member", TenantID: "t1"},
		asGateway:  {Name: "g", TenantID: "t1", TeamID: "ta"},
	} {
		w.tokens[name], _ = mint(t, db, k)
	}
	return w
}

// key makes a key and returns its ID.
func (w *rbacWorld) key(t *testing.T, k store.Key) string {
	_, k = mint(t, w.api.db, k)
	return k.ID
}

// fresh returns a name no object has yet.
func (w *rbacWorld) fresh(prefix string) string {
	w.n++
	return fmt.Sprintf("%s%d", prefix, w.n)
}

// rbacCase is one endpoint call; setup makes what it acts on and returns
// the path (relative to /admin/v1) and body.
type rbacCase struct {
	name  string
	setup func(t *testing.T, w *rbacWorld) (method, path, body string)
	// want is the status per caller; callers left out get 401 (the
	// unauthenticated ones).
	want map[string]int
}

func fixed(method, path, body string) func(*testing.T, *rbacWorld) (string, string, string) {
	return func(*testing.T, *rbacWorld) (string, string, string) { return method, path, body }
}

func onKey(method, suffix, body string, k store.Key) func(*testing.T, *rbacWorld) (string, string, string) {
	return func(t *testing.T, w *rbacWorld) (string, string, string) {
		return method, "/keys/" + w.key(t, k) + suffix, body
	}
}

// onTeam and onTenant make a fresh team or tenant; FRESH in body becomes
// a name no object has.
func onTeam(method, tenant, body string) func(*testing.T, *rbacWorld) (string, string, string) {
	return func(t *testing.T, w *rbacWorld) (string, string, string) {
		tm := store.Team{ID: w.fresh("team"), TenantID: tenant, Name: w.fresh("n")}
		if err := w.api.db.CreateTeam(context.Background(), &tm); err != nil {
			t.Fatal(err)
		}
		return method, "/teams/" + tm.ID, strings.ReplaceAll(body, "FRESH", w.fresh("n"))
	}
}

func onTenant(method, body string) func(*testing.T, *rbacWorld) (string, string, string) {
	return func(t *testing.T, w *rbacWorld) (string, string, string) {
		tn := store.Tenant{ID: w.fresh("ten"), Name: w.fresh("n")}
		if err := w.api.db.CreateTenant(context.Background(), &tn); err != nil {
			t.Fatal(err)
		}
		return method, "/tenants/" + tn.ID, strings.ReplaceAll(body, "FRESH", w.fresh("n"))
	}
}

var (
	teamAKey  = store.Key{TenantID: "t1", TeamID: "ta"}
	teamBKey  = store.Key{TenantID: "t2", TeamID: "tb"}
	ownerKey  = store.Key{Role: "owner"}
	memberKey = store.Key{Role: "member", TenantID: "t1", TeamID: "ta"}
)

// all is the status for every authenticated role but the ones given.
func all(status int, except map[string]int) map[string]int {
	m := map[string]int{asOwner: status, asAdmin: status, asMember: status, asViewer: status,
		asT2Admin: status, asTeamless: status, asBootstrap: status}
	for k, v := range except {
		m[k] = v
	}
	return m
}

var rbacCases = []rbacCase{
	{name: "GET logs", setup: fixed("GET", "/logs", ""), want: all(200, map[string]int{asTeamless: 403})},
	{name: "GET usage", setup: fixed("GET", "/usage", ""), want: all(200, map[string]int{asTeamless: 403})},
	{name: "GET logs of team tb", setup: fixed("GET", "/logs?team_id=tb", ""), want: all(200, map[string]int{asMember: 403, asTeamless: 403})},
	{name: "GET logs of tenant t1", setup: fixed("GET", "/logs?tenant_id=t1", ""), want: all(200, map[string]int{asT2Admin: 403, asTeamless: 403})},
	{name: "GET keys", setup: fixed("GET", "/keys", ""), want: all(200, map[string]int{asTeamless: 403})},
	{name: "GET team ta key", setup: onKey("GET", "", "", teamAKey), want: all(200, map[string]int{asT2Admin: 404, asTeamless: 403})},
	{name: "GET team tb key", setup: onKey("GET", "", "", teamBKey), want: all(200, map[string]int{asMember: 404, asTeamless: 403})},
	// Another tenant's team is hidden from a tenant's admin: "no team".
	{name: "POST key in ta", setup: fixed("POST", "/keys", `{"team_id":"ta"}`),
		want: all(201, map[string]int{asViewer: 403, asT2Admin: 400, asTeamless: 403})},
	{name: "POST key in tb", setup: fixed("POST", "/keys", `{"team_id":"tb"}`),
		want: all(201, map[string]int{asMember: 403, asViewer: 403, asTeamless: 403})},
	{name: "POST key without team", setup: fixed("POST", "/keys", `{}`),
		want: all(201, map[string]int{asViewer: 403, asTeamless: 403})},
	{name: "POST member key", setup: fixed("POST", "/keys", `{"role":"member"}`),
		want: all(201, map[string]int{asViewer: 403, asTeamless: 403})},
	{name: "POST admin key", setup: fixed("POST", "/keys", `{"role":"admin"}`),
		want: all(201, map[string]int{asMember: 403, asViewer: 403, asTeamless: 403})},
	{name: "POST owner key", setup: fixed("POST", "/keys", `{"role":"owner"}`),
		want: all(403, map[string]int{asOwner: 201, asBootstrap: 201})},
	{name: "PATCH team ta key", setup: onKey("PATCH", "", `{"name":"x"}`, teamAKey),
		want: all(200, map[string]int{asViewer: 403, asT2Admin: 404, asTeamless: 403})},
	{name: "PATCH team tb key", setup: onKey("PATCH", "", `{"name":"x"}`, teamBKey),
		want: all(200, map[string]int{asMember: 404, asViewer: 403, asTeamless: 403})},
	{name: "PATCH team ta key into tb", setup: onKey("PATCH", "", `{"team_id":"tb"}`, teamAKey),
		want: all(200, map[string]int{asMember: 403, asViewer: 403, asT2Admin: 404, asTeamless: 403})},
	{name: "PATCH member key to admin", setup: onKey("PATCH", "", `{"role":"admin"}`, memberKey),
		want: all(200, map[string]int{asMember: 403, asViewer: 403, asT2Admin: 404, asTeamless: 403})},
	{name: "PATCH owner key", setup: onKey("PATCH", "", `{"name":"x"}`, ownerKey),
		want: all(403, map[string]int{asOwner: 200, asBootstrap: 200, asMember: 404, asT2Admin: 404})},
	{name: "rotate team ta key", setup: onKey("POST", "/rotate", ``, teamAKey),
		want: all(200, map[string]int{asViewer: 403, asT2Admin: 404, asTeamless: 403})},
	{name: "rotate owner key", setup: onKey("POST", "/rotate", ``, ownerKey),
		want: all(403, map[string]int{asOwner: 200, asBootstrap: 200, asMember: 404, asT2Admin: 404})},
	{name: "DELETE team ta key", setup: onKey("DELETE", "", ``, teamAKey),
		want: all(204, map[string]int{asViewer: 403, asT2Admin: 404, asTeamless: 403})},
	{name: "DELETE team tb key", setup: onKey("DELETE", "", ``, teamBKey),
		want: all(204, map[string]int{asMember: 404, asViewer: 403, asTeamless: 403})},
	{name: "GET tenants", setup: fixed("GET", "/tenants", ""), want: all(200, map[string]int{asMember: 403, asTeamless: 403})},
	{name: "GET tenant t1", setup: fixed("GET", "/tenants/t1", ""), want: all(200, map[string]int{asMember: 403, asTeamless: 403, asT2Admin: 404})},
	{name: "POST tenant", setup: func(_ *testing.T, w *rbacWorld) (string, string, string) {
		return "POST", "/tenants", `{"name":"` + w.fresh("n") + `"}`
	}, want: all(403, map[string]int{asOwner: 201, asBootstrap: 201})},
	{name: "PATCH tenant", setup: onTenant("PATCH", `{"name":"FRESH"}`), want: all(403, map[string]int{asOwner: 200, asBootstrap: 200})},
	{name: "DELETE tenant", setup: onTenant("DELETE", ``), want: all(403, map[string]int{asOwner: 204, asBootstrap: 204})},
	{name: "GET teams", setup: fixed("GET", "/teams", ""), want: all(200, map[string]int{asMember: 403, asTeamless: 403})},
	{name: "GET team ta", setup: fixed("GET", "/teams/ta", ""), want: all(200, map[string]int{asMember: 403, asTeamless: 403, asT2Admin: 404})},
	{name: "POST team", setup: func(_ *testing.T, w *rbacWorld) (string, string, string) {
		return "POST", "/teams", `{"name":"` + w.fresh("n") + `"}`
	}, want: all(201, map[string]int{asMember: 403, asViewer: 403, asTeamless: 403})},
	{name: "POST team in t1", setup: func(_ *testing.T, w *rbacWorld) (string, string, string) {
		return "POST", "/teams", `{"tenant_id":"t1","name":"` + w.fresh("n") + `"}`
	}, want: all(201, map[string]int{asMember: 403, asViewer: 403, asTeamless: 403, asT2Admin: 403})},
	{name: "PATCH team of t1", setup: onTeam("PATCH", "t1", `{"name":"FRESH"}`),
		want: all(200, map[string]int{asMember: 403, asViewer: 403, asTeamless: 403, asT2Admin: 404})},
	{name: "DELETE team of t2", setup: onTeam("DELETE", "t2", ``),
		want: all(204, map[string]int{asMember: 403, asViewer: 403, asTeamless: 403})},
	{name: "GET audit", setup: fixed("GET", "/audit", ""),
		want: all(200, map[string]int{asMember: 403, asViewer: 403, asTeamless: 403, asT2Admin: 403})},
}

// TestRBAC calls every endpoint as every caller, each on objects made
// fresh for the call.
func TestRBAC(t *testing.T) {
	w := newRBACWorld(t)
	for _, tc := range rbacCases {
		for _, caller := range rbacCallers {
			t.Run(tc.name+"/"+caller, func(t *testing.T) {
				want, ok := tc.want[caller]
				if !ok {
					want = http.StatusUnauthorized
				}
				method, path, body := tc.setup(t, w)
				r := w.api.call(t, w.tokens[caller], method, "/admin/v1"+path, body)
				if r.status != want {
					t.Fatalf("%s %s as %s: got %d %s, want %d", method, path, caller, r.status, r.body, want)
				}
				switch want {
				case 401, 403:
					e := decodeError(t, r)
					wantCode := map[int]string{401: "invalid_api_key", 403: "permission_denied"}[want]
					if deref(e.Error.Code) != wantCode {
						t.Errorf("code %q, want %q", deref(e.Error.Code), wantCode)
					}
					if want == 401 && e.Error.Message != "invalid admin token" && !strings.HasPrefix(e.Error.Message, "missing admin token") {
						t.Errorf("401 message %q is not the generic one", e.Error.Message)
					}
				}
			})
		}
	}
}

// TestMemberCreateIsForcedIntoItsTeam checks what a member's key lands in.
func TestMemberCreateIsForcedIntoItsTeam(t *testing.T) {
	w := newRBACWorld(t)
	k := w.api.createKey(t, w.tokens[asMember], `{"name":"mine"}`)
	if k.TenantID != "t1" || k.TeamID != "ta" {
		t.Errorf("member's new key in tenant %q team %q, want t1 ta", k.TenantID, k.TeamID)
	}
	k = w.api.createKey(t, w.tokens[asT2Admin], `{}`)
	if k.TenantID != "t2" || k.TeamID != "" {
		t.Errorf("t2 admin's new key in tenant %q team %q, want t2 and none", k.TenantID, k.TeamID)
	}
}

// TestMemberListsOnlyItsTeam lists keys as a member and a t2 admin.
func TestMemberListsOnlyItsTeam(t *testing.T) {
	w := newRBACWorld(t)
	a := w.key(t, teamAKey)
	b := w.key(t, teamBKey)
	for _, tc := range []struct {
		caller  string
		want    []string
		notWant []string
	}{
		{caller: asMember, want: []string{a}, notWant: []string{b}},
		{caller: asT2Admin, want: []string{b}, notWant: []string{a}},
		{caller: asViewer, want: []string{a, b}},
	} {
		r := w.api.call(t, w.tokens[tc.caller], "GET", "/admin/v1/keys?limit=1000", "")
		wantStatus(t, r, http.StatusOK)
		for _, id := range tc.want {
			if !strings.Contains(string(r.body), id) {
				t.Errorf("%s does not see %s", tc.caller, id)
			}
		}
		for _, id := range tc.notWant {
			if strings.Contains(string(r.body), id) {
				t.Errorf("%s sees %s", tc.caller, id)
			}
		}
	}
}
