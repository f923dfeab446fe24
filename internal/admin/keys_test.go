package admin

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/store"
)

// orgFixture creates tenant "t1" with team "ta" and tenant "t2" with team
// "tb" in db, directly through the store.
func orgFixture(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	for _, tn := range []store.Tenant{{ID: "t1", Name: "one"}, {ID: "t2", Name: "two"}} {
		if err := db.CreateTenant(ctx, &tn); err != nil {
			t.Fatal(err)
		}
	}
	for _, tm := range []store.Team{{ID: "ta", TenantID: "t1", Name: "a"}, {ID: "tb", TenantID: "t2", Name: "b"}} {
		if err := db.CreateTeam(ctx, &tm); err != nil {
			t.Fatal(err)
		}
	}
}

func TestKeyCreate(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		orgFixture(t, db)
		api := serveKeys(t, db, nil)
		r := api.call(t, testKey, "POST", "/admin/v1/keys", `{"name":"ci","team_id":"ta","models":["gpt-4o*","openai/*"],"regions":["eu"],
			"rpm":60,"tpm":100000,"max_concurrent":4,"budget_usd":"12.5","budget_period":"monthly","budget_tz":"Europe/Berlin",
			"allowed_cidrs":["10.1.2.3/8","2001:db8::1/32"],"metadata":{"env":"ci"},"expires_at":"2027-01-01T00:00:00Z"}`)
		wantStatus(t, r, http.StatusCreated)
		var got keyObject
		decodeStrict(t, r.body, &got)
		if _, ok := auth.ParseKey(got.Key); !ok {
			t.Fatalf("secret %q is not a gateway key", got.Key)
		}
		if loc := r.header.Get("Location"); loc != "/admin/v1/keys/"+got.ID {
			t.Errorf("Location %q", loc)
		}
		secret := got.Key
		want := keyObject{Object: "key", ID: got.ID, Name: "ci", Prefix: auth.DisplayPrefix(secret),
			TenantID: "t1", TeamID: "ta", PolicyObject: PolicyObject{Models: []string{"gpt-4o*", "openai/*"},
				Regions: []string{"eu"}, RPM: 60, TPM: 100000, MaxConcurrent: 4, BudgetUSD: "12.500000",
				BudgetMicros: 12_500_000, BudgetPeriod: "monthly", BudgetTZ: "Europe/Berlin"},
			AllowedCIDRs: []string{"10.0.0.0/8", "2001:db8::/32"}, Metadata: map[string]string{"env": "ci"},
			ExpiresAt: ptr("2027-01-01T00:00:00Z"), Key: secret}
		if diff := cmp.Diff(got, want, cmpopts.IgnoreFields(keyObject{}, "CreatedAt", "UpdatedAt")); diff != "" {
			t.Errorf("created key (-got +want):\n%s", diff)
		}
		if !strings.HasPrefix(got.ID, "key_") || got.CreatedAt == nil || got.UpdatedAt == nil || got.LastUsedAt != nil || got.PrevUntil != nil {
			t.Errorf("id %q, times %v %v %v %v", got.ID, got.CreatedAt, got.UpdatedAt, got.LastUsedAt, got.PrevUntil)
		}
		stored, err := db.KeyByHash(context.Background(), auth.HashKey(secret))
		if err != nil {
			t.Fatalf("KeyByHash(HashKey(secret)): %v", err)
		}
		if stored.ID != got.ID || stored.Prefix != got.Prefix || !auth.EqualHash(stored.Hash, auth.HashKey(secret)) {
			t.Errorf("stored key %s prefix %q does not match", stored.ID, stored.Prefix)
		}
		if c := api.changed.last(t); c.ID != got.ID || c.Disabled || !auth.EqualHash(c.Hash, stored.Hash) {
			t.Errorf("KeyChanged got %+v", c)
		}
		for _, leak := range []string{hex.EncodeToString(stored.Hash), base64.StdEncoding.EncodeToString(stored.Hash), `"hash"`} {
			if strings.Contains(string(r.body), leak) {
				t.Errorf("the create answer holds the hash (%s)", leak)
			}
		}
		if strings.Contains(api.log.String(), secret) {
			t.Errorf("the secret reached the log")
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestKeySecretShownOnce reads a created key back every way the API
// offers: the secret and the hash never come back.
func TestKeySecretShownOnce(t *testing.T) {
	db := sqliteStore(t)
	api := serveKeys(t, db, nil)
	k := api.createKey(t, testKey, `{"name":"once"}`)
	stored, err := db.GetKey(context.Background(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/admin/v1/keys", "/admin/v1/keys/" + k.ID, "/admin/v1/keys?include_disabled=true"} {
		r := api.call(t, testKey, "GET", path, "")
		wantStatus(t, r, http.StatusOK)
		body := string(r.body)
		for _, leak := range []string{k.Key, k.Key[len(auth.KeyPrefix)+4:], hex.EncodeToString(stored.Hash),
			base64.StdEncoding.EncodeToString(stored.Hash), `"key":`, `"hash"`} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s leaks %q: %s", path, leak, body)
			}
		}
		if !strings.Contains(body, k.Prefix) {
			t.Errorf("GET %s lacks the display prefix: %s", path, body)
		}
	}
	if strings.Contains(api.log.String(), k.Key) {
		t.Errorf("the secret reached the log")
	}
}

// keyBodyCases are create bodies the API refuses, with the member the 400
// names. FuzzKeyBody is seeded from them.
var keyBodyCases = []struct {
	name      string
	body      string
	wantParam string
}{
	{name: "not an object", body: `[1]`, wantParam: ""},
	{name: "not JSON", body: `{"name":`, wantParam: ""},
	{name: "unknown field", body: `{"nmae":"x"}`, wantParam: "nmae"},
	{name: "disabled on create", body: `{"disabled":true}`, wantParam: "disabled"},
	{name: "duplicate member", body: `{"name":"a","name":"b"}`, wantParam: "name"},
	{name: "name not a string", body: `{"name":5}`, wantParam: "name"},
	{name: "name with NUL", body: `{"name":"a\u0000b"}`, wantParam: "name"},
	{name: "name too long", body: `{"name":"` + strings.Repeat("x", 257) + `"}`, wantParam: "name"},
	{name: "unknown role", body: `{"role":"root"}`, wantParam: "role"},
	{name: "negative rpm", body: `{"rpm":-1}`, wantParam: "rpm"},
	{name: "fractional tpm", body: `{"tpm":1.5}`, wantParam: "tpm"},
	{name: "string max_concurrent", body: `{"max_concurrent":"4"}`, wantParam: "max_concurrent"},
	{name: "budget with sign", body: `{"budget_usd":"-1"}`, wantParam: "budget_usd"},
	{name: "budget with 7 decimals", body: `{"budget_usd":"0.0000001"}`, wantParam: "budget_usd"},
	{name: "budget exponent", body: `{"budget_usd":1e3}`, wantParam: "budget_usd"},
	{name: "budget too large", body: `{"budget_usd":"1000000000000"}`, wantParam: "budget_usd"},
	{name: "bad period", body: `{"budget_period":"hourly"}`, wantParam: "budget_period"},
	{name: "bad time zone", body: `{"budget_tz":"Mars/Olympus"}`, wantParam: "budget_tz"},
	{name: "server's local zone", body: `{"budget_tz":"Local"}`, wantParam: "budget_tz"},
	{name: "bad cidr", body: `{"allowed_cidrs":["10.0.0.0"]}`, wantParam: "allowed_cidrs"},
	{name: "cidrs not a list", body: `{"allowed_cidrs":"10.0.0.0/8"}`, wantParam: "allowed_cidrs"},
	{name: "empty model glob", body: `{"models":["gpt-4o",""]}`, wantParam: "models"},
	{name: "model not a string", body: `{"models":[1]}`, wantParam: "models"},
	{name: "metadata number value", body: `{"metadata":{"n":1}}`, wantParam: "metadata"},
	{name: "metadata duplicate key", body: `{"metadata":{"a":"1","a":"2"}}`, wantParam: "metadata"},
	{name: "metadata empty key", body: `{"metadata":{"":"x"}}`, wantParam: "metadata"},
	{name: "bad expiry", body: `{"expires_at":"tomorrow"}`, wantParam: "expires_at"},
}

func TestKeyCreateRefusals(t *testing.T) {
	db := sqliteStore(t)
	orgFixture(t, db)
	api := serveKeys(t, db, nil)
	cases := append(keyBodyCases[:len(keyBodyCases):len(keyBodyCases)], []struct {
		name      string
		body      string
		wantParam string
	}{
		{name: "expiry in the past", body: `{"expires_at":"2026-02-01T00:00:00Z"}`, wantParam: "expires_at"},
		{name: "unknown tenant", body: `{"tenant_id":"nope"}`, wantParam: "tenant_id"},
		{name: "unknown team", body: `{"team_id":"nope"}`, wantParam: "team_id"},
		{name: "team of another tenant", body: `{"tenant_id":"t2","team_id":"ta"}`, wantParam: "team_id"},
		{name: "team of the default tenant's key", body: `{"tenant_id":"","team_id":"ta"}`, wantParam: "team_id"},
	}...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := api.call(t, testKey, "POST", "/admin/v1/keys", tc.body)
			e := decodeError(t, r)
			if r.status != 400 || deref(e.Error.Param) != tc.wantParam || e.Error.Type != "invalid_request_error" {
				t.Errorf("got %d %s, want 400 naming %q", r.status, r.body, tc.wantParam)
			}
		})
	}
	if n, _ := db.CountKeys(context.Background()); n != 0 {
		t.Errorf("%d keys stored by refused creates", n)
	}
	if api.changed.count() != 0 {
		t.Errorf("KeyChanged called for refused creates")
	}
}

