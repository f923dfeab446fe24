package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sluicehq/sluice/internal/store"
)

// TestMemberReadsOnlyItsTeamsLogs gives a member of team "a" in tenant
// "t1" the fixture records (teams a and b across tenants t1 and t2).
func TestMemberReadsOnlyItsTeamsLogs(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		if err := db.InsertLogs(context.Background(), fixtureRecords()); err != nil {
			t.Fatal(err)
		}
		api := serveKeys(t, db, nil)
		member, _ := mint(t, db, store.Key{Role: "member", TenantID: "t1", TeamID: "a"})
		tenantAdmin, _ := mint(t, db, store.Key{Role: "admin", TenantID: "t2"})
		tests := []struct {
			name       string
			token      string
			path       string
			wantStatus int
			wantIDs    []string // for lists
		}{
			{name: "member lists its team in its tenant", token: member, path: "/admin/v1/logs",
				wantStatus: 200, wantIDs: []string{"r06", "r05", "r01", "r00", "r07"}},
			{name: "member filters within its team", token: member, path: "/admin/v1/logs?key_id=k1",
				wantStatus: 200, wantIDs: []string{"r05", "r01", "r07"}},
			{name: "member names its own team", token: member, path: "/admin/v1/logs?team_id=a",
				wantStatus: 200, wantIDs: []string{"r06", "r05", "r01", "r00", "r07"}},
			{name: "member asks for another team", token: member, path: "/admin/v1/logs?team_id=b", wantStatus: 403},
			{name: "member asks for another tenant", token: member, path: "/admin/v1/logs?tenant_id=t2", wantStatus: 403},
			{name: "member reads its team's record", token: member, path: "/admin/v1/logs/r01", wantStatus: 200},
			{name: "member reads another team's record", token: member, path: "/admin/v1/logs/r02", wantStatus: 404},
			{name: "member reads its team's record in another tenant", token: member, path: "/admin/v1/logs/r03", wantStatus: 404},
			{name: "tenant admin lists its tenant", token: tenantAdmin, path: "/admin/v1/logs",
				wantStatus: 200, wantIDs: []string{"r04", "r03"}},
			{name: "tenant admin reads another tenant's record", token: tenantAdmin, path: "/admin/v1/logs/r01", wantStatus: 404},
			{name: "owner sees everything", token: testKey, path: "/admin/v1/logs",
				wantStatus: 200, wantIDs: []string{"r06", "r05", "r04", "r03", "r02", "r01", "r00", "r07"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := api.call(t, tc.token, "GET", tc.path, "")
				if r.status != tc.wantStatus {
					t.Fatalf("got %d %s, want %d", r.status, r.body, tc.wantStatus)
				}
				if r.status == 404 {
					if e := decodeError(t, r); e.Error.Message != "no such log record" {
						t.Errorf("404 message %q differs from a missing record's", e.Error.Message)
					}
				}
				if tc.wantIDs == nil {
					return
				}
				var l struct {
					Data []struct {
						ID string `json:"id"`
					} `json:"data"`
				}
				if err := json.Unmarshal(r.body, &l); err != nil {
					t.Fatal(err)
				}
				got := []string{}
				for _, d := range l.Data {
					got = append(got, d.ID)
				}
				if diff := cmp.Diff(got, tc.wantIDs); diff != "" {
					t.Errorf("ids (-got +want):\n%s", diff)
				}
			})
		}
	})
}

// TestMemberUsageIsItsTeams compares a member's usage totals with the
// owner's for the member's team.
func TestMemberUsageIsItsTeams(t *testing.T) {
	db := sqliteStore(t)
	if err := db.InsertLogs(context.Background(), fixtureRecords()); err != nil {
		t.Fatal(err)
	}
	api := serveKeys(t, db, nil)
	member, _ := mint(t, db, store.Key{Role: "member", TenantID: "t1", TeamID: "a"})
	const q = "/admin/v1/usage?from=2026-03-01T09:00:00Z&to=2026-03-01T12:00:00Z&group_by=team"
	type report struct {
		Totals struct {
			Requests int64 `json:"requests"`
		} `json:"totals"`
		Groups []struct {
			Key string `json:"key"`
		} `json:"groups"`
	}
	var got, want report
	r := api.call(t, member, "GET", q, "")
	wantStatus(t, r, http.StatusOK)
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	r = api.call(t, testKey, "GET", q+"&team_id=a&tenant_id=t1", "")
	wantStatus(t, r, http.StatusOK)
	if err := json.Unmarshal(r.body, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("member usage (-got +want):\n%s", diff)
	}
	// r00, r01, r05, r06 are team a in t1 within the range.
	if got.Totals.Requests != 4 || len(got.Groups) != 1 || got.Groups[0].Key != "a" {
		t.Errorf("member usage %+v, want 4 requests of team a only", got)
	}
}
