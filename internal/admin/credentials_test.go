package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/vault"
)

const (
	credSecret  = "sk-prov-secret-0123456789wxyz"
	credSecret2 = "sk-prov-rotated-987654321ABCD"
)

// credChanges records what the API passes to CredentialChanged.
type credChanges struct {
	mu  sync.Mutex
	all []string // "id deleted=bool"
}

func (c *credChanges) add(cr store.Credential, deleted bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if deleted {
		c.all = append(c.all, cr.ID+" deleted")
	} else {
		c.all = append(c.all, cr.ID)
	}
}

func (c *credChanges) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.all...)
}

// credAPI is the admin API over db with v as its vault (nil: locked).
type credAPI struct {
	*keyAPI
	vault   *vault.Vault
	changes *credChanges
	mu      sync.Mutex
	answers []string
}

func serveCredentials(t *testing.T, db *store.DB, v *vault.Vault) *credAPI {
	t.Helper()
	ch := &credChanges{}
	now := func() time.Time { return testNow }
	base, log := serve(t, db, Options{Store: db, AdminKey: testKey, Now: now, Resolve: storeResolver(db, now),
		Vault: v, ProviderNames: func() []string { return []string{"openai", "claude"} }, CredentialChanged: ch.add})
	return &credAPI{keyAPI: &keyAPI{db: db, base: base, log: log, changed: &changes{}}, vault: v, changes: ch}
}

// do calls the API and keeps the answer for noSecret.
func (a *credAPI) do(t *testing.T, token, method, path, body string) response {
	t.Helper()
	r := a.call(t, token, method, path, body)
	a.mu.Lock()
	a.answers = append(a.answers, string(r.body))
	a.mu.Unlock()
	return r
}

// noSecret fails if an answer, the log or the audit trail holds a secret.
func (a *credAPI) noSecret(t *testing.T, secrets ...string) {
	t.Helper()
	audit := a.call(t, testKey, "GET", "/admin/v1/audit", "").body
	a.mu.Lock()
	texts := append([]string{a.log.String(), string(audit)}, a.answers...)
	a.mu.Unlock()
	for _, s := range secrets {
		for _, text := range texts {
			if strings.Contains(text, s) || strings.Contains(text, s[:len(s)-4]) {
				t.Fatalf("a secret leaked:\n%s", text)
			}
		}
	}
}

type credObject struct {
	Object         string  `json:"object"`
	ID             string  `json:"id"`
	Provider       string  `json:"provider"`
	Name           string  `json:"name"`
	Last4          string  `json:"last4"`
	Weight         int64   `json:"weight"`
	Disabled       bool    `json:"disabled"`
	DisabledReason string  `json:"disabled_reason"`
	CreatedAt      *string `json:"created_at"`
	UpdatedAt      *string `json:"updated_at"`
}

