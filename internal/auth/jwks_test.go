package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestJWKSUnknownKidPicksUpRotatedKey guards key rotation: a token with a
// kid the cache lacks triggers one refresh, which finds the new key.
func TestJWKSUnknownKidPicksUpRotatedKey(t *testing.T) {
	p := newIDP(t, tk("rsa"))
	c := newClock()
	v := mustValidator(t, p.config(c))
	ctx := context.Background()
	if _, err := v.Validate(ctx, sign(t, tk("rsa"), "rsa-1", claims())); err != nil {
		t.Fatalf("first token: %v", err)
	}
	p.setKeys(t, tk("rsa"), tk("rsa2")) // the IdP rotates in rsa-2
	c.Advance(MinRefreshGap)
	got, err := v.Validate(ctx, sign(t, tk("rsa2"), "rsa-2", claims(withClaim("exp", c.Now().Add(time.Hour).Unix()))))
	if err != nil {
		t.Fatalf("rotated token: %v", err)
	}
	if got.KeyID != "jwt:user-42" {
		t.Errorf("KeyID = %q, want jwt:user-42", got.KeyID)
	}
	if n := p.hits.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2", n)
	}
}

func TestJWKSRefreshRateLimit(t *testing.T) {
	p := newIDP(t, tk("rsa"))
	c := newClock()
	cfg := p.config(c)
	cfg.Leeway = 24 * time.Hour // the clock moves; keep tokens valid
	v := mustValidator(t, cfg)
	ctx := context.Background()
	unknown := sign(t, tk("stranger"), "nobody", claims())
	steps := []struct {
		name    string
		advance time.Duration
		tries   int
		hits    int64
	}{
		{"first use fetches once", 0, 5, 1},
		{"within the gap no refresh", MinRefreshGap - time.Second, 5, 1},
		{"after the gap one refresh", time.Second, 5, 2},
		{"again within the gap", 10 * time.Second, 5, 2},
		{"next gap", MinRefreshGap, 1, 3},
	}
	for _, s := range steps {
		c.Advance(s.advance)
		for range s.tries {
			_, err := v.Validate(ctx, unknown)
			checkInvalid(t, err, unknown, "no key for kid")
		}
		if n := p.hits.Load(); n != s.hits {
			t.Errorf("%s: JWKS fetched %d times, want %d", s.name, n, s.hits)
		}
	}
}

// TestJWKSConcurrentValidationsShareOneFetch holds the first fetch open
// while many validations start; they must all wait on that one fetch.
func TestJWKSConcurrentValidationsShareOneFetch(t *testing.T) {
	p := newIDP(t, tk("ec"))
	release := p.hold()
	v := mustValidator(t, p.config(newClock()))
	token := sign(t, tk("ec"), "ec-1", claims())

	const n = 16
	var started, done sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			_, errs[i] = v.Validate(context.Background(), token)
		}()
	}
	started.Wait()
	release()
	done.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("validation %d: %v", i, err)
		}
	}
	if got := p.hits.Load(); got != 1 {
		t.Errorf("JWKS fetched %d times, want 1", got)
	}
}

// TestJWKSCancelledCallerDoesNotFailOthers: the fetch outlives the caller
// that started it.
func TestJWKSCancelledCallerDoesNotFailOthers(t *testing.T) {
	p := newIDP(t, tk("ed"))
	release := p.hold()
	v := mustValidator(t, p.config(newClock()))
	token := sign(t, tk("ed"), "ed-1", claims())

	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := v.Validate(ctx, token); first <- err }()
	select { // wait until the fetch reaches the server
	case <-p.arrived:
	case err := <-first:
		t.Fatalf("first caller returned before the fetch: %v", err)
	}
	second := make(chan error, 1)
	go func() { _, err := v.Validate(context.Background(), token); second <- err }()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) || !errors.Is(err, ErrInvalidToken) {
		t.Errorf("cancelled caller: %v, want ErrInvalidToken wrapping context.Canceled", err)
	}
	release()
	if err := <-second; err != nil {
		t.Errorf("second caller: %v", err)
	}
	if got := p.hits.Load(); got != 1 {
		t.Errorf("JWKS fetched %d times, want 1", got)
	}
}

