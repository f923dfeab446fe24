package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTenantsSQLite(t *testing.T) { testTenants(t, openTest(t, sqliteConfig(t))) }

func TestTenantsPostgres(t *testing.T) { testTenants(t, openTest(t, postgresConfig(t))) }

// testTenants is the tenants-and-teams contract every driver must meet.
func testTenants(t *testing.T, db *DB) {
	runSuite(t, db, []suitePart{
		{"TenantRoundTrip", testTenantRoundTrip},
		{"TeamRoundTrip", testTeamRoundTrip},
		{"Conflicts", testTenantConflicts},
		{"NotFound", testTenantNotFound},
		{"BadRecords", testTenantBadRecords},
		{"DeleteWhileNamed", testDeleteWhileNamed},
	})
}

func testTenantRoundTrip(t *testing.T, db *DB) {
	ctx := context.Background()
	clk := useClock(db, t0)
	full := Tenant{ID: "ten_1", Name: "Acme", Metadata: map[string]string{"plan": "pro", "region": "eu"}, Disabled: true,
		Policy: Policy{Models: []string{"gpt-4o*"}, Regions: []string{"eu"}, RPM: 6000, TPM: 1_000_000, MaxConcurrent: 50,
			BudgetMicros: 1_000_000_000, BudgetPeriod: "monthly", BudgetTZ: "Europe/Berlin"}}
	if err := db.CreateTenant(ctx, &full); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if !full.CreatedAt.Equal(t0) || !full.UpdatedAt.Equal(t0) {
		t.Errorf("CreateTenant set CreatedAt %v, UpdatedAt %v, want both %v", full.CreatedAt, full.UpdatedAt, t0)
	}
	clk.set(at(time.Second))
	// Given times are ignored; the store's clock counts.
	minimal := Tenant{ID: "ten_0", Name: "Zed", CreatedAt: at(time.Hour)}
	if err := db.CreateTenant(ctx, &minimal); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	wantMinimal := Tenant{ID: "ten_0", Name: "Zed", CreatedAt: at(time.Second), UpdatedAt: at(time.Second)}
	if d := cmp.Diff(minimal, wantMinimal); d != "" {
		t.Errorf("CreateTenant result (-got +want):\n%s", d)
	}
	for _, want := range []Tenant{full, wantMinimal} {
		got, err := db.GetTenant(ctx, want.ID)
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
		if d := cmp.Diff(got, want); d != "" {
			t.Errorf("GetTenant(%s) (-got +want):\n%s", want.ID, d)
		}
	}
	list, err := db.ListTenants(ctx)
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	if d := cmp.Diff(list, []Tenant{full, wantMinimal}); d != "" {
		t.Errorf("ListTenants, by name (-got +want):\n%s", d)
	}

	clk.set(at(time.Minute))
	upd := Tenant{ID: "ten_1", Name: "Acme Corp", CreatedAt: at(time.Hour)} // metadata cleared, enabled
	if err := db.UpdateTenant(ctx, &upd); err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	want := Tenant{ID: "ten_1", Name: "Acme Corp", CreatedAt: t0, UpdatedAt: at(time.Minute)}
	if d := cmp.Diff(upd, want); d != "" {
		t.Errorf("UpdateTenant result (-got +want):\n%s", d)
	}
	got, err := db.GetTenant(ctx, "ten_1")
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("GetTenant after update (-got +want):\n%s", d)
	}
}

