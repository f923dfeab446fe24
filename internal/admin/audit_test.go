package admin

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/store"
)

// auditView is an entry of GET /audit, without its id.
type auditView struct {
	Time       string            `json:"time"`
	Actor      string            `json:"actor"`
	ActorKeyID string            `json:"actor_key_id"`
	Action     string            `json:"action"`
	Target     string            `json:"target"`
	ClientIP   string            `json:"client_ip"`
	Detail     map[string]string `json:"detail"`
}

// readAudit fetches one page of GET /audit?query as the bootstrap key.
func readAudit(t *testing.T, api *keyAPI, query string) ([]auditView, *string) {
	t.Helper()
	r := api.call(t, testKey, "GET", "/admin/v1/audit?"+query, "")
	wantStatus(t, r, http.StatusOK)
	var l struct {
		Object string `json:"object"`
		Data   []struct {
			ID int64 `json:"id"`
			auditView
		} `json:"data"`
		NextCursor *string `json:"next_cursor"`
		HasMore    bool    `json:"has_more"`
	}
	decodeStrict(t, r.body, &l)
	if l.Object != "list" || l.HasMore != (l.NextCursor != nil) {
		t.Fatalf("bad envelope: %s", r.body)
	}
	out := []auditView{}
	for _, d := range l.Data {
		if d.ID <= 0 {
			t.Errorf("entry id %d", d.ID)
		}
		out = append(out, d.auditView)
	}
	return out, l.NextCursor
}

func TestAuditTrail(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		orgFixture(t, db)
		clock := testNow
		api := serveKeys(t, db, func() time.Time { return clock })
		viewer, viewerKey := mint(t, db, store.Key{Name: "eve", Role: "viewer"})

		k := api.createKey(t, testKey, `{"name":"svc","team_id":"ta","metadata":{"secret-ish":"value-never-logged"}}`)
		clock = clock.Add(time.Minute)
		wantStatus(t, api.call(t, testKey, "POST", "/admin/v1/keys/"+k.ID+"/rotate", `{"grace_seconds":60}`), 200)
		clock = clock.Add(time.Minute)
		wantStatus(t, api.call(t, viewer, "PATCH", "/admin/v1/keys/"+k.ID, `{"name":"x"}`), 403)
		clock = clock.Add(time.Minute)
		wantStatus(t, api.call(t, "sk-sluice-not-a-key", "DELETE", "/admin/v1/keys/"+k.ID, ""), 401)
		clock = clock.Add(time.Minute)
		wantStatus(t, api.call(t, testKey, "GET", "/admin/v1/keys/"+k.ID, ""), 200) // reads are not audited
		wantStatus(t, api.call(t, testKey, "PATCH", "/admin/v1/teams/ta", `{"name":"renamed","metadata":{}}`), 200)
		clock = clock.Add(time.Minute)
		wantStatus(t, api.call(t, testKey, "DELETE", "/admin/v1/keys/"+k.ID, ""), 204)

		at := func(m int) string { return testNow.Add(time.Duration(m) * time.Minute).Format(time.RFC3339) }
		ok := func(kv ...string) map[string]string {
			m := map[string]string{"result": "ok"}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
		want := []auditView{
			{Time: at(5), Actor: "bootstrap", Action: "key.revoke", Target: k.ID, ClientIP: "127.0.0.1", Detail: ok()},
			{Time: at(4), Actor: "bootstrap", Action: "team.update", Target: "ta", ClientIP: "127.0.0.1", Detail: ok("fields", "metadata,name")},
			{Time: at(3), Action: "key.revoke", Target: k.ID, ClientIP: "127.0.0.1", Detail: map[string]string{"result": "denied", "status": "401"}},
			{Time: at(2), Actor: "eve", ActorKeyID: viewerKey.ID, Action: "key.update", Target: k.ID, ClientIP: "127.0.0.1",
				Detail: map[string]string{"result": "denied", "status": "403"}},
			{Time: at(1), Actor: "bootstrap", Action: "key.rotate", Target: k.ID, ClientIP: "127.0.0.1", Detail: ok("grace_seconds", "60")},
			{Time: at(0), Actor: "bootstrap", Action: "key.create", Target: k.ID, ClientIP: "127.0.0.1", Detail: ok("fields", "metadata,name,team_id")},
		}
		got, next := readAudit(t, api, "")
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("audit trail (-got +want):\n%s", diff)
		}
		if next != nil {
			t.Errorf("next_cursor on the only page")
		}
		raw := api.call(t, testKey, "GET", "/admin/v1/audit", "").body
		if strings.Contains(string(raw), k.Key) || strings.Contains(string(raw), "value-never-logged") {
			t.Errorf("the audit trail holds a secret or a field's value: %s", raw)
		}

		filters := []struct {
			name  string
			query string
			want  []auditView
		}{
			{name: "action", query: "action=key.revoke", want: []auditView{want[0], want[2]}},
			{name: "target", query: "target=ta", want: []auditView{want[1]}},
			{name: "actor", query: "actor=eve", want: []auditView{want[3]}},
			{name: "range", query: "from=" + url.QueryEscape(at(1)) + "&to=" + url.QueryEscape(at(3)), want: []auditView{want[3], want[4]}},
		}
		for _, f := range filters {
			t.Run(f.name, func(t *testing.T) {
				got, _ := readAudit(t, api, f.query)
				if diff := cmp.Diff(got, f.want); diff != "" {
					t.Errorf("(-got +want):\n%s", diff)
				}
			})
		}

		t.Run("pages", func(t *testing.T) {
			var all []auditView
			q := "limit=4"
			for range 5 {
				page, next := readAudit(t, api, q)
				all = append(all, page...)
				if next == nil {
					break
				}
				q = "limit=4&cursor=" + url.QueryEscape(*next)
			}
			if diff := cmp.Diff(all, want); diff != "" {
				t.Errorf("paged trail (-got +want):\n%s", diff)
			}
		})
	})
}

func TestAuditQueryRefusals(t *testing.T) {
	api := serveKeys(t, sqliteStore(t), nil)
	for _, tc := range []struct{ query, wantParam, wantCode string }{
		{"from=yesterday", "from", ""},
		{"from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from", ""},
		{"limit=0", "limit", ""},
		{"actr=x", "actr", ""},
		{"cursor=%21%21", "cursor", "invalid_cursor"},
	} {
		r := api.call(t, testKey, "GET", "/admin/v1/audit?"+tc.query, "")
		e := decodeError(t, r)
		if r.status != 400 || deref(e.Error.Param) != tc.wantParam || deref(e.Error.Code) != tc.wantCode {
			t.Errorf("%s: got %d %s, want 400 naming %s", tc.query, r.status, r.body, tc.wantParam)
		}
	}
}

// TestAuditEntryJSON pins the entry's members and their order.
func TestAuditEntryJSON(t *testing.T) {
	e := store.AuditEntry{ID: 7, Time: testNow, Actor: "a", ActorKeyID: "key_x", Action: "key.create",
		Target: "key_y", ClientIP: "::1", Detail: map[string]string{"z": "1", "a": "\"q\""}}
	got := string(appendAuditEntry(nil, &e))
	want := `{"id":7,"time":"2026-03-01T12:00:00Z","actor":"a","actor_key_id":"key_x","action":"key.create",` +
		`"target":"key_y","client_ip":"::1","detail":{"a":"\"q\"","z":"1"}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Errorf("invalid JSON")
	}
}
