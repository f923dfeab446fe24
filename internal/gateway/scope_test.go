package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// createOrg makes a tenant or team through the admin API and returns its id.
func (e *testEnv) createOrg(path, body string) string {
	e.t.Helper()
	resp, b := e.adminDo(http.MethodPost, path, body)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	var o struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &o); err != nil || o.ID == "" {
		e.t.Fatalf("POST %s answer (%v): %s", path, err, b)
	}
	return o.ID
}

// TestTeamAndTenantPoliciesApplyToTheirKeys: a tenant's model list limits
// a key that has none, a disabled team stops its keys on the next
// request, and enabling it again lets them back in.
func TestTeamAndTenantPoliciesApplyToTheirKeys(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true }\n")
	ten := env.createOrg("/admin/v1/tenants", `{"name":"acme","models":["chat-default"]}`)
	team := env.createOrg("/admin/v1/teams", `{"tenant_id":"`+ten+`","name":"search"}`)
	_, secret := env.createKey(`{"name":"app","tenant_id":"` + ten + `","team_id":"` + team + `"}`)
	bearer := []string{"Authorization", "Bearer " + secret}

	if resp, body := env.post("/v1/chat/completions", chatBody, bearer...); resp.StatusCode != 200 {
		t.Fatalf("model the tenant allows: %d %s", resp.StatusCode, body)
	}
	resp, body := env.post("/v1/chat/completions", `{"model":"claude/claude-haiku-4-5","messages":[{"role":"user","content":"x"}]}`, bearer...)
	if resp.StatusCode != 403 || deref(decodeAPIError(t, body).Error.Code) != "model_not_allowed" {
		t.Errorf("model the tenant does not allow: %d %s", resp.StatusCode, body)
	}

	if resp, b := env.adminDo(http.MethodPatch, "/admin/v1/teams/"+team, `{"disabled":true}`); resp.StatusCode != 200 {
		t.Fatalf("disable team: %d %s", resp.StatusCode, b)
	}
	resp, body = env.post("/v1/chat/completions", chatBody, bearer...)
	if resp.StatusCode != 401 || deref(decodeAPIError(t, body).Error.Code) != "invalid_api_key" {
		t.Errorf("key of a disabled team: %d %s, want 401 invalid_api_key", resp.StatusCode, body)
	}
	if resp, b := env.adminDo(http.MethodPatch, "/admin/v1/teams/"+team, `{"disabled":false}`); resp.StatusCode != 200 {
		t.Fatalf("enable team: %d %s", resp.StatusCode, b)
	}
	if resp, body := env.post("/v1/chat/completions", chatBody, bearer...); resp.StatusCode != 200 {
		t.Errorf("key of a re-enabled team: %d %s", resp.StatusCode, body)
	}
}

// TestTenantChangedElsewhereIsPickedUp: a tenant disabled straight in the
// store (the CLI, another replica) stops its keys at the next refresh.
func TestTenantChangedElsewhereIsPickedUp(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true, key_refresh: 50ms }\n")
	ten := env.createOrg("/admin/v1/tenants", `{"name":"acme"}`)
	_, secret := env.createKey(`{"name":"app","tenant_id":"` + ten + `"}`)
	bearer := []string{"Authorization", "Bearer " + secret}
	if resp, body := env.post("/v1/chat/completions", chatBody, bearer...); resp.StatusCode != 200 {
		t.Fatalf("before: %d %s", resp.StatusCode, body)
	}
	ctx := context.Background()
	tn, err := env.store.GetTenant(ctx, ten)
	if err != nil {
		t.Fatal(err)
	}
	tn.Disabled = true
	if err := env.store.UpdateTenant(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, _ := env.post("/v1/chat/completions", chatBody, bearer...)
		if resp.StatusCode == 401 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the key of a tenant disabled in the store still answers %d after 5s", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPassthroughRefusesWhatItCannotCheck: passthrough neither reads nor
// prices the body, so a key held to models (by its team), to a budget
// (by its tenant) or to regions it cannot reach there is refused with
// 403; a key without such limits passes.
func TestPassthroughRefusesWhatItCannotCheck(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true }\n")
	ten := env.createOrg("/admin/v1/tenants", `{"name":"acme","budget_usd":"5","budget_period":"monthly"}`)
	team := env.createOrg("/admin/v1/teams", `{"name":"search","models":["chat-default"]}`)
	_, free := env.createKey(`{"name":"free"}`)
	_, teamKey := env.createKey(`{"name":"t","team_id":"` + team + `"}`)
	_, tenantKey := env.createKey(`{"name":"n","tenant_id":"` + ten + `"}`)
	_, euKey := env.createKey(`{"name":"eu","regions":["eu"]}`)
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	for _, tc := range []struct {
		name, secret, code string
	}{
		{"team model list", teamKey, "model_not_allowed"},
		{"tenant budget", tenantKey, "budget_not_supported"},
		{"region pin to an untagged provider", euKey, "region_not_allowed"},
	} {
		resp, b := env.post("/oai/chat/completions", body, "Authorization", "Bearer "+tc.secret)
		if resp.StatusCode != 403 || deref(decodeAPIError(t, b).Error.Code) != tc.code {
			t.Errorf("%s: %d %s, want 403 %s", tc.name, resp.StatusCode, b, tc.code)
		}
	}
	if resp, b := env.post("/oai/chat/completions", body, "Authorization", "Bearer "+free); resp.StatusCode != 200 {
		t.Errorf("unlimited key: %d %s", resp.StatusCode, b)
	}
}
