package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/store"
)

// The body OpenAI answers a project without access to a model with.
const openAINoModelAccess = "{\"error\":{\"message\":\"Project `proj_abc` does not have access to model `gpt-4o-mini`\"," +
	"\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"model_not_found\"}}"

// disabledCreds returns the IDs of the stored credentials that are
// disabled, once the store writes queued so far are done (it waits until
// want are disabled, or a moment longer when want is 0).
func disabledCreds(t *testing.T, e *vaultEnv, want int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	if want == 0 {
		deadline = time.Now().Add(300 * time.Millisecond)
	}
	for {
		all, err := e.store.ListAllCredentials(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range all {
			if c.Disabled {
				ids = append(ids, c.ID)
			}
		}
		if want > 0 && len(ids) >= want || time.Now().After(deadline) {
			return ids
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Regression: a 403 for a model the project's keys may not use was taken
// for a refused key and retried, so one request with
// x-sluice-max-attempts: 10 disabled every vault key in turn. A
// permission refusal disables nothing and is not sent again to the same
// target.
func TestVaultPermissionRefusalDisablesNothing(t *testing.T) {
	e := newVaultEnv(t, testVault(t, 11), "")
	e.addCred("oai", "alpha", secretA, 1)
	e.addCred("oai", "bravo", secretB, 1)
	e.addCred("oai", "charlie", secretC, 1)
	e.mock.InjectFault(mock.Fault{Count: 10, Status: http.StatusForbidden, Body: openAINoModelAccess})
	before := e.mock.Stats().Requests
	resp, body := e.post("/v1/chat/completions", `{"model":"oai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`,
		"X-Sluice-Max-Attempts", "10", "X-Sluice-Retry-Delay", "0")
	if ae := decodeAPIError(t, body); resp.StatusCode != http.StatusBadGateway || deref(ae.Error.Code) != "upstream_permission_denied" {
		t.Errorf("under a 403 for the model: %d %s; want 502 upstream_permission_denied", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "proj_abc") {
		t.Errorf("the answer passes the upstream's project on: %s", body)
	}
	if n := e.mock.Stats().Requests - before; n != 1 {
		t.Errorf("the upstream got %d requests (attempts header %q), want 1: no retry of the same target",
			n, resp.Header.Get("X-Sluice-Attempts"))
	}
	if ids := disabledCreds(t, e, 0); len(ids) != 0 {
		t.Errorf("disabled %q after a permission refusal", ids)
	}
	// Every key is still in the rotation.
	e.mock.Reset()
	seen := map[string]bool{}
	for range 3 {
		if st, got := e.chat("oai/gpt-4o-mini", "Authorization"); st == http.StatusOK {
			seen[got] = true
		}
	}
	if !seen[secretA] || !seen[secretB] || !seen[secretC] {
		t.Errorf("after the refusal, %d of 3 keys are used", len(seen))
	}
	evs, _, _ := e.store.ListEvents(context.Background(), store.EventFilter{Kind: "credential.disabled"})
	if len(evs) != 0 {
		t.Errorf("credential.disabled events after a permission refusal: %+v", evs)
	}
}

// A refused key (401) disables that key only: the request is not retried
// on the same target, where it would take and disable the next key.
func TestVaultKeyRefusalIsNotRetried(t *testing.T) {
	e := newVaultEnv(t, testVault(t, 12), "")
	e.addCred("oai", "alpha", secretA, 1)
	e.addCred("oai", "bravo", secretB, 1)
	e.addCred("oai", "charlie", secretC, 1)
	e.mock.InjectFault(mock.Fault{Count: 10, Status: http.StatusUnauthorized})
	before := e.mock.Stats().Requests
	resp, body := e.post("/v1/chat/completions", `{"model":"oai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`,
		"X-Sluice-Max-Attempts", "10", "X-Sluice-Retry-Delay", "0")
	if ae := decodeAPIError(t, body); resp.StatusCode != http.StatusBadGateway || deref(ae.Error.Code) != "upstream_auth_failed" {
		t.Fatalf("under a 401: %d %s", resp.StatusCode, body)
	}
	if n := e.mock.Stats().Requests - before; n != 1 {
		t.Errorf("the upstream got %d requests, want 1", n)
	}
	if ids := disabledCreds(t, e, 2); len(ids) != 1 {
		t.Errorf("disabled %q, want the one refused key", ids)
	}
}

// Gemini answers an invalid key with a 400 INVALID_ARGUMENT whose reason
// is API_KEY_INVALID: that key is disabled, the request is not retried
// with it, and the next request uses another key.
func TestVaultGeminiInvalidKeyDisabled(t *testing.T) {
	e := newVaultEnv(t, testVault(t, 13), "")
	a := e.addCred("gem", "alpha", secretA, 1)
	b := e.addCred("gem", "bravo", secretB, 1)
	e.mock.InjectFault(mock.Fault{Count: 10, Status: http.StatusBadRequest, Body: `{"error":{"code":400,` +
		`"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[` +
		`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`})
	before := e.mock.Stats().Requests
	resp, body := e.post("/v1/chat/completions", `{"model":"gem/gemini-2.0-flash","messages":[{"role":"user","content":"hi"}]}`,
		"X-Sluice-Max-Attempts", "10", "X-Sluice-Retry-Delay", "0")
	if ae := decodeAPIError(t, body); resp.StatusCode != http.StatusBadGateway || deref(ae.Error.Code) != "upstream_auth_failed" {
		t.Fatalf("under Gemini's API_KEY_INVALID: %d %s", resp.StatusCode, body)
	}
	if n := e.mock.Stats().Requests - before; n != 1 {
		t.Errorf("the upstream got %d requests, want 1", n)
	}
	refused := e.lastUpstream().header("X-Goog-Api-Key")
	refusedID, otherKey := a.ID, secretB
	if refused == secretB {
		refusedID, otherKey = b.ID, secretA
	}
	ids := disabledCreds(t, e, 1)
	if len(ids) != 1 || ids[0] != refusedID {
		t.Fatalf("disabled %q, want [%s]", ids, refusedID)
	}
	e.mock.Reset()
	for range 2 {
		if st, got := e.chat("gem/gemini-2.0-flash", "X-Goog-Api-Key"); st != http.StatusOK || got != otherKey {
			t.Fatalf("after the refusal: %d, the other key sent=%v", st, got == otherKey)
		}
	}
	e.noSecrets(secretA, secretB)
}