func newTestVault(t *testing.T) *vault.Vault {
	t.Helper()
	v, err := vault.New(bytes.Repeat([]byte{0x5a}, vault.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCredentialsLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		api := serveCredentials(t, db, newTestVault(t))
		r := api.do(t, testKey, "POST", "/admin/v1/credentials",
			`{"provider":"openai","name":"prod-1","key":"`+credSecret+`","weight":3}`)
		wantStatus(t, r, http.StatusCreated)
		var c credObject
		decodeStrict(t, r.body, &c)
		want := credObject{Object: "credential", ID: c.ID, Provider: "openai", Name: "prod-1", Last4: "wxyz",
			Weight: 3, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
		if c != want || !strings.HasPrefix(c.ID, "cred_") || c.CreatedAt == nil {
			t.Errorf("created %+v, want %+v", c, want)
		}
		if loc := r.header.Get("Location"); loc != Prefix+"/credentials/"+c.ID {
			t.Errorf("Location %q", loc)
		}
		// At rest: sealed, bound to the row, opening to the secret.
		stored, err := db.GetCredential(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored.Sealed, []byte(credSecret)) || bytes.Contains(stored.Sealed, []byte(credSecret[:10])) {
			t.Fatal("the stored bytes hold the secret")
		}
		if got, err := api.vault.OpenCredential(c.ID, "openai", stored.Sealed); err != nil || got != credSecret {
			t.Fatalf("open the stored key: %v", err)
		}
		if stored.MasterID != api.vault.ID() {
			t.Errorf("master_id %q", stored.MasterID)
		}

		// Defaults: weight 1, no name.
		r = api.do(t, testKey, "POST", "/admin/v1/credentials", `{"provider":"claude","key":"`+credSecret2+`"}`)
		wantStatus(t, r, http.StatusCreated)
		var c2 credObject
		decodeStrict(t, r.body, &c2)
		if c2.Weight != 1 || c2.Name != "" || c2.Last4 != "ABCD" {
			t.Errorf("defaults: %+v", c2)
		}

		// Reads.
		r = api.do(t, testKey, "GET", "/admin/v1/credentials", "")
		wantStatus(t, r, http.StatusOK)
		var l struct {
			Object     string       `json:"object"`
			Data       []credObject `json:"data"`
			NextCursor *string      `json:"next_cursor"`
			HasMore    bool         `json:"has_more"`
		}
		decodeStrict(t, r.body, &l)
		if len(l.Data) != 2 {
			t.Fatalf("list: %s", r.body)
		}
		r = api.do(t, testKey, "GET", "/admin/v1/credentials?provider=claude", "")
		decodeStrict(t, r.body, &l)
		if len(l.Data) != 1 || l.Data[0].ID != c2.ID {
			t.Errorf("list ?provider=claude: %s", r.body)
		}
		r = api.do(t, testKey, "GET", "/admin/v1/credentials/"+c.ID, "")
		wantStatus(t, r, http.StatusOK)
		wantStatus(t, api.do(t, testKey, "GET", "/admin/v1/credentials?bogus=1", ""), http.StatusBadRequest)

		// PATCH: disable with a reason, re-enable clears it.
		r = api.do(t, testKey, "PATCH", "/admin/v1/credentials/"+c.ID, `{"disabled":true,"weight":2,"name":"p"}`)
		wantStatus(t, r, http.StatusOK)
		decodeStrict(t, r.body, &c)
		if !c.Disabled || c.DisabledReason == "" || c.Weight != 2 || c.Name != "p" {
			t.Errorf("after disable: %+v", c)
		}
		r = api.do(t, testKey, "PATCH", "/admin/v1/credentials/"+c.ID, `{"disabled":false}`)
		decodeStrict(t, r.body, &c)
		if c.Disabled || c.DisabledReason != "" {
			t.Errorf("after re-enable: %+v", c)
		}
		// Rotation: a new secret, a new last4, audited as a rotation.
		r = api.do(t, testKey, "PATCH", "/admin/v1/credentials/"+c.ID, `{"key":"`+credSecret2+`"}`)
		wantStatus(t, r, http.StatusOK)
		decodeStrict(t, r.body, &c)
		if c.Last4 != "ABCD" {
			t.Errorf("after rotation last4 %q", c.Last4)
		}
		stored, _ = db.GetCredential(context.Background(), c.ID)
		if got, err := api.vault.OpenCredential(c.ID, "openai", stored.Sealed); err != nil || got != credSecret2 {
			t.Errorf("the rotated key does not open to the new secret: %v", err)
		}
		wantStatus(t, api.do(t, testKey, "PATCH", "/admin/v1/credentials/"+c.ID, `{"provider":"claude"}`), http.StatusBadRequest)
		wantStatus(t, api.do(t, testKey, "PATCH", "/admin/v1/credentials/cred_nope", `{"name":"x"}`), http.StatusNotFound)

		// Delete.
		wantStatus(t, api.do(t, testKey, "DELETE", "/admin/v1/credentials/"+c.ID, ""), http.StatusNoContent)
		wantStatus(t, api.do(t, testKey, "GET", "/admin/v1/credentials/"+c.ID, ""), http.StatusNotFound)
		wantStatus(t, api.do(t, testKey, "DELETE", "/admin/v1/credentials/"+c.ID, ""), http.StatusNotFound)

		wantChanges := []string{c.ID, c2.ID, c.ID, c.ID, c.ID, c.ID + " deleted"}
		if got := api.changes.list(); strings.Join(got, ",") != strings.Join(wantChanges, ",") {
			t.Errorf("CredentialChanged calls %q, want %q", got, wantChanges)
		}

		// The audit trail: each write, with provider, name and last4.
		entries, _ := readAudit(t, api.keyAPI, "target="+c.ID)
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
			if e.Detail["provider"] != "openai" || e.Detail["last4"] == "" {
				t.Errorf("audit detail %v", e.Detail)
			}
		}
		wantActions := "credential.delete,credential.rotate,credential.update,credential.update,credential.create"
		if strings.Join(actions, ",") != wantActions {
			t.Errorf("audit actions %q, want %q", actions, wantActions)
		}
		if entries[1].Detail["last4"] != "ABCD" || entries[4].Detail["last4"] != "wxyz" || entries[4].Detail["name"] != "prod-1" {
			t.Errorf("audit details: %v / %v", entries[1].Detail, entries[4].Detail)
		}
		api.noSecret(t, credSecret, credSecret2)
	})
}

