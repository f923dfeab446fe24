package admin

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sluicehq/sluice/internal/store"
)

// eventView is an event of GET /events, without its id.
type eventView struct {
	Time     string            `json:"time"`
	Kind     string            `json:"kind"`
	Severity string            `json:"severity"`
	Subject  string            `json:"subject"`
	Message  string            `json:"message"`
	Detail   map[string]string `json:"detail"`
}

// readEvents fetches one page of GET /events?query as token.
func readEvents(t *testing.T, api *keyAPI, token, query string) ([]eventView, *string) {
	t.Helper()
	r := api.call(t, token, "GET", "/admin/v1/events?"+query, "")
	wantStatus(t, r, http.StatusOK)
	var l struct {
		Object string `json:"object"`
		Data   []struct {
			ID int64 `json:"id"`
			eventView
		} `json:"data"`
		NextCursor *string `json:"next_cursor"`
		HasMore    bool    `json:"has_more"`
	}
	decodeStrict(t, r.body, &l)
	if l.Object != "list" || l.HasMore != (l.NextCursor != nil) {
		t.Fatalf("bad envelope: %s", r.body)
	}
	out := []eventView{}
	for _, d := range l.Data {
		if d.ID <= 0 {
			t.Errorf("event id %d", d.ID)
		}
		out = append(out, d.eventView)
	}
	return out, l.NextCursor
}

func subjects(es []eventView) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Subject
	}
	return out
}

func TestEventsEndpoint(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		orgFixture(t, db)
		api := serveKeys(t, db, nil)
		ctx := context.Background()
		_, appA := mint(t, db, store.Key{Name: "app-a", TenantID: "t1", TeamID: "ta"})
		_, appB := mint(t, db, store.Key{Name: "app-b", TenantID: "t2", TeamID: "tb"})
		_, loose := mint(t, db, store.Key{Name: "loose", TenantID: "t1"})
		member, _ := mint(t, db, store.Key{Name: "m", Role: "member", TenantID: "t1", TeamID: "ta"})
		t1admin, _ := mint(t, db, store.Key{Name: "ta1", Role: "admin", TenantID: "t1"})
		viewer, _ := mint(t, db, store.Key{Name: "v", Role: "viewer"})
		gatewayKey, _ := mint(t, db, store.Key{Name: "g"})
		at := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
		for i, e := range []store.Event{
			{Kind: "traffic.spike", Subject: "key:" + appA.ID, Message: "spike a", Detail: map[string]string{"requests": "400"}},
			{Kind: "traffic.spike", Subject: "key:" + appB.ID, Message: "spike b"},
			{Kind: "traffic.spike", Subject: "ip:203.0.113.9", Message: "spike ip"},
			{Kind: "budget.soft_limit", Severity: "info", Subject: "team:ta", Message: "team a at 80%"},
			{Kind: "budget.exceeded", Severity: "critical", Subject: "tenant:t1", Message: "tenant one over"},
			{Kind: "credential.disabled", Subject: "credential:c1", Message: "provider key disabled"},
			{Kind: "budget.exceeded", Subject: "key:" + loose.ID, Message: "loose over"},
		} {
			e.Time = at.Add(time.Duration(i) * time.Minute)
			if _, err := db.InsertEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		all := []string{"key:" + loose.ID, "credential:c1", "tenant:t1", "team:ta", "ip:203.0.113.9", "key:" + appB.ID, "key:" + appA.ID}

		got, next := readEvents(t, api, testKey, "")
		if d := cmp.Diff(subjects(got), all); d != "" || next != nil {
			t.Errorf("owner sees (-got +want):\n%s", d)
		}
		want := eventView{Time: "2026-02-03T04:05:06Z", Kind: "traffic.spike", Severity: "warning",
			Subject: "key:" + appA.ID, Message: "spike a", Detail: map[string]string{"requests": "400"}}
		if d := cmp.Diff(got[len(got)-1], want); d != "" {
			t.Errorf("event object (-got +want):\n%s", d)
		}
		if got[0].Detail == nil {
			t.Error("an event without detail must show detail {}")
		}

		for _, tc := range []struct {
			name, token, query string
			want               []string
		}{
			{"viewer sees everything", viewer, "", all},
			{"kind filter", testKey, "kind=traffic.spike", []string{"ip:203.0.113.9", "key:" + appB.ID, "key:" + appA.ID}},
			{"subject filter", testKey, "subject=team:ta", []string{"team:ta"}},
			{"time range", testKey, "from=2026-02-03T04:06:06Z&to=2026-02-03T04:08:06Z", []string{"ip:203.0.113.9", "key:" + appB.ID}},
			{"member: its team's keys and team", member, "", []string{"team:ta", "key:" + appA.ID}},
			{"member filtering another team's subject", member, "subject=key:" + appB.ID, []string{}},
			{"tenant admin: its tenant, teams and keys", t1admin, "", []string{"key:" + loose.ID, "tenant:t1", "team:ta", "key:" + appA.ID}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, _ := readEvents(t, api, tc.token, tc.query)
				if d := cmp.Diff(subjects(got), tc.want, cmpopts.EquateEmpty()); d != "" {
					t.Errorf("(-got +want):\n%s", d)
				}
			})
		}

		// Pagination: two at a time until the end.
		var paged []string
		q := "limit=2"
		for range 10 {
			page, next := readEvents(t, api, testKey, q)
			paged = append(paged, subjects(page)...)
			if next == nil {
				break
			}
			q = "limit=2&cursor=" + url.QueryEscape(*next)
		}
		if d := cmp.Diff(paged, all); d != "" {
			t.Errorf("pages (-got +want):\n%s", d)
		}

		for _, tc := range []struct {
			name, token, query string
			status             int
		}{
			{"no token", "", "", http.StatusUnauthorized},
			{"a gateway key", gatewayKey, "", http.StatusUnauthorized},
			{"unknown parameter", testKey, "severity=warning", http.StatusBadRequest},
			{"bad limit", testKey, "limit=0", http.StatusBadRequest},
			{"bad cursor", testKey, "cursor=nope", http.StatusBadRequest},
			{"to before from", testKey, "from=2026-02-03T00:00:00Z&to=2026-02-02T00:00:00Z", http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := api.call(t, tc.token, "GET", "/admin/v1/events?"+tc.query, "")
				if r.status != tc.status {
					t.Errorf("status %d, want %d: %s", r.status, tc.status, r.body)
				}
			})
		}
	})
}
