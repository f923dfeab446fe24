package auth

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCan(t *testing.T) {
	all := []Action{ReadLogs, ManageKeys, ManageTeamKeys, ManageTenants, ReadAudit, ManageCredentials}
	want := map[string][]Action{
		RoleOwner:  all,
		RoleAdmin:  {ReadLogs, ManageKeys, ManageTeamKeys, ReadAudit, ManageCredentials},
		RoleMember: {ReadLogs, ManageTeamKeys},
		RoleViewer: {ReadLogs},
		"":         nil,
		"root":     nil,
		"Owner":    nil,
	}
	for role, wantActions := range want {
		t.Run("role="+role, func(t *testing.T) {
			p := &Principal{Role: role}
			var got []Action
			for _, a := range all {
				if p.Can(a) {
					got = append(got, a)
				}
			}
			if diff := cmp.Diff(got, wantActions); diff != "" {
				t.Errorf("actions (-got +want):\n%s", diff)
			}
			if p.Can("unknown_action") {
				t.Error("Can(unknown_action) = true")
			}
		})
	}
	var nilP *Principal
	if nilP.Can(ReadLogs) {
		t.Error("nil Principal can ReadLogs")
	}
}

func TestTeamScopedAndValidRole(t *testing.T) {
	cases := []struct {
		role       string
		teamScoped bool
		valid      bool
	}{
		{RoleOwner, false, true},
		{RoleAdmin, false, true},
		{RoleMember, true, true},
		{RoleViewer, false, true},
		{"", false, true},
		{"superuser", false, false},
	}
	for _, tc := range cases {
		p := &Principal{Role: tc.role}
		if got := p.TeamScoped(); got != tc.teamScoped {
			t.Errorf("role %q: TeamScoped = %v, want %v", tc.role, got, tc.teamScoped)
		}
		if got := ValidRole(tc.role); got != tc.valid {
			t.Errorf("ValidRole(%q) = %v, want %v", tc.role, got, tc.valid)
		}
	}
	var nilP *Principal
	if nilP.TeamScoped() {
		t.Error("nil Principal is TeamScoped")
	}
}
