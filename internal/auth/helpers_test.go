package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// testKey is a signing key with the kid and alg its tokens carry.
type testKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k testKey) public() crypto.PublicKey { return k.priv.Public() }

// jwk is the key's public JWK as an IdP would publish it.
func (k testKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// pemPublic is the key's public half as a PKIX PEM block.
func (k testKey) pemPublic(t testing.TB) string {
	der, err := x509.MarshalPKIXPublicKey(k.public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// Keys are generated once per test binary: RSA generation is slow.
var testKeys = sync.OnceValue(func() map[string]testKey {
	mustRSA := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	mustEC := func(c elliptic.Curve) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	mustEd := func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	return map[string]testKey{
		"rsa":      {"rsa-1", jose.RS256, mustRSA(2048)},
		"rsa2":     {"rsa-2", jose.RS256, mustRSA(2048)},
		"ec":       {"ec-1", jose.ES256, mustEC(elliptic.P256())},
		"ed":       {"ed-1", jose.EdDSA, mustEd()},
		"ec384":    {"ec-384", jose.ES384, mustEC(elliptic.P384())},
		"stranger": {"rsa-1", jose.RS256, mustRSA(2048)}, // same kid, unknown key
		"rsa1024":  {"rsa-small", jose.RS256, mustRSA(1024)},
	}
})

func tk(name string) testKey { return testKeys()[name] }

// testNow is the fixed instant tests sign and validate around.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// claims builds a standard good claim set at testNow, then applies edits.
func claims(edits ...func(m map[string]any)) map[string]any {
	m := map[string]any{
		"iss": "https://idp.example",
		"aud": "sluice",
		"sub": "user-42",
		"exp": testNow.Add(time.Hour).Unix(),
		"iat": testNow.Unix(),
		"nbf": testNow.Unix(),
	}
	for _, e := range edits {
		e(m)
	}
	return m
}

func withClaim(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
func withoutClaim(k string) func(map[string]any)     { return func(m map[string]any) { delete(m, k) } }

// sign makes a compact JWT with k; kid "" leaves the header without one.
func sign(t testing.TB, k testKey, kid string, c map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tok
}

// clock is an injectable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: testNow} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// idp is a JWKS endpoint on 127.0.0.1 whose keys and status tests change.
type idp struct {
	srv    *httptest.Server
	hits   atomic.Int64
	mu     sync.Mutex
	keys   []json.RawMessage
	status int
	gate   chan struct{} // when set, requests wait for it to close
	// arrived gets a value as each request reaches the handler (buffered;
	// sends that would block are dropped).
	arrived chan struct{}
}

// hold makes requests wait until release is called.
func (p *idp) hold() (release func()) {
	gate := make(chan struct{})
	p.mu.Lock()
	p.gate = gate
	p.mu.Unlock()
	return func() { close(gate) }
}

func newIDP(t testing.TB, keys ...testKey) *idp {
	t.Helper()
	p := &idp{status: http.StatusOK, arrived: make(chan struct{}, 64)}
	p.setKeys(t, keys...)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		select {
		case p.arrived <- struct{}{}:
		default:
		}
		p.mu.Lock()
		gate, status := p.gate, p.status
		body, _ := json.Marshal(map[string]any{"keys": p.keys})
		p.mu.Unlock()
		if gate != nil {
			<-gate
		}
		if status != http.StatusOK {
			http.Error(w, "down", status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) setKeys(t testing.TB, keys ...testKey) {
	t.Helper()
	var raws []json.RawMessage
	for _, k := range keys {
		b, err := json.Marshal(k.jwk())
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, b)
	}
	p.setRaw(raws...)
}

func (p *idp) setRaw(raws ...json.RawMessage) {
	p.mu.Lock()
	p.keys = raws
	p.mu.Unlock()
}

func (p *idp) setStatus(code int) {
	p.mu.Lock()
	p.status = code
	p.mu.Unlock()
}

// config returns a good JWKS config against p with clock c.
func (p *idp) config(c *clock) JWTConfig {
	return JWTConfig{
		JWKSURL:  p.srv.URL + "/jwks.json",
		Issuer:   "https://idp.example",
		Audience: []string{"sluice"},
		Now:      c.Now,
		Client:   p.srv.Client(),
	}
}

func mustValidator(t testing.TB, cfg JWTConfig) *JWTValidator {
	t.Helper()
	v, err := NewJWTValidator(cfg)
	if err != nil {
		t.Fatalf("NewJWTValidator: %v", err)
	}
	return v
}
