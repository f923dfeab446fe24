package auth

import (
	"context"
	"errors"
	"net/http"
	"path"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParseKey(f *testing.F) {
	for _, tc := range parseKeyCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseKey(s)
		want := len(s) == 53 && strings.HasPrefix(s, "sk-sluice-") &&
			strings.Trim(s[10:], "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
		if ok != want {
			t.Fatalf("ParseKey(%q) ok = %v, want %v", s, ok, want)
		}
		if ok && got != s || !ok && got != "" {
			t.Fatalf("ParseKey(%q) secret = %q (ok %v)", s, got, ok)
		}
	})
}

func FuzzPresented(f *testing.F) {
	for _, tc := range presentedCases {
		f.Add(tc.header["Authorization"], tc.header["X-Api-Key"], tc.header["Api-Key"])
	}
	f.Fuzz(func(t *testing.T, authz, xkey, apikey string) {
		h := http.Header{}
		for k, v := range map[string]string{"Authorization": authz, "X-Api-Key": xkey, "Api-Key": apikey} {
			if v != "" {
				h.Set(k, v)
			}
		}
		got, ok := Presented(h)
		if ok != (got != "") {
			t.Fatalf("Presented = (%q, %v): ok must mean non-empty", got, ok)
		}
		if !ok {
			if strings.Trim(xkey, " \t") != "" || strings.Trim(apikey, " \t") != "" {
				t.Fatalf("Presented missed a key in x-api-key %q / api-key %q", xkey, apikey)
			}
			return
		}
		if strings.Trim(got, " \t") != got {
			t.Fatalf("Presented = %q: not trimmed", got)
		}
		_, isBearer := bearerToken(authz)
		switch {
		case isBearer:
			if !strings.HasSuffix(strings.Trim(authz, " \t"), got) {
				t.Fatalf("Presented = %q, not the bearer of %q", got, authz)
			}
		case strings.Trim(xkey, " \t") != "":
			if got != strings.Trim(xkey, " \t") {
				t.Fatalf("Presented = %q, want x-api-key %q", got, xkey)
			}
		default:
			if got != strings.Trim(apikey, " \t") {
				t.Fatalf("Presented = %q, want api-key %q", got, apikey)
			}
		}
	})
}

// FuzzGlobMatch checks globMatch never panics and agrees with path.Match
// where their rules coincide.
func FuzzGlobMatch(f *testing.F) {
	f.Add("a*b?c", "aXXbYc")
	f.Add("*", "openai/gpt-4o")
	f.Add("*?*", "é")
	f.Add("gpt-[4]o", "gpt-[4]o")
	f.Fuzz(func(t *testing.T, pat, name string) {
		got := globMatch(pat, name)
		if strings.ContainsAny(pat+name, "/[\\") || !utf8.ValidString(pat) || !utf8.ValidString(name) {
			return
		}
		want, err := path.Match(pat, name)
		if err == nil && got != want {
			t.Fatalf("globMatch(%q, %q) = %v, path.Match = %v", pat, name, got, want)
		}
	})
}

func FuzzLooksLikeJWT(f *testing.F) {
	for _, tc := range looksLikeJWTCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts := strings.Split(s, ".")
		want := len(parts) == 3
		for _, p := range parts {
			if p == "" || strings.Trim(p, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != "" {
				want = false
			}
		}
		if got := LooksLikeJWT(s); got != want {
			t.Fatalf("LooksLikeJWT(%q) = %v, want %v", s, got, want)
		}
	})
}

// FuzzValidate feeds arbitrary bearers to a validator with static keys. No
// seed is a valid token, and no mutation may make one: every result must be
// an ErrInvalidToken that does not echo the input.
func FuzzValidate(f *testing.F) {
	v := mustValidator(f, JWTConfig{
		StaticKeys: []string{tk("rsa").pemPublic(f), tk("ec").pemPublic(f), tk("ed").pemPublic(f)},
		Issuer:     "https://idp.example",
		Audience:   []string{"sluice"},
		Now:        newClock().Now,
	})
	past := withClaim("exp", testNow.Add(-time.Hour).Unix())
	for _, s := range []string{
		sign(f, tk("stranger"), "rsa-1", claims()),
		sign(f, tk("rsa"), "rsa-1", claims(past)),
		sign(f, tk("ec"), "", claims(withClaim("iss", "https://evil.example"))),
		sign(f, tk("ed"), "ed-1", claims(withoutClaim("sub"))),
		sign(f, tk("ec384"), "ec-384", claims()),
		rawToken(`{"alg":"none"}`, goodPayload, nil),
		rawToken(`{"alg":"none"}`, goodPayload, []byte("x")),
		hs256(`{"alg":"HS256"}`, goodPayload, []byte(tk("rsa").pemPublic(f))),
		"a.b.c", "", "Bearer x", KeyPrefix + strings.Repeat("0", 43),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Validate(context.Background(), token)
		if err == nil {
			t.Fatalf("Validate accepted %q as %+v", token, p)
		}
		if !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("error %v does not wrap ErrInvalidToken", err)
		}
		if len(token) >= 16 && strings.Contains(err.Error(), token) {
			t.Fatalf("error %q echoes the token", err)
		}
	})
}