func TestCredentialsRefused(t *testing.T) {
	db := backends[0].open(t)
	api := serveCredentials(t, db, newTestVault(t))
	for _, tc := range []struct {
		name, body, param string
	}{
		{"no provider", `{"key":"` + credSecret + `"}`, "provider"},
		{"unknown provider", `{"provider":"nope","key":"` + credSecret + `"}`, "provider"},
		{"no key", `{"provider":"openai"}`, "key"},
		{"null key", `{"provider":"openai","key":null}`, "key"},
		{"number key", `{"provider":"openai","key":12345678901}`, "key"},
		{"short key", `{"provider":"openai","key":"sk-abc"}`, "key"},
		{"key with a space", `{"provider":"openai","key":"sk-prov secret-0123456789"}`, "key"},
		{"key with a newline", `{"provider":"openai","key":"sk-prov-secret-01234\n56789"}`, "key"},
		{"key with non-ASCII", `{"provider":"openai","key":"sk-prov-sécret-0123456789"}`, "key"},
		{"huge key", `{"provider":"openai","key":"` + strings.Repeat("k", maxCredentialKey+1) + `"}`, "key"},
		{"zero weight", `{"provider":"openai","key":"` + credSecret + `","weight":0}`, "weight"},
		{"huge weight", `{"provider":"openai","key":"` + credSecret + `","weight":1000001}`, "weight"},
		{"unknown member", `{"provider":"openai","key":"` + credSecret + `","secret":"x"}`, "secret"},
		{"long name", `{"provider":"openai","key":"` + credSecret + `","name":"` + strings.Repeat("n", 300) + `"}`, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := api.do(t, testKey, "POST", "/admin/v1/credentials", tc.body)
			wantStatus(t, r, http.StatusBadRequest)
			if e := decodeError(t, r); deref(e.Error.Param) != tc.param {
				t.Errorf("param %q, want %q: %s", deref(e.Error.Param), tc.param, r.body)
			}
			for _, k := range []string{"sk-prov secret", "sk-prov-secret-01234", "sk-prov-sécret", credSecret} {
				if strings.Contains(string(r.body), k) {
					t.Errorf("the refusal echoes the key: %s", r.body)
				}
			}
		})
	}
	r := api.do(t, testKey, "POST", "/admin/v1/credentials", `{"provider":"nope","key":"`+credSecret+`"}`)
	if !strings.Contains(string(r.body), "claude, openai") {
		t.Errorf("unknown provider: the answer does not list the configured ones: %s", r.body)
	}
	if n := len(api.changes.list()); n != 0 {
		t.Errorf("refused writes reached CredentialChanged %d times", n)
	}
	api.noSecret(t, credSecret)
}

