package auth

import "testing"

func TestAllowsModelTeamAndTenant(t *testing.T) {
	p := &Principal{Models: []string{"gpt-*", "claude-*"}, Team: Limits{Models: []string{"gpt-*"}},
		Tenant: Limits{Models: []string{"*-mini", "gpt-4o"}}}
	for model, want := range map[string]bool{
		"gpt-4o-mini": true,  // all three
		"gpt-4o":      true,  // tenant names it exactly
		"gpt-5":       false, // tenant refuses
		"claude-mini": false, // team refuses
		"o3-mini":     false, // key refuses
	} {
		if got := p.AllowsModel(model); got != want {
			t.Errorf("AllowsModel(%q) = %v, want %v", model, got, want)
		}
	}
	open := &Principal{Tenant: Limits{Models: []string{"mock/*"}}}
	if !open.AllowsModel("mock/echo") || open.AllowsModel("openai/gpt-4o") {
		t.Error("a tenant list alone must still restrict a key without its own")
	}
}

func TestAllowsRegion(t *testing.T) {
	var anon *Principal
	if !anon.AllowsRegion("us") || anon.Pinned() {
		t.Error("an anonymous caller is not pinned")
	}
	free := &Principal{KeyID: "key_x"}
	if !free.AllowsRegion("") || !free.AllowsRegion("us") || free.Pinned() {
		t.Error("a caller without region lists may go anywhere")
	}
	eu := &Principal{Team: Limits{Regions: []string{"eu", "ch"}}, Tenant: Limits{Regions: []string{"eu"}}}
	for region, want := range map[string]bool{"eu": true, "ch": false, "us": false, "": false} {
		if got := eu.AllowsRegion(region); got != want {
			t.Errorf("AllowsRegion(%q) = %v, want %v", region, got, want)
		}
	}
	if !eu.Pinned() {
		t.Error("Pinned() = false for a caller whose team names regions")
	}
}

func TestScopes(t *testing.T) {
	p := &Principal{KeyID: "key_a", TenantID: "ten_1", RPM: 5, Team: Limits{RPM: 50}, Tenant: Limits{RPM: 500}}
	s, n := p.Scopes()
	if n != 2 || s[0].Kind != ScopeKey || s[0].ID != "key_a" || s[0].Limits.RPM != 5 ||
		s[1].Kind != ScopeTenant || s[1].ID != "ten_1" || s[1].Limits.RPM != 500 {
		t.Errorf("Scopes() = %+v, %d; want the key (RPM 5) then the tenant (RPM 500), no team", s, n)
	}
	p.TeamID = "team_b"
	s, n = p.Scopes()
	if n != 3 || s[1].Kind != ScopeTeam || s[1].Limits.RPM != 50 || s[2].Kind != ScopeTenant {
		t.Errorf("Scopes() = %+v, %d; want key, team, tenant", s, n)
	}
	var nilP *Principal
	if _, n := nilP.Scopes(); n != 0 {
		t.Errorf("nil Scopes() n = %d", n)
	}
}

func BenchmarkScopes(b *testing.B) {
	p := &Principal{KeyID: "key_a", TeamID: "t", TenantID: "ten_1", RPM: 5}
	b.ReportAllocs()
	for b.Loop() {
		s, n := p.Scopes()
		if n != 3 || s[0].Limits.RPM != 5 {
			b.Fatal("wrong scopes")
		}
	}
}
