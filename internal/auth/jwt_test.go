package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
)

var b64 = base64.RawURLEncoding

// rawToken assembles a token from a header and payload JSON and a signature.
func rawToken(header, payload string, sig []byte) string {
	return b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(sig)
}

// hs256 signs header.payload with HMAC-SHA256 under secret: the "public key
// as HMAC secret" attack.
func hs256(header, payload string, secret []byte) string {
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + b64.EncodeToString(mac.Sum(nil))
}

const goodPayload = `{"iss":"https://idp.example","aud":"sluice","sub":"user-42","exp":1900000000}`

// checkInvalid asserts err is an ErrInvalidToken whose text has reason and
// none of the token's segments.
func checkInvalid(t *testing.T, err error, token, reason string) {
	t.Helper()
	if err == nil {
		t.Fatal("Validate accepted the token")
	}
	if !errors.Is(err, ErrInvalidToken) {
		t.Errorf("error %q does not wrap ErrInvalidToken", err)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("error %q does not contain %q", err, reason)
	}
	for _, seg := range strings.Split(token, ".") {
		if len(seg) >= 8 && strings.Contains(err.Error(), seg) {
			t.Errorf("error %q echoes a token segment", err)
		}
	}
}

func TestValidateGoodTokens(t *testing.T) {
	p := newIDP(t, tk("rsa"), tk("ec"), tk("ed"))
	v := mustValidator(t, p.config(newClock()))
	cases := []struct {
		name  string
		token string
	}{
		{"RS256", sign(t, tk("rsa"), "rsa-1", claims())},
		{"ES256", sign(t, tk("ec"), "ec-1", claims())},
		{"EdDSA", sign(t, tk("ed"), "ed-1", claims())},
		{"no kid", sign(t, tk("ec"), "", claims())},
		{"aud array", sign(t, tk("rsa"), "rsa-1", claims(withClaim("aud", []string{"other", "sluice"})))},
		{"no nbf or iat", sign(t, tk("ed"), "ed-1", claims(withoutClaim("nbf"), withoutClaim("iat")))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Validate(context.Background(), tc.token)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			want := Principal{KeyID: "jwt:user-42", Via: ViaJWT}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("principal (-got +want):\n%s", diff)
			}
		})
	}
	if n := p.hits.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1 (cached)", n)
	}
}

