package auth

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkKeyCheck is the gateway-key part of authenticating a request,
// before the store lookup.
func BenchmarkKeyCheck(b *testing.B) {
	k, _ := NewKey()
	h := http.Header{}
	h.Set("Authorization", "Bearer "+k)
	b.ReportAllocs()
	for b.Loop() {
		tok, ok := Presented(h)
		if !ok {
			b.Fatal("no token")
		}
		secret, ok := ParseKey(tok)
		if !ok {
			b.Fatal("bad key")
		}
		if len(HashKey(secret)) != 32 {
			b.Fatal("bad hash")
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	p := newIDP(b, tk("rsa"), tk("ec"), tk("ed"))
	for _, tc := range []struct {
		name, key, kid string
		claims         bool
	}{
		{"RS256", "rsa", "rsa-1", false},
		{"ES256", "ec", "ec-1", false},
		{"EdDSA", "ed", "ed-1", false},
		{"EdDSA+claims", "ed", "ed-1", true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := p.config(newClock())
			c := claims()
			if tc.claims {
				cfg.TenantClaim, cfg.TeamClaim, cfg.RolesClaim, cfg.ModelsClaim = "org.id", "team", "roles", "models"
				c = claims(withClaim("org", map[string]any{"id": "ten_a"}), withClaim("team", "team_b"),
					withClaim("roles", []string{"member"}), withClaim("models", []string{"openai/*"}))
			}
			v := mustValidator(b, cfg)
			token := sign(b, tk(tc.key), tc.kid, c)
			if _, err := v.Validate(context.Background(), token); err != nil {
				b.Fatal(err)
			}
			// cold verifies the signature every time; cached is a client
			// sending the same token again (the verified-token cache).
			for _, cold := range []bool{true, false} {
				name := "cached"
				if cold {
					name = "cold"
				}
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if cold {
							v.verified.Purge()
						}
						if _, err := v.Validate(context.Background(), token); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func BenchmarkAllowsModel(b *testing.B) {
	p := &Principal{Models: []string{"anthropic/*", "gemini-*", "gpt-4o*"}}
	b.ReportAllocs()
	for b.Loop() {
		if !p.AllowsModel("openai/gpt-4o-mini") {
			b.Fatal("not allowed")
		}
	}
}
