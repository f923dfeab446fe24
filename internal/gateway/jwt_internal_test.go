package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sluicehq/sluice/internal/auth"
)

// TestJWTKeyRotation: a token signed with a key the cached JWKS does not
// have (the IdP rotated) makes the gateway fetch the JWKS again — at most
// once per auth.MinRefreshGap, so unknown kids cannot hammer the IdP.
func TestJWTKeyRotation(t *testing.T) {
	newKey := func(kid string) (string, *ecdsa.PrivateKey) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return kid, k
	}
	kidA, keyA := newKey("a")
	kidB, keyB := newKey("b")
	var (
		mu        sync.Mutex
		published = map[string]*ecdsa.PrivateKey{kidA: keyA}
		fetches   int
	)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		var set jose.JSONWebKeySet
		for kid, k := range published {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
		}
		json.NewEncoder(w).Encode(set) //nolint:errcheck
	}))
	defer idp.Close()
	fetched := func() int {
		mu.Lock()
		defer mu.Unlock()
		return fetches
	}

	g, _, _ := newTestGateway(t, "auth:\n  require_keys: true\n  failed_per_minute: 0\n  jwt:\n    jwks_url: "+idp.URL+
		"\n    issuer: idp\n    audience: [sluice]\n")
	c := &testClock{t: time.Now()}
	jc, err := g.cfg.Auth.JWT.AuthConfig()
	if err != nil {
		t.Fatal(err)
	}
	jc.Now = c.Now
	if g.jwt, err = auth.NewJWTValidator(jc); err != nil {
		t.Fatal(err)
	}
	sign := func(kid string, k *ecdsa.PrivateKey) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{}).WithHeader("kid", kid))
		if err != nil {
			t.Fatal(err)
		}
		now := c.Now()
		tok, err := jwt.Signed(s).Claims(map[string]any{"iss": "idp", "aud": "sluice", "sub": "u",
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	status := func(tok string) int { return send(g, "192.0.2.1:1", tok).Code }

	if s := status(sign(kidA, keyA)); s != 200 || fetched() != 1 {
		t.Fatalf("key A: %d after %d fetches; want 200 after 1", s, fetched())
	}
	// The IdP starts signing with B. Within MinRefreshGap of the first
	// fetch, B is not fetched again.
	mu.Lock()
	published[kidB] = keyB
	mu.Unlock()
	if s := status(sign(kidB, keyB)); s != 401 || fetched() != 1 {
		t.Fatalf("key B within the refresh gap: %d after %d fetches; want 401 after 1", s, fetched())
	}
	c.Advance(auth.MinRefreshGap + time.Second)
	if s := status(sign(kidB, keyB)); s != 200 || fetched() != 2 {
		t.Fatalf("key B after the gap: %d after %d fetches; want 200 after 2 (the unknown kid refetched)", s, fetched())
	}
	// A and B both work now, without further fetches.
	for range 5 {
		if s := status(sign(kidA, keyA)); s != 200 {
			t.Fatalf("key A after the rotation: %d", s)
		}
	}
	// Unknown kids right after a fetch do not trigger another.
	_, keyC := newKey("c")
	for range 5 {
		if s := status(sign("c", keyC)); s != 401 {
			t.Fatalf("unknown kid c: %d", s)
		}
	}
	if fetched() != 2 {
		t.Errorf("%d fetches after unknown kids, want 2", fetched())
	}
}