// TestJWKSStaleSetRefreshesInBackground: past RefreshInterval the old keys
// still serve while a refresh runs.
func TestJWKSStaleSetRefreshesInBackground(t *testing.T) {
	p := newIDP(t, tk("rsa"))
	c := newClock()
	cfg := p.config(c)
	cfg.Leeway = 24 * time.Hour
	v := mustValidator(t, cfg)
	ctx := context.Background()
	old := sign(t, tk("rsa"), "rsa-1", claims())
	if _, err := v.Validate(ctx, old); err != nil {
		t.Fatal(err)
	}
	p.setKeys(t, tk("rsa2")) // rsa-1 retired
	c.Advance(DefaultRefreshInterval)
	if _, err := v.Validate(ctx, old); err != nil {
		t.Errorf("old key while refreshing: %v", err)
	}
	_ = v.jwks.refresh(ctx, true) // join the background fetch (or hit the gap)
	if got := p.hits.Load(); got != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", got)
	}
	if _, err := v.Validate(ctx, sign(t, tk("rsa2"), "rsa-2", claims())); err != nil {
		t.Errorf("new key after refresh: %v", err)
	}
	_, err := v.Validate(ctx, old)
	checkInvalid(t, err, old, "no key for kid")
	if got := p.hits.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (retired kid is within the gap)", got)
	}
}

func TestJWKSFailures(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(p *idp)
		reason string
	}{
		{"server error", func(p *idp) { p.setStatus(http.StatusInternalServerError) }, "status 500"},
		{"entry not an object", func(p *idp) { p.setRaw(json.RawMessage(`"x"`)) }, "no usable signing keys among 1"},
		{"no keys", func(p *idp) { p.setRaw() }, "no usable signing keys among 0"},
		{"only unusable keys", func(p *idp) {
			p.setRaw(json.RawMessage(`{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI","kid":"rsa-1"}`))
		}, "no usable signing keys among 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newIDP(t, tk("rsa"))
			tc.setup(p)
			cfg := p.config(newClock())
			cfg.JWKSURL += "?access_token=hunter2"
			v := mustValidator(t, cfg)
			token := sign(t, tk("rsa"), "rsa-1", claims())
			_, err := v.Validate(context.Background(), token)
			checkInvalid(t, err, token, tc.reason)
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks the JWKS URL query", err)
			}
			// A second try inside the gap fails fast without a fetch, still
			// giving the reason.
			_, err = v.Validate(context.Background(), token)
			checkInvalid(t, err, token, tc.reason)
			if got := p.hits.Load(); got != 1 {
				t.Errorf("JWKS fetched %d times, want 1", got)
			}
		})
	}
}

func TestJWKSNotJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>login</html>"))
	}))
	defer srv.Close()
	v := mustValidator(t, JWTConfig{JWKSURL: srv.URL, Issuer: "https://idp.example", Audience: []string{"sluice"}, Now: newClock().Now})
	token := sign(t, tk("rsa"), "rsa-1", claims())
	_, err := v.Validate(context.Background(), token)
	checkInvalid(t, err, token, "decode")
}

// TestJWKSSkipsUnusableKeys: bad entries are dropped, good ones kept.
func TestJWKSSkipsUnusableKeys(t *testing.T) {
	p := newIDP(t)
	enc := tk("ec").jwk()
	enc.KeyID, enc.Use, enc.Algorithm = "enc-1", "enc", ""
	small := tk("rsa1024").jwk()
	wrongAlg := tk("ed").jwk()
	wrongAlg.Algorithm = "HS256"
	var raws []json.RawMessage
	for _, k := range []jose.JSONWebKey{enc, small, wrongAlg, tk("rsa").jwk()} {
		b, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, b)
	}
	raws = append(raws, json.RawMessage(`{"kty":"oct","k":"c2VjcmV0","kid":"hmac"}`), json.RawMessage(`{"kty":"nope"}`))
	p.setRaw(raws...)
	v := mustValidator(t, p.config(newClock()))
	ctx := context.Background()
	if _, err := v.Validate(ctx, sign(t, tk("rsa"), "rsa-1", claims())); err != nil {
		t.Errorf("good key: %v", err)
	}
	for _, tc := range []struct{ name, token string }{
		{"encryption key", sign(t, tk("ec"), "enc-1", claims())},
		{"1024-bit rsa", sign(t, tk("rsa1024"), "rsa-small", claims())},
		{"ed key marked HS256", sign(t, tk("ed"), "ed-1", claims())},
	} {
		_, err := v.Validate(ctx, tc.token)
		checkInvalid(t, err, tc.token, "no key for kid")
	}
	if got := len(v.jwks.current().keys); got != 1 {
		t.Errorf("cached %d keys, want 1", got)
	}
}