func TestCredentialsVaultLocked(t *testing.T) {
	db := backends[0].open(t)
	// A credential stored earlier, under a key this gateway lacks.
	v := newTestVault(t)
	cr := store.Credential{ID: "cred_old", Provider: "openai", Name: "old", Weight: 1, Last4: "wxyz", MasterID: v.ID()}
	cr.Sealed, _ = v.SealCredential(cr.ID, cr.Provider, credSecret)
	if err := db.CreateCredential(context.Background(), &cr); err != nil {
		t.Fatal(err)
	}
	api := serveCredentials(t, db, nil)
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/admin/v1/credentials", `{"provider":"openai","key":"` + credSecret2 + `"}`},
		{"PATCH", "/admin/v1/credentials/cred_old", `{"key":"` + credSecret2 + `"}`},
	} {
		r := api.do(t, testKey, tc.method, tc.path, tc.body)
		wantStatus(t, r, http.StatusServiceUnavailable)
		e := decodeError(t, r)
		if deref(e.Error.Code) != "vault_locked" || !strings.Contains(e.Error.Message, "SLUICE_MASTER_KEY") {
			t.Errorf("%s %s: %s", tc.method, tc.path, r.body)
		}
	}
	wantStatus(t, api.do(t, testKey, "GET", "/admin/v1/credentials", ""), http.StatusOK)
	wantStatus(t, api.do(t, testKey, "GET", "/admin/v1/credentials/cred_old", ""), http.StatusOK)
	// What needs no master key still works.
	r := api.do(t, testKey, "PATCH", "/admin/v1/credentials/cred_old", `{"disabled":true}`)
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, api.do(t, testKey, "DELETE", "/admin/v1/credentials/cred_old", ""), http.StatusNoContent)
	api.noSecret(t, credSecret, credSecret2)
}

func TestCredentialsRBAC(t *testing.T) {
	db := backends[0].open(t)
	api := serveCredentials(t, db, newTestVault(t))
	body := `{"provider":"openai","key":"` + credSecret + `"}`
	r := api.do(t, testKey, "POST", "/admin/v1/credentials", body)
	wantStatus(t, r, http.StatusCreated)
	var c credObject
	decodeStrict(t, r.body, &c)
	for _, tc := range []struct {
		name          string
		key           store.Key
		read, write   int
		deniedAudited bool
	}{
		{"owner", store.Key{Role: "owner"}, 200, 201, false},
		{"admin", store.Key{Role: "admin"}, 200, 201, false},
		{"tenant admin", store.Key{Role: "admin", TenantID: "t1"}, 200, 403, true},
		{"viewer", store.Key{Role: "viewer"}, 200, 403, true},
		{"member", store.Key{Role: "member", TeamID: "team1"}, 403, 403, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret, _ := mint(t, db, tc.key)
			wantStatus(t, api.do(t, secret, "GET", "/admin/v1/credentials", ""), tc.read)
			wantStatus(t, api.do(t, secret, "GET", "/admin/v1/credentials/"+c.ID, ""), tc.read)
			wantStatus(t, api.do(t, secret, "POST", "/admin/v1/credentials", body), tc.write)
			patch := http.StatusOK
			if tc.write != 201 {
				patch = tc.write
			}
			wantStatus(t, api.do(t, secret, "PATCH", "/admin/v1/credentials/"+c.ID, `{"name":"x"}`), patch)
		})
	}
	entries, _ := readAudit(t, api.keyAPI, "action=credential.create")
	denied := 0
	for _, e := range entries {
		if e.Detail["result"] == "denied" {
			denied++
		}
	}
	if denied != 3 {
		t.Errorf("denied credential.create entries: %d, want 3", denied)
	}
	api.noSecret(t, credSecret)
}

// A body of any shape is refused or accepted without a panic, and the
// accepted key is what the rules allow; a refusal never quotes a key.
func FuzzCredentialBody(f *testing.F) {
	for _, s := range []string{
		`{"provider":"openai","key":"` + credSecret + `","weight":3,"name":"n"}`,
		`{"key":null}`, `{"key":"short"}`, `{"key":"has space in it"}`, `{"weight":0}`, `{"weight":-1}`,
		`{"weight":1e3}`, `{"key":"\u0000abcdefgh"}`, `{"key":"` + strings.Repeat("a", 5000) + `"}`, `[]`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fs, perr := parseFields(body)
		if perr != nil {
			return
		}
		key, perr := fs.secret()
		if perr != nil {
			var v any
			if raw, ok := fs["key"]; ok && json.Unmarshal(raw, &v) == nil {
				if s, ok := v.(string); ok && len(s) >= 8 && strings.Contains(perr.Message, s) {
					t.Fatalf("refusal quotes the key: %s", perr.Message)
				}
			}
		} else if key != nil {
			if len(*key) < minCredentialKey || len(*key) > maxCredentialKey {
				t.Fatalf("accepted a key of %d bytes", len(*key))
			}
			for i := 0; i < len(*key); i++ {
				if c := (*key)[i]; c <= ' ' || c > '~' {
					t.Fatalf("accepted a key with byte %#x", c)
				}
			}
		}
		if w, perr := fs.weight(); perr == nil && w != nil && (*w < 1 || *w > store.MaxCredentialWeight) {
			t.Fatalf("accepted weight %d", *w)
		}
	})
}

