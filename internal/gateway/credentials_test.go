package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/vault"
)

// vaultConfig has one round-robin provider (oai), one weighted (wt), an
// Anthropic and a Gemini one, each with a configured key the vault keys
// replace.
const vaultConfig = `
server: { max_body_bytes: 65536, data_dir: "DATADIR" }
log: { level: debug }
request_log: { flush_interval: 10ms }
auth: { require_keys: false, key_refresh: 100ms }
providers:
  - { name: oai, type: openai, base_url: "MOCK/v1", api_key: "sk-config-oai-secret" }
  - { name: wt, type: openai, base_url: "MOCK/v1", api_key: "sk-config-wt-secret", key_selection: weighted }
  - { name: claude, type: anthropic, base_url: "MOCK", api_key: "sk-config-claude-secret" }
  - { name: gem, type: gemini, base_url: "MOCK", api_key: "config-gem-secret" }
`

// vaultEnv is a gateway with a master key (or none) in front of the
// mock; it keeps every admin answer, to prove no secret is in any.
type vaultEnv struct {
	*testEnv
	vault   *vault.Vault
	mu      sync.Mutex
	answers []string
}

func testVault(t *testing.T, b byte) *vault.Vault {
	t.Helper()
	v, err := vault.New(bytes.Repeat([]byte{b}, vault.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newVaultEnv starts a gateway over dataDir (a new one when "") with v as
// its vault (nil: locked).
func newVaultEnv(t *testing.T, v *vault.Vault, dataDir string) *vaultEnv {
	t.Helper()
	m := mock.New(mock.Options{StreamChunks: 2})
	ms := httptest.NewServer(m)
	t.Cleanup(ms.Close)
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	text := strings.NewReplacer("MOCK", ms.URL, "DATADIR", dataDir).Replace(vaultConfig)
	cfg, err := config.Parse([]byte(text), "vault.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := serveConfig(t, cfg, v, "gateway")
	env.mock, env.mockURL = m, ms.URL
	return &vaultEnv{testEnv: env, vault: v}
}

// admin calls the admin API as the bootstrap owner and keeps the answer.
func (e *vaultEnv) admin(method, path, body string) (int, []byte) {
	e.t.Helper()
	resp, b := e.adminDo(method, path, body)
	e.mu.Lock()
	e.answers = append(e.answers, string(b))
	e.mu.Unlock()
	return resp.StatusCode, b
}

type credView struct {
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

// addCred stores secret for provider through the admin API.
func (e *vaultEnv) addCred(provider, name, secret string, weight int) credView {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"provider": provider, "name": name, "key": secret, "weight": weight})
	st, b := e.admin(http.MethodPost, "/admin/v1/credentials", string(body))
	if st != http.StatusCreated {
		e.t.Fatalf("create credential: %d %s", st, b)
	}
	var c credView
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		e.t.Fatalf("credential answer (%v): %s", err, b)
	}
	return c
}

// chat sends one chat to model and returns the status and the key the
// mock received in header.
func (e *vaultEnv) chat(model, header string) (int, string) {
	e.t.Helper()
	resp, b := e.post("/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadGateway {
		e.t.Fatalf("chat: %d %s", resp.StatusCode, b)
	}
	return resp.StatusCode, strings.TrimPrefix(e.lastUpstream().header(header), "Bearer ")
}

// noSecrets fails the test if any admin answer or log line holds one of
// secrets, or all of one but its last four characters.
func (e *vaultEnv) noSecrets(secrets ...string) {
	e.t.Helper()
	e.mu.Lock()
	texts := append([]string{e.logText()}, e.answers...)
	e.mu.Unlock()
	for _, s := range secrets {
		for _, text := range texts {
			if strings.Contains(text, s) || strings.Contains(text, s[:len(s)-4]) {
				e.t.Fatalf("a secret leaked into an answer or the log:\n%s", text)
			}
		}
	}
}

const (
	secretA = "sk-vault-alpha-0123456789AAAA"
	secretB = "sk-vault-bravo-0123456789BBBB"
	secretC = "sk-vault-charlie-012345678CCC"
)

func TestVaultRoundRobinAndSealedAtRest(t *testing.T) {
	e := newVaultEnv(t, testVault(t, 1), "")
	// No vault key yet: the configured key.
	if _, got := e.chat("oai/gpt-4o-mini", "Authorization"); got != "sk-config-oai-secret" {
		t.Fatalf("without vault keys, sent %q; want the configured key", got)
	}
	a := e.addCred("oai", "alpha", secretA, 1)
	e.addCred("oai", "bravo", secretB, 1)
	e.addCred("oai", "charlie", secretC, 1)
	if a.Last4 != "AAAA" || a.Provider != "oai" || a.Weight != 1 || a.Disabled || a.Object != "credential" {
		t.Errorf("created credential %+v", a)
	}
	counts := map[string]int{}
	var order []string
	for range 9 {
		_, got := e.chat("oai/gpt-4o-mini", "Authorization")
		counts[got]++
		order = append(order, got)
	}
	for _, s := range []string{secretA, secretB, secretC} {
		if counts[s] != 3 {
			t.Errorf("round robin over 9 requests: %d for …%s, want 3 (order %q)", counts[s], s[len(s)-4:], order)
		}
	}
	if counts["sk-config-oai-secret"] != 0 {
		t.Error("the configured key was sent while vault keys exist")
	}
	// Streams take keys from the same pool.
	resp, _ := e.post("/v1/chat/completions", `{"model":"oai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if got := strings.TrimPrefix(e.lastUpstream().header("Authorization"), "Bearer "); resp.StatusCode != 200 || !strings.HasPrefix(got, "sk-vault-") {
		t.Errorf("stream: %d, sent %q", resp.StatusCode, got)
	}
	// Another provider is untouched.
	if _, got := e.chat("claude/claude-haiku-4-5", "X-Api-Key"); got != "sk-config-claude-secret" {
		t.Errorf("claude sent %q, want its configured key", got)
	}
	// At rest, only sealed bytes: never the secret.
	all, err := e.store.ListAllCredentials(context.Background())
	if err != nil || len(all) != 3 {
		t.Fatalf("ListAllCredentials = %d, %v", len(all), err)
	}
	for _, c := range all {
		for _, s := range []string{secretA, secretB, secretC} {
			if bytes.Contains(c.Sealed, []byte(s)) || bytes.Contains(c.Sealed, []byte(s[:12])) {
				t.Errorf("credential %s: the stored bytes hold a secret", c.ID)
			}
		}
		if c.MasterID != e.vault.ID() {
			t.Errorf("credential %s: master_id %q, want %q", c.ID, c.MasterID, e.vault.ID())
		}
	}
	st, b := e.admin(http.MethodGet, "/admin/v1/credentials?provider=oai", "")
	if st != 200 || strings.Count(string(b), `"object":"credential"`) != 3 {
		t.Errorf("list: %d %s", st, b)
	}
	e.admin(http.MethodGet, "/admin/v1/credentials/"+a.ID, "")
	e.admin(http.MethodGet, "/admin/v1/audit", "")
	e.noSecrets(secretA, secretB, secretC)
}

func TestVaultWeighted(t *testing.T) {
	e := newVaultEnv(t, testVault(t, 2), "")
	e.addCred("wt", "heavy", secretA, 3)
	e.addCred("wt", "light", secretB, 1)
	counts := map[string]int{}
	for range 40 {
		_, got := e.chat("wt/gpt-4o-mini", "Authorization")
		counts[got]++
	}
	if counts[secretA] < 26 || counts[secretA] > 34 || counts[secretA]+counts[secretB] != 40 {
		t.Errorf("weights 3:1 over 40 requests gave %d:%d", counts[secretA], counts[secretB])
	}
	e.noSecrets(secretA, secretB)
}

func TestVaultDisablesRefusedKey(t *testing.T) {
	e := newVaultEnv(t, testVault(t, 3), "")
	a := e.addCred("oai", "alpha", secretA, 1)
	b := e.addCred("oai", "bravo", secretB, 1)
	e.mock.InjectFault(mock.Fault{Status: http.StatusUnauthorized})
	st, refused := e.chat("oai/gpt-4o-mini", "Authorization")
	if st != http.StatusBadGateway {
		t.Fatalf("under a 401 the gateway answered %d", st)
	}
	refusedID := a.ID
	if refused == secretB {
		refusedID = b.ID
	} else if refused != secretA {
		t.Fatalf("the refused request carried %q", refused)
	}
	// The very next requests succeed, with the other key only.
	for range 4 {
		st, got := e.chat("oai/gpt-4o-mini", "Authorization")
		if st != http.StatusOK || got == refused {
			t.Fatalf("after the refusal: %d with the refused key=%v", st, got == refused)
		}
	}
	// The store has it disabled, with the reason; the API shows it.
	var view credView
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := e.admin(http.MethodGet, "/admin/v1/credentials/"+refusedID, "")
		json.Unmarshal(body, &view) //nolint:errcheck
		if view.Disabled || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !view.Disabled || !strings.Contains(view.DisabledReason, "401") {
		t.Fatalf("refused credential: %+v", view)
	}
	// An alert event names it.
	var evs []store.Event
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		evs, _, _ = e.store.ListEvents(context.Background(), store.EventFilter{Kind: "credential.disabled"})
		if len(evs) > 0 {
			break
		}
	}
	if len(evs) != 1 || evs[0].Subject != "credential:"+refusedID || evs[0].Detail["status"] != "401" {
		t.Fatalf("credential.disabled events: %+v", evs)
	}
	if !strings.Contains(e.logText(), "the upstream refused a stored key") {
		t.Error("no warning logged for the refused key")
	}
	// Re-enabling puts it back in the rotation at once.
	if st, body := e.admin(http.MethodPatch, "/admin/v1/credentials/"+refusedID, `{"disabled":false}`); st != 200 ||
		!strings.Contains(string(body), `"disabled_reason":""`) {
		t.Fatalf("re-enable: %d %s", st, body)
	}
	seen := map[string]bool{}
	for range 4 {
		_, got := e.chat("oai/gpt-4o-mini", "Authorization")
		seen[got] = true
	}
	if !seen[secretA] || !seen[secretB] {
		t.Errorf("after re-enabling, keys used: %v", len(seen))
	}
	e.noSecrets(secretA, secretB)
	for _, ev := range evs {
		for _, s := range []string{secretA, secretB} {
			if strings.Contains(ev.Message, s[:12]) || strings.Contains(strings.Join(mapValues(ev.Detail), " "), s[:12]) {
				t.Errorf("the event holds a secret: %+v", ev)
			}
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// When every vault key of a provider is refused, the configured key is
// sent again.
func TestVaultLastKeyRefusedFallsBack(t *testing.T) {
	e := newVaultEnv(t, testVault(t, 4), "")
	e.addCred("oai", "alpha", secretA, 1)
	e.mock.InjectFault(mock.Fault{Status: http.StatusUnauthorized})
	if st, got := e.chat("oai/gpt-4o-mini", "Authorization"); st != http.StatusBadGateway || got != secretA {
		t.Fatalf("under a 401: %d with %q", st, got)
	}
	if st, got := e.chat("oai/gpt-4o-mini", "Authorization"); st != http.StatusOK || got != "sk-config-oai-secret" {
		t.Fatalf("after the only vault key was refused: %d with %q, want the configured key", st, got)
	}
	e.noSecrets(secretA)
}

func TestVaultRotationWithoutRestart(t *testing.T) {
	e := newVaultEnv(t, testVault(t, 5), "")
	a := e.addCred("oai", "alpha", secretA, 1)
	if _, got := e.chat("oai/gpt-4o-mini", "Authorization"); got != secretA {
		t.Fatalf("before rotation: %q", got)
	}
	st, body := e.admin(http.MethodPatch, "/admin/v1/credentials/"+a.ID, `{"key":"`+secretC+`","name":"alpha-2"}`)
	if st != 200 || !strings.Contains(string(body), `"last4":"`+secretC[len(secretC)-4:]+`"`) {
		t.Fatalf("rotate: %d %s", st, body)
	}
	for range 3 {
		if _, got := e.chat("oai/gpt-4o-mini", "Authorization"); got != secretC {
			t.Fatalf("after rotation the mock got the old key=%v", got == secretA)
		}
	}
	_, audit := e.admin(http.MethodGet, "/admin/v1/audit", "")
	for _, action := range []string{"credential.create", "credential.rotate"} {
		if !strings.Contains(string(audit), `"action":"`+action+`"`) {
			t.Errorf("audit lacks %s: %s", action, audit)
		}
	}
	if !strings.Contains(string(audit), `"last4":"`+secretC[len(secretC)-4:]+`"`) {
		t.Errorf("the rotate entry lacks the new last4: %s", audit)
	}
	if st, _ := e.admin(http.MethodDelete, "/admin/v1/credentials/"+a.ID, ""); st != http.StatusNoContent {
		t.Fatalf("delete: %d", st)
	}
	if _, got := e.chat("oai/gpt-4o-mini", "Authorization"); got != "sk-config-oai-secret" {
		t.Errorf("after delete the mock got %q, want the configured key", got)
	}
	e.noSecrets(secretA, secretC)
}

// A credential written by another replica (straight to the store) is
// picked up by the refresh.
func TestVaultRefreshSeesOtherReplicas(t *testing.T) {
	e := newVaultEnv(t, testVault(t, 6), "")
	c := store.Credential{ID: "cred_other_replica", Provider: "oai", Name: "elsewhere", Weight: 1,
		MasterID: e.vault.ID(), Last4: secretB[len(secretB)-4:]}
	var err error
	if c.Sealed, err = e.vault.SealCredential(c.ID, c.Provider, secretB); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateCredential(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, got := e.chat("oai/gpt-4o-mini", "Authorization"); got == secretB {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresh never picked up the credential")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A disable elsewhere is picked up too.
	if _, err := e.store.DisableCredential(context.Background(), c.ID, "by hand", time.Time{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, got := e.chat("oai/gpt-4o-mini", "Authorization"); got == "sk-config-oai-secret" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresh never picked up the disable")
		}
	}
}

func TestVaultWrongMasterKey(t *testing.T) {
	dir := t.TempDir()
	first := newVaultEnv(t, testVault(t, 7), dir)
	cr := first.addCred("oai", "alpha", secretA, 1)
	first.gw.Close()
	first.svc.Close(context.Background())

	// The same data under another master key: the gateway starts, says
	// why the key is unusable, reports it, and sends the configured key.
	e := newVaultEnv(t, testVault(t, 8), dir)
	log := e.logText()
	if !strings.Contains(log, "cannot be used: sealed under another master key") || !strings.Contains(log, cr.ID) {
		t.Errorf("no clear startup error for the unusable key:\n%s", log)
	}
	if _, got := e.chat("oai/gpt-4o-mini", "Authorization"); got != "sk-config-oai-secret" {
		t.Errorf("with an unusable vault key, sent %q; want the configured key", got)
	}
	var evs []store.Event
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		evs, _, _ = e.store.ListEvents(context.Background(), store.EventFilter{Kind: "credential.unusable"})
		if len(evs) > 0 {
			break
		}
	}
	if len(evs) != 1 || evs[0].Subject != "credential:"+cr.ID || evs[0].Severity != store.SeverityCritical {
		t.Errorf("credential.unusable events: %+v", evs)
	}
	// Rotating the key re-seals it under the current master key.
	if st, b := e.admin(http.MethodPatch, "/admin/v1/credentials/"+cr.ID, `{"key":"`+secretB+`"}`); st != 200 {
		t.Fatalf("rotate: %d %s", st, b)
	}
	if _, got := e.chat("oai/gpt-4o-mini", "Authorization"); got != secretB {
		t.Errorf("after re-sealing, sent %q", got)
	}
	e.noSecrets(secretA, secretB)
}

func TestVaultLocked(t *testing.T) {
	e := newVaultEnv(t, nil, "")
	st, b := e.admin(http.MethodPost, "/admin/v1/credentials", `{"provider":"oai","key":"`+secretA+`"}`)
	if st != http.StatusServiceUnavailable || !strings.Contains(string(b), `"code":"vault_locked"`) ||
		!strings.Contains(string(b), "SLUICE_MASTER_KEY") {
		t.Fatalf("POST without a master key: %d %s", st, b)
	}
	if st, b := e.admin(http.MethodGet, "/admin/v1/credentials", ""); st != 200 || !strings.Contains(string(b), `"data":[]`) {
		t.Errorf("GET without a master key: %d %s", st, b)
	}
	if _, got := e.chat("oai/gpt-4o-mini", "Authorization"); got != "sk-config-oai-secret" {
		t.Errorf("sent %q, want the configured key", got)
	}
	e.noSecrets(secretA)
}