func TestKeyBodyTooLarge(t *testing.T) {
	api := serveKeys(t, sqliteStore(t), nil)
	r := api.call(t, testKey, "POST", "/admin/v1/keys", `{"name":"`+strings.Repeat("x", maxBody)+`"}`)
	if e := decodeError(t, r); r.status != http.StatusRequestEntityTooLarge || deref(e.Error.Code) != "body_too_large" {
		t.Errorf("got %d %s, want 413", r.status, r.body)
	}
}

func TestKeyTeamImpliesTenant(t *testing.T) {
	db := sqliteStore(t)
	orgFixture(t, db)
	api := serveKeys(t, db, nil)
	k := api.createKey(t, testKey, `{"team_id":"tb"}`)
	if k.TenantID != "t2" || k.TeamID != "tb" {
		t.Errorf("tenant %q team %q, want t2 tb", k.TenantID, k.TeamID)
	}
}

func TestKeyUpdate(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		orgFixture(t, db)
		api := serveKeys(t, db, nil)
		k := api.createKey(t, testKey, `{"name":"a","models":["x"],"rpm":5,"metadata":{"k":"v"},"team_id":"ta"}`)
		r := api.call(t, testKey, "PATCH", "/admin/v1/keys/"+k.ID, `{"name":"b","models":null,"tpm":7,"expires_at":"2030-01-01T00:00:00.123456789Z"}`)
		wantStatus(t, r, http.StatusOK)
		var got keyObject
		decodeStrict(t, r.body, &got)
		want := k
		want.Key, want.Name, want.Models, want.TPM, want.ExpiresAt = "", "b", []string{}, 7, ptr("2030-01-01T00:00:00.123456Z")
		if diff := cmp.Diff(got, want, cmpopts.IgnoreFields(keyObject{}, "UpdatedAt")); diff != "" {
			t.Errorf("patched key (-got +want):\n%s", diff)
		}
		if c := api.changed.last(t); c.ID != k.ID || c.Name != "b" {
			t.Errorf("KeyChanged got %s %q", c.ID, c.Name)
		}
		// The secret still works: a PATCH does not touch it.
		if _, err := db.KeyByHash(context.Background(), auth.HashKey(k.Key)); err != nil {
			t.Errorf("secret lost by a PATCH: %v", err)
		}
		r = api.call(t, testKey, "PATCH", "/admin/v1/keys/"+k.ID, `{"tenant_id":"t2"}`)
		if e := decodeError(t, r); r.status != 400 || deref(e.Error.Param) != "team_id" {
			t.Errorf("moving a key's tenant away from its team: %d %s", r.status, r.body)
		}
		r = api.call(t, testKey, "PATCH", "/admin/v1/keys/key_missing", `{"name":"x"}`)
		if e := decodeError(t, r); r.status != 404 || deref(e.Error.Code) != "not_found" {
			t.Errorf("PATCH of a missing key: %d %s", r.status, r.body)
		}
	})
}

