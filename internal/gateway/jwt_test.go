package gateway_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/gateway"
)

// idpKey is an identity provider's signing key.
type idpKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

// idpKeys are made once per test binary: RSA generation is slow.
var idpKeys = sync.OnceValue(func() map[string]idpKey {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]idpKey{
		"rs256":    {"rsa-1", jose.RS256, rsaKey},
		"es256":    {"ec-1", jose.ES256, ecKey},
		"eddsa":    {"ed-1", jose.EdDSA, edKey},
		"stranger": {"ec-1", jose.ES256, stranger}, // the IdP's kid, not its key
	}
})

func idpKeyNamed(name string) idpKey { return idpKeys()[name] }

// testIDP serves a fixed JWKS on 127.0.0.1 (key rotation is
// TestJWTKeyRotation's, with an injected clock).
type testIDP struct {
	srv  *httptest.Server
	keys []idpKey
}

func newTestIDP(t testing.TB, keys ...idpKey) *testIDP {
	t.Helper()
	p := &testIDP{keys: keys}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var set jose.JSONWebKeySet
		for _, k := range p.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set) //nolint:errcheck
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// jwtYAML is the auth section of the JWT tests (failed attempts
// unlimited unless a test says otherwise).
func (p *testIDP) jwtYAML(extra string) string {
	return "auth:\n  require_keys: true\n" + extra + "  jwt:\n    jwks_url: " + p.srv.URL + "/jwks.json\n" +
		"    issuer: https://idp.example\n    audience: [sluice, other]\n" +
		"    tenant_claim: org\n    team_claim: team\n    roles_claim: https://sluice.dev/roles\n    models_claim: models\n"
}

// goodClaims are valid claims for now, with edits applied.
func goodClaims(edits map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": "https://idp.example", "aud": "sluice", "sub": "user-1", "org": "acme",
		"team": "research", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Unix()}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// signJWT makes a compact JWT with k.