func testTeamRoundTrip(t *testing.T, db *DB) {
	ctx := context.Background()
	clk := useClock(db, t0)
	teams := []Team{
		{ID: "team_b", TenantID: "ten_1", Name: "Search", Metadata: map[string]string{"cost_center": "42"}, Disabled: true,
			Policy: Policy{Models: []string{"mock/*"}, Regions: []string{"us", "eu"}, RPM: 60, TPM: 6000, MaxConcurrent: 2,
				BudgetMicros: 5_000_000, BudgetPeriod: "daily"}},
		{ID: "team_a", TenantID: "ten_1", Name: "Ads"},
		{ID: "team_c", TenantID: "ten_2", Name: "Ads"}, // names are per tenant
		{ID: "team_d", Name: "Ops"},                    // the default tenant
	}
	for i := range teams {
		if err := db.CreateTeam(ctx, &teams[i]); err != nil {
			t.Fatalf("CreateTeam(%s): %v", teams[i].ID, err)
		}
		if !teams[i].CreatedAt.Equal(t0) || !teams[i].UpdatedAt.Equal(t0) {
			t.Errorf("CreateTeam set %v, %v, want %v", teams[i].CreatedAt, teams[i].UpdatedAt, t0)
		}
	}
	got, err := db.GetTeam(ctx, "team_b")
	if err != nil {
		t.Fatalf("GetTeam: %v", err)
	}
	if d := cmp.Diff(got, teams[0]); d != "" {
		t.Errorf("GetTeam (-got +want):\n%s", d)
	}
	for _, tc := range []struct {
		tenant string
		want   []Team
	}{
		{"ten_1", []Team{teams[1], teams[0]}},
		{"ten_2", []Team{teams[2]}},
		{"", []Team{teams[3]}},
		{"ten_none", nil},
		{"bad\xff", nil},
	} {
		list, err := db.ListTeams(ctx, tc.tenant)
		if err != nil {
			t.Fatalf("ListTeams(%q): %v", tc.tenant, err)
		}
		if d := cmp.Diff(list, tc.want); d != "" {
			t.Errorf("ListTeams(%q) (-got +want):\n%s", tc.tenant, d)
		}
	}

	clk.set(at(time.Minute))
	moved := Team{ID: "team_b", TenantID: "ten_2", Name: "Search", Metadata: map[string]string{"x": "y"}}
	if err := db.UpdateTeam(ctx, &moved); err != nil {
		t.Fatalf("UpdateTeam: %v", err)
	}
	want := Team{ID: "team_b", TenantID: "ten_2", Name: "Search", Metadata: map[string]string{"x": "y"}, CreatedAt: t0, UpdatedAt: at(time.Minute)}
	if d := cmp.Diff(moved, want); d != "" {
		t.Errorf("UpdateTeam result (-got +want):\n%s", d)
	}
	if got, err = db.GetTeam(ctx, "team_b"); err != nil {
		t.Fatalf("GetTeam: %v", err)
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("GetTeam after update (-got +want):\n%s", d)
	}
}

func testTenantConflicts(t *testing.T, db *DB) {
	ctx := context.Background()
	for _, tn := range []Tenant{{ID: "ten_1", Name: "Acme"}, {ID: "ten_2", Name: "Beta"}} {
		if err := db.CreateTenant(ctx, &tn); err != nil {
			t.Fatal(err)
		}
	}
	for _, tm := range []Team{{ID: "team_1", TenantID: "ten_1", Name: "Ads"}, {ID: "team_2", TenantID: "ten_1", Name: "Ops"}} {
		if err := db.CreateTeam(ctx, &tm); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"tenant ID taken", func() error { return db.CreateTenant(ctx, &Tenant{ID: "ten_1", Name: "Other"}) }},
		{"tenant name taken", func() error { return db.CreateTenant(ctx, &Tenant{ID: "ten_3", Name: "Acme"}) }},
		{"rename tenant to a taken name", func() error { return db.UpdateTenant(ctx, &Tenant{ID: "ten_2", Name: "Acme"}) }},
		{"team ID taken in another tenant", func() error { return db.CreateTeam(ctx, &Team{ID: "team_1", TenantID: "ten_2", Name: "New"}) }},
		{"team name taken in the tenant", func() error { return db.CreateTeam(ctx, &Team{ID: "team_3", TenantID: "ten_1", Name: "Ads"}) }},
		{"rename team to a taken name", func() error { return db.UpdateTeam(ctx, &Team{ID: "team_2", TenantID: "ten_1", Name: "Ads"}) }},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.do(), ErrConflict) })
	}
	// Nothing changed.
	if n := countRows(t, db, "tenants"); n != 2 {
		t.Errorf("%d tenants, want 2", n)
	}
	if tn, err := db.GetTenant(ctx, "ten_2"); err != nil || tn.Name != "Beta" {
		t.Errorf("GetTenant(ten_2) = %+v, %v; want it named Beta", tn, err)
	}
	if tm, err := db.GetTeam(ctx, "team_2"); err != nil || tm.Name != "Ops" {
		t.Errorf("GetTeam(team_2) = %+v, %v; want it named Ops", tm, err)
	}
	// The same name in another tenant is no conflict.
	if err := db.CreateTeam(ctx, &Team{ID: "team_3", TenantID: "ten_2", Name: "Ads"}); err != nil {
		t.Errorf("CreateTeam(same name, other tenant): %v", err)
	}
}

func testTenantNotFound(t *testing.T, db *DB) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"get tenant", func() error { _, err := db.GetTenant(ctx, "nope"); return err }},
		{"get tenant, invalid ID", func() error { _, err := db.GetTenant(ctx, "a\x00"); return err }},
		{"update tenant", func() error { return db.UpdateTenant(ctx, &Tenant{ID: "nope", Name: "x"}) }},
		{"delete tenant", func() error { return db.DeleteTenant(ctx, "nope") }},
		{"delete tenant, invalid ID", func() error { return db.DeleteTenant(ctx, "a\xff") }},
		{"get team", func() error { _, err := db.GetTeam(ctx, "nope"); return err }},
		{"update team", func() error { return db.UpdateTeam(ctx, &Team{ID: "nope", Name: "x"}) }},
		{"delete team", func() error { return db.DeleteTeam(ctx, "nope") }},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.do(), ErrNotFound) })
	}
}

