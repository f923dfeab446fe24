package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/store"
)

// adminPost calls the admin API with the bootstrap key.
func (e *testEnv) adminDo(method, path, body string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+envAdminKey)
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

// createKey makes a gateway key through the admin API and returns its id
// and secret.
func (e *testEnv) createKey(body string) (id, secret string) {
	e.t.Helper()
	resp, b := e.adminDo(http.MethodPost, "/admin/v1/keys", body)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("create key: %d %s", resp.StatusCode, b)
	}
	var k struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := json.Unmarshal(b, &k); err != nil || k.Key == "" {
		e.t.Fatalf("create key answer (%v): %s", err, b)
	}
	return k.ID, k.Key
}

func TestKeysAreRequiredFromAConfigFile(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true }\n")
	id, secret := env.createKey(`{"name":"app","tenant_id":"","team_id":""}`)
	for _, tc := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"no key", nil, 401},
		{"a made-up key", []string{"Authorization", "Bearer sk-sluice-" + strings.Repeat("A", 43)}, 401},
		{"not a sluice key", []string{"Authorization", "Bearer sk-proj-123"}, 401},
		{"bearer", []string{"Authorization", "Bearer " + secret}, 200},
		{"x-api-key (Anthropic SDKs)", []string{"X-Api-Key", secret}, 200},
		{"api-key (Azure clients)", []string{"Api-Key", secret}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := env.post("/v1/chat/completions", chatBody, tc.headers...)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want == 401 {
				if e := decodeAPIError(t, body); deref(e.Error.Code) != "invalid_api_key" {
					t.Errorf("code %q", deref(e.Error.Code))
				}
				return
			}
			if rec := env.record(resp.Header.Get("X-Request-Id")); rec.KeyID != id {
				t.Errorf("record key id %q, want %q", rec.KeyID, id)
			}
		})
	}
	// Health checks stay open.
	if resp, _ := env.get("/healthz"); resp.StatusCode != 200 {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}
	if strings.Contains(env.logText(), secret) || strings.Contains(env.logText(), envAdminKey) {
		t.Error("a key appears in the gateway's log")
	}
}

func TestARevokedKeyFailsOnTheNextRequest(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true }\n")
	id, secret := env.createKey(`{"name":"app"}`)
	if resp, body := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+secret); resp.StatusCode != 200 {
		t.Fatalf("before revoking: %d %s", resp.StatusCode, body)
	}
	if resp, body := env.adminDo(http.MethodDelete, "/admin/v1/keys/"+id, ""); resp.StatusCode/100 != 2 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if resp, _ := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+secret); resp.StatusCode != 401 {
		t.Errorf("after revoking: status %d, want 401", resp.StatusCode)
	}
}

func TestARotatedKeysOldSecretWorksUntilTheGraceEnds(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true }\n")
	id, old := env.createKey(`{"name":"app"}`)
	resp, b := env.adminDo(http.MethodPost, "/admin/v1/keys/"+id+"/rotate", `{"grace_seconds":1}`)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("rotate: %d %s", resp.StatusCode, b)
	}
	var k struct {
		Key string `json:"key"`
	}
	json.Unmarshal(b, &k) //nolint:errcheck
	for _, s := range []string{old, k.Key} {
		if resp, body := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+s); resp.StatusCode != 200 {
			t.Fatalf("within the grace period: %d %s", resp.StatusCode, body)
		}
	}
	time.Sleep(1100 * time.Millisecond) // the grace is wall-clock time in the store
	if resp, _ := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+old); resp.StatusCode != 401 {
		t.Errorf("old secret after the grace: status %d, want 401", resp.StatusCode)
	}
	if resp, _ := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+k.Key); resp.StatusCode != 200 {
		t.Errorf("new secret after the grace: status %d, want 200", resp.StatusCode)
	}
}

func TestModelAllowListsFilterCallsAndTheModelList(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true }\n")
	_, secret := env.createKey(`{"name":"limited","models":["chat-default","oai/*"]}`)
	bearer := []string{"Authorization", "Bearer " + secret}
	if resp, body := env.post("/v1/chat/completions", chatBody, bearer...); resp.StatusCode != 200 {
		t.Fatalf("allowed model: %d %s", resp.StatusCode, body)
	}
	resp, body := env.post("/v1/chat/completions", `{"model":"claude/claude-haiku-4-5","messages":[{"role":"user","content":"x"}]}`, bearer...)
	if resp.StatusCode != 403 || deref(decodeAPIError(t, body).Error.Code) != "model_not_allowed" {
		t.Errorf("other model: %d %s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodGet, env.url+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, body = env.do(req)
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil || resp.StatusCode != 200 || len(list.Data) == 0 {
		t.Fatalf("models: %d %s", resp.StatusCode, body)
	}
	for _, m := range list.Data {
		if m.ID != "chat-default" && !strings.HasPrefix(m.ID, "oai/") {
			t.Errorf("/v1/models shows %q to a key limited to chat-default and oai/*", m.ID)
		}
	}
}

func TestKeysMadeElsewhereArePickedUp(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true, key_refresh: 50ms }\n")
	secret, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	// As the CLI or another replica would: straight into the store.
	if err := env.store.CreateKey(context.Background(), &store.Key{ID: auth.NewID("key_"), Name: "cli",
		Hash: auth.HashKey(secret), Prefix: auth.DisplayPrefix(secret)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, _ := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+secret)
		if resp.StatusCode == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a key created in the store was not picked up: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGuessingKeysIsThrottledPerAddress: past auth.failed_per_minute bad
// keys, an address gets 429 for any key — the right one too, or a 429 or
// 200 would tell a guesser which guess was right.
func TestGuessingKeysIsThrottledPerAddress(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true, failed_per_minute: 5 }\n")
	_, secret := env.createKey(`{"name":"app"}`)
	for i := range 5 {
		guess := "Bearer sk-sluice-" + strings.Repeat(string(rune('a'+i)), 43)
		if resp, _ := env.post("/v1/chat/completions", chatBody, "Authorization", guess); resp.StatusCode != 401 {
			t.Fatalf("guess %d: status %d, want 401", i, resp.StatusCode)
		}
	}
	for _, key := range []string{"sk-sluice-" + strings.Repeat("z", 43), secret} {
		resp, body := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+key)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("after 5 failures: status %d (Retry-After %q): %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	if strings.Contains(env.logText(), "zzzzzzzzzz") {
		t.Error("a presented key appears in the log")
	}
	if !strings.Contains(env.logText(), "authentication failed") {
		t.Error("failed attempts are not logged")
	}
}

// TestAnOpenGatewayNeverThrottlesUnknownKeys guards the embedded default
// and require_keys: false: SDKs always send some key ("sk-anything"), and
// those requests must keep passing however many there are.
func TestAnOpenGatewayNeverThrottlesUnknownKeys(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: false, failed_per_minute: 2 }\n")
	for i := range 5 {
		if resp, body := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer sk-sluice-"+strings.Repeat("q", 43)); resp.StatusCode != 200 {
			t.Fatalf("request %d with an unknown key on an open gateway: %d %s", i, resp.StatusCode, body)
		}
	}
}