func signJWT(t testing.TB, k idpKey, c map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// handMadeJWT builds a token with any header, signing header.payload
// with sign (nil: an empty signature).
func handMadeJWT(t testing.TB, header, claims map[string]any, sign func([]byte) []byte) string {
	t.Helper()
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + enc.EncodeToString(sig)
}

func TestJWTCredentials(t *testing.T) {
	idp := newTestIDP(t, idpKeyNamed("rs256"), idpKeyNamed("es256"), idpKeyNamed("eddsa"))
	env := newEnvWith(t, idp.jwtYAML("  failed_per_minute: 0\n"))
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	var presented []string

	for _, alg := range []string{"rs256", "es256", "eddsa"} {
		t.Run("good "+alg, func(t *testing.T) {
			tok := signJWT(t, idpKeyNamed(alg), goodClaims(nil))
			presented = append(presented, tok)
			resp, body := env.post("/v1/chat/completions", chatBody, bearer(tok)...)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			rec := env.record(resp.Header.Get("X-Request-Id"))
			if rec.KeyID != "jwt:user-1" || rec.TenantID != "acme" || rec.TeamID != "research" {
				t.Errorf("record key %q tenant %q team %q; want jwt:user-1, acme, research", rec.KeyID, rec.TenantID, rec.TeamID)
			}
		})
	}
	t.Run("x-api-key works too", func(t *testing.T) {
		tok := signJWT(t, idpKeyNamed("es256"), goodClaims(nil))
		presented = append(presented, tok)
		if resp, body := env.post("/v1/chat/completions", chatBody, "X-Api-Key", tok); resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
	t.Run("models claim limits the models", func(t *testing.T) {
		tok := signJWT(t, idpKeyNamed("rs256"), goodClaims(map[string]any{"models": []string{"other-*"}}))
		presented = append(presented, tok)
		resp, body := env.post("/v1/chat/completions", chatBody, bearer(tok)...)
		if resp.StatusCode != 403 || deref(decodeAPIError(t, body).Error.Code) != "model_not_allowed" {
			t.Errorf("status %d: %s", resp.StatusCode, body)
		}
	})

	rsaPub, _ := x509.MarshalPKIXPublicKey(idpKeyNamed("rs256").priv.Public())
	now := time.Now()
	bad := []struct {
		name, token string
	}{
		{"expired", signJWT(t, idpKeyNamed("rs256"), goodClaims(map[string]any{"exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-2 * time.Hour).Unix(), "nbf": now.Add(-2 * time.Hour).Unix()}))},
		{"not yet valid", signJWT(t, idpKeyNamed("es256"), goodClaims(map[string]any{"nbf": now.Add(time.Hour).Unix()}))},
		{"wrong issuer", signJWT(t, idpKeyNamed("eddsa"), goodClaims(map[string]any{"iss": "https://evil.example"}))},
		{"wrong audience", signJWT(t, idpKeyNamed("rs256"), goodClaims(map[string]any{"aud": "someone-else"}))},
		{"no exp", signJWT(t, idpKeyNamed("rs256"), goodClaims(map[string]any{"exp": nil}))},
		{"no sub", signJWT(t, idpKeyNamed("rs256"), goodClaims(map[string]any{"sub": nil}))},
		{"no tenant claim", signJWT(t, idpKeyNamed("rs256"), goodClaims(map[string]any{"org": nil}))},
		{"signed by a stranger with the IdP's kid", signJWT(t, idpKeyNamed("stranger"), goodClaims(nil))},
		{"alg none", handMadeJWT(t, map[string]any{"alg": "none", "typ": "JWT"}, goodClaims(nil), nil)},
		{"HS256 keyed with the public key", handMadeJWT(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, goodClaims(nil),
			func(in []byte) []byte { m := hmac.New(sha256.New, rsaPub); m.Write(in); return m.Sum(nil) })},
		{"tampered payload", func() string {
			tok := signJWT(t, idpKeyNamed("rs256"), goodClaims(nil))
			parts := strings.Split(tok, ".")
			c, _ := json.Marshal(goodClaims(map[string]any{"sub": "admin"}))
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(c) + "." + parts[2]
		}()},
		{"not base64", "eyJhbGciOiJSUzI1NiJ9.%%%.abc"},
		{"garbage segments", "aaa.bbb.ccc"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			presented = append(presented, tc.token)
			resp, body := env.post("/v1/chat/completions", chatBody, bearer(tc.token)...)
			if resp.StatusCode != 401 {
				t.Fatalf("status %d, want 401: %s", resp.StatusCode, body)
			}
			e := decodeAPIError(t, body)
			if deref(e.Error.Code) != "invalid_api_key" || !strings.Contains(e.Error.Message, "valid Sluice key") {
				t.Errorf("error %+v: want the generic invalid_api_key", e.Error)
			}
		})
	}
	logs := env.logText()
	for _, tok := range presented {
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		if strings.Contains(logs, tok) || len(sig) > 8 && strings.Contains(logs, sig) {
			t.Errorf("a presented token appears in the log: %.40s…", tok)
		}
	}
	for _, reason := range []string{"reason=\"auth: invalid token: expired\"", "not valid yet", "wrong issuer",
		"wrong audience", "bad signature", "missing or bad tenant claim"} {
		if !strings.Contains(logs, reason) {
			t.Errorf("the log does not give the reason %q", reason)
		}
	}
}

func TestJWTKeysStillWork(t *testing.T) {
	idp := newTestIDP(t, idpKeyNamed("rs256"))
	env := newEnvWith(t, idp.jwtYAML(""))
	id, secret := env.createKey(`{"name":"app"}`)
	resp, body := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+secret)
	if resp.StatusCode != 200 {
		t.Fatalf("a gateway key with JWT configured: %d %s", resp.StatusCode, body)
	}
	if rec := env.record(resp.Header.Get("X-Request-Id")); rec.KeyID != id {
		t.Errorf("record key %q, want %q", rec.KeyID, id)
	}
}

// TestJWTFailuresCountAsFailedAuth: bad tokens spend the address's failed
// attempts like bad keys, and then even a good token gets 429.
func TestJWTFailuresCountAsFailedAuth(t *testing.T) {
	idp := newTestIDP(t, idpKeyNamed("es256"))
	env := newEnvWith(t, idp.jwtYAML("  failed_per_minute: 3\n"))
	wrong := signJWT(t, idpKeyNamed("stranger"), goodClaims(nil))
	for i := range 3 {
		if resp, _ := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+wrong); resp.StatusCode != 401 {
			t.Fatalf("bad token %d: status %d, want 401", i, resp.StatusCode)
		}
	}
	good := signJWT(t, idpKeyNamed("es256"), goodClaims(nil))
	resp, body := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+good)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("good token after 3 failures: %d %s", resp.StatusCode, body)
	}
}

// TestJWTRolesOpenTheAdminAPI: the roles claim decides admin access; the
// audit trail names the token's subject.
func TestJWTRolesOpenTheAdminAPI(t *testing.T) {
	idp := newTestIDP(t, idpKeyNamed("rs256"), idpKeyNamed("eddsa"))
	env := newEnvWith(t, idp.jwtYAML("  failed_per_minute: 0\n"))
	const roles = "https://sluice.dev/roles"
	call := func(token, method, path, body string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, env.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		return env.do(req)
	}
	// The tenant claim is required by the config: give admins one.
	owner := signJWT(t, idpKeyNamed("rs256"), goodClaims(map[string]any{"sub": "alice", roles: []string{"member", "owner"}, "team": nil}))
	viewer := signJWT(t, idpKeyNamed("rs256"), goodClaims(map[string]any{"sub": "victor", roles: "viewer", "team": nil}))
	none := signJWT(t, idpKeyNamed("rs256"), goodClaims(map[string]any{"sub": "nobody", roles: []string{"unknown-role"}}))

	if resp, body := call(owner, http.MethodPost, "/admin/v1/keys", `{"name":"made-by-jwt"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("owner token creating a key: %d %s", resp.StatusCode, body)
	}
	if resp, body := call(viewer, http.MethodGet, "/admin/v1/keys", ""); resp.StatusCode != 200 {
		t.Errorf("viewer token listing keys: %d %s", resp.StatusCode, body)
	}
	if resp, body := call(viewer, http.MethodPost, "/admin/v1/keys", `{"name":"x"}`); resp.StatusCode != 403 {
		t.Errorf("viewer token creating a key: %d %s, want 403", resp.StatusCode, body)
	}
	if resp, body := call(none, http.MethodGet, "/admin/v1/keys", ""); resp.StatusCode != 401 {
		t.Errorf("token without an admin role: %d %s, want 401", resp.StatusCode, body)
	}
	expired := signJWT(t, idpKeyNamed("rs256"), goodClaims(map[string]any{"sub": "alice", roles: "owner",
		"exp": time.Now().Add(-time.Hour).Unix(), "nbf": time.Now().Add(-2 * time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix()}))
	if resp, body := call(expired, http.MethodGet, "/admin/v1/keys", ""); resp.StatusCode != 401 {
		t.Errorf("expired owner token: %d %s, want 401", resp.StatusCode, body)
	}
	// The owner's token also serves traffic.
	if resp, body := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+owner); resp.StatusCode != 200 {
		t.Errorf("owner token on /v1: %d %s", resp.StatusCode, body)
	}

	resp, body := env.adminDo(http.MethodGet, "/admin/v1/audit?action=key.create", "")
	var audit struct {
		Data []struct {
			Actor      string `json:"actor"`
			ActorKeyID string `json:"actor_key_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &audit); err != nil || resp.StatusCode != 200 || len(audit.Data) == 0 {
		t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
	found := false
	for _, a := range audit.Data {
		found = found || a.Actor == "jwt:alice" && a.ActorKeyID == "jwt:alice"
	}
	if !found {
		t.Errorf("no key.create audit entry by jwt:alice: %s", body)
	}
	logs := env.logText()
	for _, tk := range []string{owner, viewer, none, expired} {
		if strings.Contains(logs, tk[strings.LastIndexByte(tk, '.')+1:]) {
			t.Error("a token appears in the log")
		}
	}
	if !strings.Contains(logs, "no admin role") {
		t.Error("the refused role-less token is not logged with its reason")
	}
}

// TestJWTDisabledTeamIsRefused: a token naming a disabled team fails like
// a revoked key.
func TestJWTDisabledTeamIsRefused(t *testing.T) {
	idp := newTestIDP(t, idpKeyNamed("es256"))
	env := newEnvWith(t, idp.jwtYAML("  failed_per_minute: 0\n"))
	create := func(path, body string) string {
		resp, b := env.adminDo(http.MethodPost, path, body)
		var o struct {
			ID string `json:"id"`
		}
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &o) != nil || o.ID == "" {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return o.ID
	}
	tenant := create("/admin/v1/tenants", `{"name":"Acme"}`)
	team := create("/admin/v1/teams", `{"tenant_id":"`+tenant+`","name":"Research"}`)
	tok := signJWT(t, idpKeyNamed("es256"), goodClaims(map[string]any{"org": tenant, "team": team}))
	if resp, body := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+tok); resp.StatusCode != 200 {
		t.Fatalf("before disabling: %d %s", resp.StatusCode, body)
	}
	if resp, body := env.adminDo(http.MethodPatch, "/admin/v1/teams/"+team, `{"disabled":true}`); resp.StatusCode != 200 {
		t.Fatalf("disable team: %d %s", resp.StatusCode, body)
	}
	if resp, body := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+tok); resp.StatusCode != 401 {
		t.Errorf("after disabling the team: %d %s, want 401", resp.StatusCode, body)
	}
}

// FuzzGatewayBearer: whatever bearer a client sends to a gateway that
// accepts JWTs and keys, the answer is a 401 (never a panic, never a
// pass).
func FuzzGatewayBearer(f *testing.F) {
	for _, seed := range []string{
		"", "x", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiJ4In0.AAAA",
		"sk-sluice-" + strings.Repeat("A", 43), "eyJ.eyJ.eyJ", strings.Repeat("a.", 1000) + "a", "..", "a..b",
		"eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIn0.c2lnbmF0dXJl",
	} {
		f.Add(seed)
	}
	idp := newTestIDP(f, idpKeyNamed("rs256"))
	f.Add(signJWT(f, idpKeyNamed("stranger"), goodClaims(nil)))
	f.Add(handMadeJWT(f, map[string]any{"alg": "none"}, goodClaims(nil), nil))
	text := strings.NewReplacer("MOCK", "http://127.0.0.1:9", "DATADIR", f.TempDir(),
		"auth: { require_keys: false }\n", "").Replace(envConfig)
	cfg, err := config.Parse([]byte(text+idp.jwtYAML("  failed_per_minute: 0\n")), "fuzz.yaml")
	if err != nil {
		f.Fatal(err)
	}
	svc, err := gateway.OpenServices(context.Background(), cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { svc.Close(context.Background()) })
	g, err := gateway.New(cfg, svc.Options(nil, ""))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(g.Close)
	h := g.Handler()
	f.Fuzz(func(t *testing.T, token string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(chatBody))
		req.Header["Authorization"] = []string{"Bearer " + token}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 401 {
			t.Fatalf("bearer %q: status %d, want 401: %s", token, w.Code, w.Body)
		}
	})
}