// serveCredentialsRacing is serveCredentials with hook run in every PATCH
// between its read of the credential and its write: where another writer
// (the gateway disabling a refused key) gets in.
func serveCredentialsRacing(t *testing.T, db *store.DB, v *vault.Vault, hook func()) *credAPI {
	t.Helper()
	ch := &credChanges{}
	now := func() time.Time { return testNow }
	logBuf := &lockedBuffer{}
	h, err := New(Options{Logs: db, Store: db, AdminKey: testKey, Now: now, Resolve: storeResolver(db, now),
		Vault: v, ProviderNames: func() []string { return []string{"openai"} }, CredentialChanged: ch.add,
		Logger: slog.New(slog.NewJSONHandler(logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.(*server).creds.afterRead = hook
	mux := http.NewServeMux()
	mux.Handle(Prefix+"/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &credAPI{keyAPI: &keyAPI{db: db, base: srv.URL, log: logBuf, changed: &changes{}}, vault: v, changes: ch}
}

// Regression: PATCH read the credential and wrote the whole row back, so
// a rename racing the gateway's disable of a refused key re-enabled it.
// The write is compare-and-set: a lost race is read again once (the
// disable is kept), and a second lost race is a 409.
func TestCredentialPatchKeepsConcurrentDisable(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var (
			mu     sync.Mutex
			races  int // how many reads the hook still races
			toggle bool
		)
		api := serveCredentialsRacing(t, db, newTestVault(t), nil)
		r := api.do(t, testKey, "POST", "/admin/v1/credentials", `{"provider":"openai","name":"prod","key":"`+credSecret+`"}`)
		wantStatus(t, r, http.StatusCreated)
		var c credObject
		decodeStrict(t, r.body, &c)
		hook := func() {
			mu.Lock()
			defer mu.Unlock()
			if races == 0 {
				return
			}
			races--
			// The gateway disables the key; later races re-enable and
			// disable it again, each a change of the version read.
			toggle = !toggle
			if toggle {
				if _, err := db.DisableCredential(ctx, c.ID, "the upstream answered HTTP 401 to this key", time.Time{}); err != nil {
					t.Error(err)
				}
				return
			}
			cur, err := db.GetCredential(ctx, c.ID)
			if err != nil {
				t.Error(err)
				return
			}
			cur.Disabled, cur.DisabledReason = false, ""
			if err := db.UpdateCredential(ctx, &cur); err != nil {
				t.Error(err)
			}
		}
		api = serveCredentialsRacing(t, db, api.vault, hook)

		mu.Lock()
		races = 1
		mu.Unlock()
		r = api.do(t, testKey, "PATCH", "/admin/v1/credentials/"+c.ID, `{"name":"renamed"}`)
		wantStatus(t, r, http.StatusOK)
		var got credObject
		decodeStrict(t, r.body, &got)
		stored, _ := db.GetCredential(ctx, c.ID)
		if !got.Disabled || !stored.Disabled || stored.Name != "renamed" || !strings.Contains(stored.DisabledReason, "401") {
			t.Errorf("a rename racing the gateway's disable: answered disabled=%v, stored name %q disabled=%v (%q); "+
				"want renamed and still disabled", got.Disabled, stored.Name, stored.Disabled, stored.DisabledReason)
		}

		// It keeps changing: 409, and nothing of the PATCH is written.
		mu.Lock()
		races = credentialPatchTries
		mu.Unlock()
		r = api.do(t, testKey, "PATCH", "/admin/v1/credentials/"+c.ID, `{"name":"again","weight":5}`)
		wantStatus(t, r, http.StatusConflict)
		if !strings.Contains(string(r.body), `"code":"conflict"`) {
			t.Errorf("lost race answer: %s", r.body)
		}
		if stored, _ := db.GetCredential(ctx, c.ID); stored.Name != "renamed" || stored.Weight != 1 {
			t.Errorf("a PATCH that lost its race wrote: name %q weight %d", stored.Name, stored.Weight)
		}
	})
}
