package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/store"
)

// changes records the keys the API passes to KeyChanged.
type changes struct {
	mu   sync.Mutex
	keys []store.Key
}

func (c *changes) add(k store.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys = append(c.keys, k)
}

// last returns the last key passed, failing the test if there is none.
func (c *changes) last(t *testing.T) store.Key {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) == 0 {
		t.Fatal("KeyChanged was never called")
	}
	return c.keys[len(c.keys)-1]
}

func (c *changes) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}

// storeResolver resolves admin tokens the way the gateway's key cache
// does, but straight from the store: a well-formed secret whose hash (or
// previous hash, in its grace) names a key that is enabled and unexpired.
func storeResolver(db *store.DB, now func() time.Time) func(string) (auth.Principal, bool) {
	return func(token string) (auth.Principal, bool) {
		if _, ok := auth.ParseKey(token); !ok {
			return auth.Principal{}, false
		}
		k, err := db.KeyByHash(context.Background(), auth.HashKey(token))
		if err != nil || k.Disabled || !k.ExpiresAt.IsZero() && !now().Before(k.ExpiresAt) {
			return auth.Principal{}, false
		}
		return auth.Principal{KeyID: k.ID, TenantID: k.TenantID, TeamID: k.TeamID, Name: k.Name,
			Role: k.Role, Via: auth.ViaKey}, true
	}
}

// keyAPI is an admin API over a real store with stored admin keys
// resolved, KeyChanged recorded and the log captured.
type keyAPI struct {
	db      *store.DB
	base    string
	log     *lockedBuffer
	changed *changes
}

// serveKeys starts the API over db with the test bootstrap key, a store
// resolver and the given clock (testNow when nil).
func serveKeys(t *testing.T, db *store.DB, now func() time.Time) *keyAPI {
	t.Helper()
	if now == nil {
		now = func() time.Time { return testNow }
	}
	ch := &changes{}
	base, log := serve(t, db, Options{Store: db, AdminKey: testKey, Now: now,
		Resolve: storeResolver(db, now), KeyChanged: ch.add})
	return &keyAPI{db: db, base: base, log: log, changed: ch}
}

// call sends method path with a JSON body ("" sends none) as token.
func (a *keyAPI) call(t *testing.T, token, method, path, body string) response {
	t.Helper()
	var req *http.Request
	var err error
	if body == "" {
		req, err = http.NewRequest(method, a.base+path, nil)
	} else {
		req, err = http.NewRequest(method, a.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return doReq(t, req)
}

// mint stores an admin or gateway key directly and returns its secret.
func mint(t *testing.T, db *store.DB, k store.Key) (string, store.Key) {
	t.Helper()
	secret, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if k.ID == "" {
		k.ID = auth.NewID("key_")
	}
	k.Hash, k.Prefix = auth.HashKey(secret), auth.DisplayPrefix(secret)
	if err := db.CreateKey(context.Background(), &k); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return secret, k
}

// keyObject is the API's key object; Key is the secret, when present.
type keyObject struct {
	Object   string `json:"object"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	Prefix   string `json:"prefix"`
	TenantID string `json:"tenant_id"`
	TeamID   string `json:"team_id"`
	Role     string `json:"role"`
	PolicyObject
	AllowedCIDRs []string          `json:"allowed_cidrs"`
	Metadata     map[string]string `json:"metadata"`
	ExpiresAt    *string           `json:"expires_at"`
	PrevUntil    *string           `json:"previous_key_valid_until"`
	CreatedAt    *string           `json:"created_at"`
	UpdatedAt    *string           `json:"updated_at"`
	LastUsedAt   *string           `json:"last_used_at"`
	Disabled     bool              `json:"disabled"`
	Key          string            `json:"key"`
}

// PolicyObject is the policy part of a key, team or tenant answer.
type PolicyObject struct {
	Models        []string `json:"models"`
	Regions       []string `json:"regions"`
	RPM           int64    `json:"rpm"`
	TPM           int64    `json:"tpm"`
	MaxConcurrent int64    `json:"max_concurrent"`
	BudgetUSD     string   `json:"budget_usd"`
	BudgetMicros  int64    `json:"budget_micros"`
	BudgetPeriod  string   `json:"budget_period"`
	BudgetTZ      string   `json:"budget_tz"`
}

// decodeStrict parses b into v, refusing members v does not have, so a
// new member in an answer must be added to the test's type on purpose.
func decodeStrict(t *testing.T, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, b)
	}
}

// wantStatus fails the test unless r has status.
func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %d %s, want %d", r.status, r.body, status)
	}
}

// createKey creates a key through the API as token and returns it.
func (a *keyAPI) createKey(t *testing.T, token, body string) keyObject {
	t.Helper()
	r := a.call(t, token, "POST", "/admin/v1/keys", body)
	wantStatus(t, r, http.StatusCreated)
	var k keyObject
	decodeStrict(t, r.body, &k)
	return k
}

// isNotFound reports whether err wraps store.ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