// TestAdminGuessingIsThrottledPerAddress: failed admin authentications
// spend the address's auth.failed_per_minute like failed keys on /v1;
// past it every request gets 429, the right admin token's too, and the
// 401s before never tell an unknown token from a revoked one.
func TestAdminGuessingIsThrottledPerAddress(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true, failed_per_minute: 4 }\n")
	revokedID, revoked := env.createKey(`{"name":"old-admin","role":"admin"}`)
	if resp, body := env.adminDo(http.MethodDelete, "/admin/v1/keys/"+revokedID, ""); resp.StatusCode/100 != 2 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	_, gatewayKey := env.createKey(`{"name":"app"}`)
	call := func(token string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, env.url+"/admin/v1/keys", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return env.do(req)
	}
	guesses := []string{"sk-sluice-" + strings.Repeat("G", 43), revoked, gatewayKey, "not-even-a-key-guess"}
	var bodies []string
	for _, g := range guesses {
		resp, body := call(g)
		if resp.StatusCode != 401 {
			t.Fatalf("guess: status %d, want 401: %s", resp.StatusCode, body)
		}
		bodies = append(bodies, string(body))
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("401 bodies differ, which tells keys apart:\n%s\n%s", bodies[0], b)
		}
	}
	resp, body := call(envAdminKey)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("the right admin token after 4 failures: %d (Retry-After %q) %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if e := decodeAPIError(t, body); deref(e.Error.Code) != "rate_limit_exceeded" {
		t.Errorf("429 code %q", deref(e.Error.Code))
	}
	// The count is per address and shared with /v1.
	if resp, _ := env.post("/v1/chat/completions", chatBody, "Authorization", "Bearer "+gatewayKey); resp.StatusCode != 429 {
		t.Errorf("/v1 from the same address: %d, want 429", resp.StatusCode)
	}
	logs := env.logText()
	for _, g := range guesses {
		if strings.Contains(logs, g) {
			t.Errorf("a presented token appears in the log: %.12s…", g)
		}
	}
	if !strings.Contains(logs, "too many failed authentications") {
		t.Error("the throttled admin request is not logged")
	}
}

// TestAdminRequestsWithoutATokenDoNotCount: a browser opening the admin
// API without a token is not a guess.
func TestAdminRequestsWithoutATokenDoNotCount(t *testing.T) {
	env := newEnvWith(t, "auth: { require_keys: true, failed_per_minute: 2 }\n")
	for range 5 {
		if resp, _ := env.get("/admin/v1/keys"); resp.StatusCode != 401 {
			t.Fatalf("no token: %d", resp.StatusCode)
		}
	}
	if resp, body := env.adminDo(http.MethodGet, "/admin/v1/keys", ""); resp.StatusCode != 200 {
		t.Errorf("admin token after tokenless requests: %d %s", resp.StatusCode, body)
	}
}