func testTenantBadRecords(t *testing.T, db *DB) {
	ctx := context.Background()
	long := strings.Repeat("n", MaxEntityText+1)
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"tenant without ID", func() error { return db.CreateTenant(ctx, &Tenant{Name: "x"}) }},
		{"tenant without name", func() error { return db.CreateTenant(ctx, &Tenant{ID: "x"}) }},
		{"tenant name too long", func() error { return db.CreateTenant(ctx, &Tenant{ID: "x", Name: long}) }},
		{"tenant name invalid UTF-8", func() error { return db.CreateTenant(ctx, &Tenant{ID: "x", Name: "a\xff"}) }},
		{"tenant metadata with NUL", func() error {
			return db.CreateTenant(ctx, &Tenant{ID: "x", Name: "x", Metadata: map[string]string{"k": "a\x00"}})
		}},
		{"team without name", func() error { return db.CreateTeam(ctx, &Team{ID: "x"}) }},
		{"team tenant ID too long", func() error { return db.CreateTeam(ctx, &Team{ID: "x", Name: "x", TenantID: long}) }},
		{"team metadata key invalid", func() error {
			return db.CreateTeam(ctx, &Team{ID: "x", Name: "x", Metadata: map[string]string{"\xff": "v"}})
		}},
		{"tenant with a negative RPM", func() error {
			return db.CreateTenant(ctx, &Tenant{ID: "x", Name: "x", Policy: Policy{RPM: -1}})
		}},
		{"tenant with an unknown budget period", func() error {
			return db.CreateTenant(ctx, &Tenant{ID: "x", Name: "x", Policy: Policy{BudgetPeriod: "hourly"}})
		}},
		{"team with a region with NUL", func() error {
			return db.CreateTeam(ctx, &Team{ID: "x", Name: "x", Policy: Policy{Regions: []string{"e\x00u"}}})
		}},
		{"update team with a negative budget", func() error {
			return db.UpdateTeam(ctx, &Team{ID: "x", Name: "x", Policy: Policy{BudgetMicros: -5}})
		}},
		{"update tenant without name", func() error { return db.UpdateTenant(ctx, &Tenant{ID: "x"}) }},
		{"update team without ID", func() error { return db.UpdateTeam(ctx, &Team{Name: "x"}) }},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.do(), ErrBadRecord) })
	}
	if n := countRows(t, db, "tenants") + countRows(t, db, "teams"); n != 0 {
		t.Errorf("%d rows written, want none", n)
	}
}

func testDeleteWhileNamed(t *testing.T, db *DB) {
	ctx := context.Background()
	if err := db.CreateTenant(ctx, &Tenant{ID: "ten_1", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTeam(ctx, &Team{ID: "team_1", TenantID: "ten_1", Name: "Ads"}); err != nil {
		t.Fatal(err)
	}
	key := testKey("key_1", 1)
	key.TeamID = "team_1" // a key of the default tenant in team_1
	if err := db.CreateKey(ctx, &key); err != nil {
		t.Fatal(err)
	}
	key2 := testKey("key_2", 2)
	key2.TenantID = "ten_1"
	if err := db.CreateKey(ctx, &key2); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"tenant with a team and a key", func() error { return db.DeleteTenant(ctx, "ten_1") }, ErrConflict},
		{"team with a key", func() error { return db.DeleteTeam(ctx, "team_1") }, ErrConflict},
		{"the team's key", func() error { return db.DeleteKey(ctx, "key_1") }, nil},
		{"team without keys", func() error { return db.DeleteTeam(ctx, "team_1") }, nil},
		{"tenant with a key", func() error { return db.DeleteTenant(ctx, "ten_1") }, ErrConflict},
		{"the tenant's key", func() error { return db.DeleteKey(ctx, "key_2") }, nil},
		{"tenant without teams or keys", func() error { return db.DeleteTenant(ctx, "ten_1") }, nil},
		{"tenant again", func() error { return db.DeleteTenant(ctx, "ten_1") }, ErrNotFound},
	}
	for _, s := range steps { // in order: each step depends on the ones before
		wantErr(t, "delete "+s.name, s.do(), s.want)
	}
	if n := countRows(t, db, "tenants") + countRows(t, db, "teams"); n != 0 {
		t.Errorf("%d tenants and teams left, want none", n)
	}
}
