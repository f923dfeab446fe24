package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStaticPEMKeys(t *testing.T) {
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY",
		Bytes: x509.MarshalPKCS1PublicKey(tk("rsa2").public().(*rsa.PublicKey))}))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, tk("ec384").public(), tk("ec384").priv)
	if err != nil {
		t.Fatal(err)
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	v := mustValidator(t, JWTConfig{
		// Two keys in one entry, then one per entry.
		StaticKeys: []string{tk("rsa").pemPublic(t) + tk("ec").pemPublic(t), tk("ed").pemPublic(t), pkcs1, cert},
		Issuer:     "https://idp.example",
		Audience:   []string{"sluice"},
		Algorithms: []string{"RS256", "ES256", "ES384", "EdDSA"},
		Now:        newClock().Now,
	})
	ctx := context.Background()
	for _, name := range []string{"rsa", "ec", "ed", "rsa2", "ec384"} {
		for _, kid := range []string{"", "whatever"} {
			if _, err := v.Validate(ctx, sign(t, tk(name), kid, claims())); err != nil {
				t.Errorf("%s key, kid %q: %v", name, kid, err)
			}
		}
	}
	token := sign(t, tk("stranger"), "rsa-1", claims())
	_, err = v.Validate(ctx, token)
	checkInvalid(t, err, token, "bad signature")
}

// TestStaticKeysBackJWKS: static keys still work while the JWKS is down.
func TestStaticKeysBackJWKS(t *testing.T) {
	p := newIDP(t, tk("rsa"))
	p.setStatus(503)
	cfg := p.config(newClock())
	cfg.StaticKeys = []string{tk("ed").pemPublic(t)}
	v := mustValidator(t, cfg)
	if _, err := v.Validate(context.Background(), sign(t, tk("ed"), "ed-1", claims())); err != nil {
		t.Errorf("static key with JWKS down: %v", err)
	}
	token := sign(t, tk("rsa"), "rsa-1", claims())
	_, err := v.Validate(context.Background(), token)
	checkInvalid(t, err, token, "no key for kid") // the ed key does not fit RS256
	if got := p.hits.Load(); got != 1 {
		t.Errorf("JWKS fetched %d times, want 1", got)
	}
}