func TestValidateRejects(t *testing.T) {
	p := newIDP(t, tk("rsa"), tk("ec"), tk("ed"), tk("ec384"))
	der, _ := x509.MarshalPKIXPublicKey(tk("rsa").public())
	noneHeader := `{"alg":"none","typ":"JWT"}`
	hsHeader := `{"alg":"HS256","kid":"rsa-1"}`
	cases := []struct {
		name   string
		token  func(t *testing.T) string
		reason string
	}{
		{"wrong issuer", func(t *testing.T) string {
			return sign(t, tk("rsa"), "rsa-1", claims(withClaim("iss", "https://evil.example")))
		}, "wrong issuer"},
		{"missing issuer", func(t *testing.T) string { return sign(t, tk("rsa"), "rsa-1", claims(withoutClaim("iss"))) }, "wrong issuer"},
		{"wrong audience", func(t *testing.T) string { return sign(t, tk("ec"), "ec-1", claims(withClaim("aud", "other"))) }, "wrong audience"},
		{"audience list without ours", func(t *testing.T) string {
			return sign(t, tk("ec"), "ec-1", claims(withClaim("aud", []string{"a", "b"})))
		}, "wrong audience"},
		{"missing audience", func(t *testing.T) string { return sign(t, tk("ec"), "ec-1", claims(withoutClaim("aud"))) }, "wrong audience"},
		{"expired", func(t *testing.T) string {
			return sign(t, tk("ed"), "ed-1", claims(withClaim("exp", testNow.Add(-time.Hour).Unix())))
		}, "expired"},
		{"not yet valid", func(t *testing.T) string {
			return sign(t, tk("ed"), "ed-1", claims(withClaim("nbf", testNow.Add(time.Hour).Unix())))
		}, "not valid yet"},
		{"issued in the future", func(t *testing.T) string {
			return sign(t, tk("ed"), "ed-1", claims(withClaim("iat", testNow.Add(time.Hour).Unix())))
		}, "issued in the future"},
		{"missing exp", func(t *testing.T) string { return sign(t, tk("rsa"), "rsa-1", claims(withoutClaim("exp"))) }, "missing exp"},
		{"missing sub", func(t *testing.T) string { return sign(t, tk("rsa"), "rsa-1", claims(withoutClaim("sub"))) }, "missing sub"},
		{"exp not a number", func(t *testing.T) string { return sign(t, tk("rsa"), "rsa-1", claims(withClaim("exp", "tomorrow"))) }, "malformed claims"},
		{"alg none empty signature", func(*testing.T) string { return rawToken(noneHeader, goodPayload, nil) }, "malformed"},
		{"alg none with signature", func(*testing.T) string { return rawToken(noneHeader, goodPayload, []byte("sig")) }, "algorithm not allowed"},
		{"HS256 keyed with public PEM", func(t *testing.T) string {
			return hs256(hsHeader, goodPayload, []byte(tk("rsa").pemPublic(t)))
		}, "algorithm not allowed"},
		{"HS256 keyed with public DER", func(*testing.T) string { return hs256(hsHeader, goodPayload, der) }, "algorithm not allowed"},
		{"ES384 not listed", func(t *testing.T) string { return sign(t, tk("ec384"), "ec-384", claims()) }, "algorithm not allowed"},
		{"known kid wrong key", func(t *testing.T) string { return sign(t, tk("stranger"), "rsa-1", claims()) }, "bad signature"},
		{"no kid wrong key", func(t *testing.T) string { return sign(t, tk("stranger"), "", claims()) }, "bad signature"},
		{"unknown kid", func(t *testing.T) string { return sign(t, tk("stranger"), "nobody", claims()) }, "no key for kid"},
		{"kid of another key type", func(t *testing.T) string { return sign(t, tk("rsa"), "ec-1", claims()) }, "no key for kid"},
		{"tampered payload", func(t *testing.T) string {
			parts := strings.Split(sign(t, tk("rsa"), "rsa-1", claims()), ".")
			parts[1] = b64.EncodeToString([]byte(strings.Replace(goodPayload, "user-42", "admin", 1)))
			return strings.Join(parts, ".")
		}, "bad signature"},
		{"payload not JSON", func(t *testing.T) string {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: tk("rsa").priv}, (&jose.SignerOptions{}).WithHeader("kid", "rsa-1"))
			if err != nil {
				t.Fatal(err)
			}
			obj, err := s.Sign([]byte("not json at all"))
			if err != nil {
				t.Fatal(err)
			}
			out, _ := obj.CompactSerialize()
			return out
		}, "malformed claims"},
		{"gateway key", func(*testing.T) string { k, _ := NewKey(); return k }, "malformed"},
		{"empty", func(*testing.T) string { return "" }, "malformed"},
		{"two segments", func(*testing.T) string { return "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0" }, "malformed"},
		{"bad base64 header", func(*testing.T) string { return "e.eyJzdWIiOiJ4In0.c2ln" }, "malformed"},
		{"too long", func(t *testing.T) string {
			return sign(t, tk("rsa"), "rsa-1", claims(withClaim("pad", strings.Repeat("x", maxTokenLen))))
		}, "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := mustValidator(t, p.config(newClock()))
			token := tc.token(t)
			got, err := v.Validate(context.Background(), token)
			checkInvalid(t, err, token, tc.reason)
			if diff := cmp.Diff(got, Principal{}); diff != "" {
				t.Errorf("principal on failure (-got +want):\n%s", diff)
			}
		})
	}
}