// TestRevokedAdminKeyFailsAtOnce disables then deletes admin keys and
// uses them on the very next request.
func TestRevokedAdminKeyFailsAtOnce(t *testing.T) {
	tests := []struct {
		name   string
		method string
		body   string
	}{
		{name: "PATCH disabled", method: "PATCH", body: `{"disabled":true}`},
		{name: "DELETE", method: "DELETE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := sqliteStore(t)
			api := serveKeys(t, db, nil)
			k := api.createKey(t, testKey, `{"role":"admin"}`)
			wantStatus(t, api.call(t, k.Key, "GET", "/admin/v1/keys", ""), http.StatusOK)
			r := api.call(t, testKey, tc.method, "/admin/v1/keys/"+k.ID, tc.body)
			if r.status != http.StatusOK && r.status != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			if c := api.changed.last(t); c.ID != k.ID || !c.Disabled {
				t.Errorf("KeyChanged got %s disabled=%v, want the key disabled", c.ID, c.Disabled)
			}
			r = api.call(t, k.Key, "GET", "/admin/v1/keys", "")
			if e := decodeError(t, r); r.status != 401 || deref(e.Error.Code) != "invalid_api_key" || e.Error.Message != "invalid admin token" {
				t.Errorf("revoked key: got %d %s, want the generic 401", r.status, r.body)
			}
		})
	}
}

func TestKeyDelete(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		api := serveKeys(t, db, nil)
		k := api.createKey(t, testKey, `{}`)
		r := api.call(t, testKey, "DELETE", "/admin/v1/keys/"+k.ID, "")
		wantStatus(t, r, http.StatusNoContent)
		if len(r.body) != 0 {
			t.Errorf("204 with a body: %s", r.body)
		}
		if _, err := db.KeyByHash(context.Background(), auth.HashKey(k.Key)); !isNotFound(err) {
			t.Errorf("KeyByHash after delete: %v, want not found", err)
		}
		wantStatus(t, api.call(t, testKey, "GET", "/admin/v1/keys/"+k.ID, ""), http.StatusNotFound)
		wantStatus(t, api.call(t, testKey, "DELETE", "/admin/v1/keys/"+k.ID, ""), http.StatusNotFound)
	})
}