func TestNewJWTValidatorRejectsBadConfig(t *testing.T) {
	good := func() JWTConfig {
		return JWTConfig{JWKSURL: "https://idp.example/jwks", Issuer: "https://idp.example", Audience: []string{"sluice"}}
	}
	edit := func(f func(c *JWTConfig)) JWTConfig { c := good(); f(&c); return c }
	priv, _ := x509.MarshalPKCS8PrivateKey(tk("ec").priv)
	cases := []struct {
		name string
		cfg  JWTConfig
		want []string // substrings of the joined error
	}{
		{"empty", JWTConfig{}, []string{"one key source is required", "issuer: required", "audience: at least one"}},
		{"http to a public host", edit(func(c *JWTConfig) { c.JWKSURL = "http://idp.example/jwks" }), []string{"must use https"}},
		{"relative url", edit(func(c *JWTConfig) { c.JWKSURL = "/jwks" }), []string{"absolute http(s) URL"}},
		{"ftp url", edit(func(c *JWTConfig) { c.JWKSURL = "ftp://idp.example/jwks" }), []string{"absolute http(s) URL"}},
		{"empty audience value", edit(func(c *JWTConfig) { c.Audience = []string{"a", ""} }), []string{"audience[1]: must not be empty"}},
		{"negative leeway", edit(func(c *JWTConfig) { c.Leeway = -time.Second }), []string{"leeway: must not be negative"}},
		{"refresh too often", edit(func(c *JWTConfig) { c.RefreshInterval = 10 * time.Second }), []string{"refresh_interval: must be at least 30s"}},
		{"HS256", edit(func(c *JWTConfig) { c.Algorithms = []string{"RS256", "HS256"} }), []string{`algorithms[1]: "HS256" is not allowed`}},
		{"none", edit(func(c *JWTConfig) { c.Algorithms = []string{"none"} }), []string{`algorithms[0]: "none" is not allowed`}},
		{"lowercase alg", edit(func(c *JWTConfig) { c.Algorithms = []string{"rs256"} }), []string{`"rs256" is not allowed`}},
		{"not pem", edit(func(c *JWTConfig) { c.StaticKeys = []string{"hello"} }), []string{"static_keys[0]: no PEM block found"}},
		{"private key pem", edit(func(c *JWTConfig) {
			c.StaticKeys = []string{string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}))}
		}), []string{`static_keys[0]: pem block "PRIVATE KEY" is not a public key`}},
		{"small rsa", edit(func(c *JWTConfig) { c.StaticKeys = []string{tk("rsa1024").pemPublic(t)} }), []string{"1024 bits is too small"}},
		{"low-order ed25519", edit(func(c *JWTConfig) {
			der, _ := x509.MarshalPKIXPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
			c.StaticKeys = []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
		}), []string{"static_keys[0]: unusable ed25519 key"}},
		{"corrupt pem body", edit(func(c *JWTConfig) {
			c.StaticKeys = []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")}))}
		}), []string{"static_keys[0]: parse public key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewJWTValidator(tc.cfg)
			if err == nil {
				t.Fatalf("NewJWTValidator accepted the config: %+v", v.cfg)
			}
			if !strings.HasPrefix(err.Error(), "auth: jwt config: ") {
				t.Errorf("error %q lacks the auth: jwt config prefix", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewJWTValidatorDefaults(t *testing.T) {
	for _, u := range []string{"https://idp.example/jwks", "http://127.0.0.1:9/jwks", "http://localhost/jwks", "http://[::1]:8/k"} {
		v, err := NewJWTValidator(JWTConfig{JWKSURL: u, Issuer: "i", Audience: []string{"a"}})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		got := struct {
			Leeway, Refresh time.Duration
			Algs            []string
			HasClient       bool
		}{v.cfg.Leeway, v.cfg.RefreshInterval, v.cfg.Algorithms, v.cfg.Client != nil}
		want := struct {
			Leeway, Refresh time.Duration
			Algs            []string
			HasClient       bool
		}{30 * time.Second, 10 * time.Minute, []string{"RS256", "ES256", "EdDSA"}, true}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%s: defaults (-got +want):\n%s", u, diff)
		}
	}
}

func TestClaimsToPrincipal(t *testing.T) {
	p := newIDP(t, tk("ec"))
	cfg := p.config(newClock())
	cfg.TenantClaim = "org.id"
	cfg.TeamClaim = "https://sluice.dev/team"
	cfg.RolesClaim = "roles"
	cfg.ModelsClaim = "access.models"
	v := mustValidator(t, cfg)
	org := func(id any) func(map[string]any) { return withClaim("org", map[string]any{"id": id}) }
	cases := []struct {
		name   string
		edits  []func(map[string]any)
		want   Principal
		reason string // non-empty: expect this failure
	}{
		{"all claims", []func(map[string]any){org("ten_a"), withClaim("https://sluice.dev/team", "team_b"),
			withClaim("roles", []string{"viewer", "admin", "member"}),
			withClaim("access", map[string]any{"models": []string{"openai/*", "claude-*"}})},
			Principal{KeyID: "jwt:user-42", TenantID: "ten_a", TeamID: "team_b", Role: RoleAdmin,
				Models: []string{"openai/*", "claude-*"}, Via: ViaJWT}, ""},
		{"tenant only", []func(map[string]any){org("ten_a")},
			Principal{KeyID: "jwt:user-42", TenantID: "ten_a", Via: ViaJWT}, ""},
		{"numeric tenant", []func(map[string]any){org(12345678901234)},
			Principal{KeyID: "jwt:user-42", TenantID: "12345678901234", Via: ViaJWT}, ""},
		{"dotted name at top level wins", []func(map[string]any){org("nested"), withClaim("org.id", "flat")},
			Principal{KeyID: "jwt:user-42", TenantID: "flat", Via: ViaJWT}, ""},
		{"roles as a string", []func(map[string]any){org("t"), withClaim("roles", "member owner")},
			Principal{KeyID: "jwt:user-42", TenantID: "t", Role: RoleOwner, Via: ViaJWT}, ""},
		{"unknown roles ignored", []func(map[string]any){org("t"), withClaim("roles", []string{"root", "Admin"})},
			Principal{KeyID: "jwt:user-42", TenantID: "t", Via: ViaJWT}, ""},
		{"models as a string", []func(map[string]any){org("t"), withClaim("access", map[string]any{"models": "gpt-4o, mock/*"})},
			Principal{KeyID: "jwt:user-42", TenantID: "t", Models: []string{"gpt-4o", "mock/*"}, Via: ViaJWT}, ""},
		{"null team", []func(map[string]any){org("t"), withClaim("https://sluice.dev/team", nil)},
			Principal{KeyID: "jwt:user-42", TenantID: "t", Via: ViaJWT}, ""},
		{"missing tenant", nil, Principal{}, "missing or bad tenant claim"},
		{"empty tenant", []func(map[string]any){org("")}, Principal{}, "missing or bad tenant claim"},
		{"tenant object", []func(map[string]any){org(map[string]any{"x": 1})}, Principal{}, "missing or bad tenant claim"},
		{"org not an object", []func(map[string]any){withClaim("org", "ten_a")}, Principal{}, "missing or bad tenant claim"},
		{"team a list", []func(map[string]any){org("t"), withClaim("https://sluice.dev/team", []string{"a"})}, Principal{}, "bad team claim"},
		{"roles a number", []func(map[string]any){org("t"), withClaim("roles", 3)}, Principal{}, "bad roles claim"},
		{"models with a number", []func(map[string]any){org("t"), withClaim("access", map[string]any{"models": []any{"a", 1}})}, Principal{}, "bad models claim"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := sign(t, tk("ec"), "ec-1", claims(tc.edits...))
			got, err := v.Validate(context.Background(), token)
			if tc.reason != "" {
				checkInvalid(t, err, token, tc.reason)
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("principal (-got +want):\n%s", diff)
			}
		})
	}
}