// TestValidateKeepsCause checks that the go-jose reason stays inspectable.
func TestValidateKeepsCause(t *testing.T) {
	p := newIDP(t, tk("rsa"))
	v := mustValidator(t, p.config(newClock()))
	_, err := v.Validate(context.Background(), sign(t, tk("rsa"), "rsa-1", claims(withClaim("exp", testNow.Add(-time.Hour).Unix()))))
	if !errors.Is(err, jwt.ErrExpired) {
		t.Errorf("error %v does not wrap jwt.ErrExpired", err)
	}
}

func TestValidateLeeway(t *testing.T) {
	expAtNow := claims(withClaim("exp", testNow.Unix()), withClaim("nbf", testNow.Add(-time.Hour).Unix()), withoutClaim("iat"))
	nbfAtNow := claims(withClaim("nbf", testNow.Unix()), withoutClaim("iat"))
	cases := []struct {
		name   string
		leeway time.Duration
		claims map[string]any
		offset time.Duration // clock - testNow at validation
		reason string        // "" = valid
	}{
		{"exp at edge of default leeway", 0, expAtNow, 30 * time.Second, ""},
		{"exp past default leeway", 0, expAtNow, 31 * time.Second, "expired"},
		{"exp at edge of 5s leeway", 5 * time.Second, expAtNow, 5 * time.Second, ""},
		{"exp past 5s leeway", 5 * time.Second, expAtNow, 6 * time.Second, "expired"},
		{"nbf at edge of default leeway", 0, nbfAtNow, -30 * time.Second, ""},
		{"nbf before default leeway", 0, nbfAtNow, -31 * time.Second, "not valid yet"},
		{"nbf before 5s leeway", 5 * time.Second, nbfAtNow, -6 * time.Second, "not valid yet"},
	}
	p := newIDP(t, tk("ec"))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			cfg := p.config(c)
			cfg.Leeway = tc.leeway
			v := mustValidator(t, cfg)
			token := sign(t, tk("ec"), "ec-1", tc.claims)
			c.Advance(tc.offset)
			_, err := v.Validate(context.Background(), token)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			checkInvalid(t, err, token, tc.reason)
		})
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for _, tc := range looksLikeJWTCases {
		if got := LooksLikeJWT(tc.in); got != tc.want {
			t.Errorf("%s: LooksLikeJWT(%q) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

var looksLikeJWTCases = []struct {
	name string
	in   string
	want bool
}{
	{"jwt", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnLV8", true},
	{"short segments", "a.b.c", true},
	{"gateway key", KeyPrefix + strings.Repeat("a", 43), false},
	{"empty signature", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", false},
	{"empty header", ".eyJzdWIiOiJ4In0.c2ln", false},
	{"two segments", "a.b", false},
	{"four segments", "a.b.c.d", false},
	{"padding", "a.b.c2ln==", false},
	{"std base64 plus", "a+b.c.d", false},
	{"space", "a.b .c", false},
	{"empty", "", false},
	{"dots only", "..", false},
}

// TestValidateCacheKeepsExpiry: a token reused from the verified-token
// cache still expires on time, and a cached token is not re-verified
// (the IdP's JWKS is fetched once for many validations).
func TestValidateCacheKeepsExpiry(t *testing.T) {
	p := newIDP(t, tk("rsa"))
	c := newClock()
	cfg := p.config(c)
	cfg.Leeway = time.Second
	v := mustValidator(t, cfg)
	token := sign(t, tk("rsa"), "rsa-1", claims(withClaim("exp", testNow.Add(time.Minute).Unix())))
	for range 5 {
		if _, err := v.Validate(context.Background(), token); err != nil {
			t.Fatalf("Validate: %v", err)
		}
	}
	if got := v.verified.Len(); got != 1 {
		t.Errorf("%d tokens cached, want 1", got)
	}
	c.Advance(time.Minute + 2*time.Second)
	_, err := v.Validate(context.Background(), token)
	checkInvalid(t, err, token, "expired")
}
