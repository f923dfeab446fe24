package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// edPEM is an Ed25519 public key.
const edPEM = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAm2otBDhewNm86SfqWUj8QuIGrg2Zh5Tt7qaTpzYT4Ks=
-----END PUBLIC KEY-----
`

func TestJWTConfigErrors(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "idp.pem")
	if err := os.WriteFile(keyFile, []byte(edPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"off when empty", "auth: {jwt: {}}\n", nil},
		{"a JWKS URL", "auth:\n  jwt:\n    jwks_url: https://idp.example.com/jwks\n    issuer: https://idp.example.com/\n    audience: [sluice]\n", nil},
		{"a static key file", "auth:\n  jwt:\n    static_keys: [\"" + keyFile + "\"]\n    issuer: i\n    audience: [a]\n", nil},
		{"an inline PEM key", "auth:\n  jwt:\n    static_keys:\n      - |\n        " +
			strings.ReplaceAll(strings.TrimSpace(edPEM), "\n", "\n        ") + "\n    issuer: i\n    audience: [a]\n", nil},
		{"everything missing", "auth:\n  jwt:\n    tenant_claim: org\n", []string{
			"sluice.yaml:2: auth.jwt: jwks_url or static_keys is required: where the identity provider's public keys come from",
			`sluice.yaml:2: auth.jwt.issuer: required: the token issuer ("iss") to accept, e.g. https://idp.example.com/`,
			`sluice.yaml:2: auth.jwt.audience: required: the "aud" values to accept, e.g. [sluice]`,
		}},
		{"bad values", "auth:\n  jwt:\n    jwks_url: http://idp.example.com/jwks\n    issuer: i\n    audience: [a, \"\"]\n" +
			"    leeway: -1s\n    algorithms: [RS256, HS256, none]\n    refresh_interval: 5s\n", []string{
			"sluice.yaml:3: auth.jwt.jwks_url: must use https (http is allowed only to a loopback host)",
			"sluice.yaml:5: auth.jwt.audience[1]: must not be empty",
			"sluice.yaml:6: auth.jwt.leeway: must not be negative",
			"sluice.yaml:7: auth.jwt.algorithms[1]: \"HS256\" is not allowed (use RS*, PS*, ES* or EdDSA; HMAC and none are refused)",
			"sluice.yaml:7: auth.jwt.algorithms[2]: \"none\" is not allowed (use RS*, PS*, ES* or EdDSA; HMAC and none are refused)",
			"sluice.yaml:8: auth.jwt.refresh_interval: must be at least 30s",
		}},
		{"bad static keys", "auth:\n  jwt:\n    static_keys:\n      - /nonexistent/idp.pem\n      - \"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"\n" +
			"    issuer: i\n    audience: [a]\n", []string{
			"sluice.yaml:4: auth.jwt.static_keys[0]: neither PEM text nor a readable file",
			`sluice.yaml:5: auth.jwt.static_keys[1]: pem block "PRIVATE KEY" is not a public key or certificate`,
		}},
		{"unknown key", "auth:\n  jwt:\n    issuer: i\n    jwks_url: https://idp/jwks\n    audiences: [a]\n", []string{
			`sluice.yaml:2: auth.jwt.audience: required: the "aud" values to accept, e.g. [sluice]`,
			"sluice.yaml:5: auth.jwt.audiences: unknown key (did you mean audience?)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.src), "sluice.yaml", lookupIn(testEnv))
			if d := cmp.Diff(tc.want, errLines(err)); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
		})
	}
}

func TestJWTConfigMapsToTheValidator(t *testing.T) {
	c := mustParse(t, "auth:\n  jwt:\n    jwks_url: https://idp.example.com/jwks\n    issuer: iss\n    audience: [a, b]\n"+
		"    leeway: 5s\n    algorithms: [ES256]\n    tenant_claim: org\n    team_claim: grp\n    roles_claim: roles\n"+
		"    models_claim: models\n    refresh_interval: 1m\n")
	got, err := c.Auth.JWT.AuthConfig()
	if err != nil {
		t.Fatal(err)
	}
	if got.JWKSURL != "https://idp.example.com/jwks" || got.Issuer != "iss" || !cmp.Equal(got.Audience, []string{"a", "b"}) ||
		got.Leeway != 5*time.Second || !cmp.Equal(got.Algorithms, []string{"ES256"}) || got.TenantClaim != "org" ||
		got.TeamClaim != "grp" || got.RolesClaim != "roles" || got.ModelsClaim != "models" ||
		got.RefreshInterval != time.Minute || len(got.StaticKeys) != 0 {
		t.Errorf("AuthConfig = %+v", got)
	}
}

func TestSpikeConfig(t *testing.T) {
	c := mustParse(t, "auth: {spike: {enabled: true}}\n")
	want := Spike{Enabled: true, Factor: 10, Window: Duration(10 * time.Second), Baseline: Duration(10 * time.Minute),
		MinRequests: 100, Cooldown: Duration(time.Minute)}
	if d := cmp.Diff(c.Auth.Spike, want); d != "" {
		t.Errorf("defaults (-got +want):\n%s", d)
	}
	_, err := parse([]byte("auth:\n  spike:\n    enabled: true\n    factor: 1\n    window: 0s\n    baseline: 15s\n"+
		"    min_requests: 0\n    cooldown: -1s\n"), "sluice.yaml", lookupIn(testEnv))
	want2 := []string{
		"sluice.yaml:4: auth.spike.factor: must be greater than 1 (how many times its baseline a rate must reach)",
		"sluice.yaml:5: auth.spike.window: must be greater than 0",
		"sluice.yaml:7: auth.spike.min_requests: must be greater than 0",
		"sluice.yaml:8: auth.spike.cooldown: must be greater than 0",
	}
	if d := cmp.Diff(want2, errLines(err)); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	_, err = parse([]byte("auth:\n  spike:\n    enabled: true\n    baseline: 15s\n"), "sluice.yaml", lookupIn(testEnv))
	if d := cmp.Diff([]string{"sluice.yaml:4: auth.spike.baseline: must be at least two windows (20s)"}, errLines(err)); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	// Off, nothing is checked.
	mustParse(t, "auth: {spike: {enabled: false, factor: 0.5}}\n")
}
