package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/auth"
)

// JWT lets callers present a JSON Web Token from an identity provider
// instead of a gateway key (auth.jwt). The section is off while every
// field is empty; once any is set, jwks_url or static_keys, issuer and
// audience are required.
type JWT struct {
	// JWKSURL is where the identity provider publishes its signing keys
	// (e.g. https://idp.example.com/.well-known/jwks.json): https, or http
	// to a loopback host. Keys are cached and re-fetched every
	// RefreshInterval, and at once (at most every 30s) when a token names
	// an unknown kid. Default: none (static_keys only).
	JWKSURL string `yaml:"jwks_url"`
	// StaticKeys are public keys tried for any kid: each entry is PEM text
	// ("-----BEGIN PUBLIC KEY-----…", an RSA PUBLIC KEY or a CERTIFICATE;
	// several blocks may follow each other) or the path of a file holding
	// it, relative to the working directory. Private keys are refused.
	StaticKeys []string `yaml:"static_keys"`
	// Issuer must equal the token's "iss". Required.
	Issuer string `yaml:"issuer"`
	// Audience lists accepted "aud" values; the token must name one.
	// Required.
	Audience []string `yaml:"audience"`
	// Leeway is the clock skew allowed on exp, nbf and iat. Default 30s.
	Leeway Duration `yaml:"leeway"`
	// Algorithms lists accepted "alg" values. Default RS256, ES256, EdDSA;
	// only RS*, PS*, ES* and EdDSA may be listed (HS* and none never are).
	Algorithms []string `yaml:"algorithms"`
	// TenantClaim, TeamClaim, RolesClaim and ModelsClaim name the claims
	// the caller's tenant, team, admin role and model allow-list come
	// from: a top-level claim ("https://example.com/roles") or a dotted
	// path ("org.id"). Default: none read. A configured tenant claim must
	// be in every token.
	TenantClaim string `yaml:"tenant_claim"`
	TeamClaim   string `yaml:"team_claim"`
	RolesClaim  string `yaml:"roles_claim"`
	ModelsClaim string `yaml:"models_claim"`
	// RefreshInterval is how old the cached JWKS may get before it is
	// re-fetched in the background. Default 10m; at least 30s.
	RefreshInterval Duration `yaml:"refresh_interval"`
}

// Enabled reports whether any field of the section is set.
func (j *JWT) Enabled() bool {
	return j.JWKSURL != "" || len(j.StaticKeys) > 0 || j.Issuer != "" || len(j.Audience) > 0 ||
		len(j.Algorithms) > 0 || j.TenantClaim != "" || j.TeamClaim != "" || j.RolesClaim != "" ||
		j.ModelsClaim != "" || j.Leeway != 0 || j.RefreshInterval != 0
}

// AuthConfig returns the validator config j describes, with static key
// files read. The error of an entry that cannot be read names the entry
// (static_keys[i]), never its content; that entry is then "" in the
// returned config, which is otherwise complete.
func (j *JWT) AuthConfig() (auth.JWTConfig, error) {
	keys := make([]string, len(j.StaticKeys))
	var errs []error
	for i, k := range j.StaticKeys {
		pem, err := staticKey(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("static_keys[%d]: %w", i, err))
			continue
		}
		keys[i] = pem
	}
	return auth.JWTConfig{
		JWKSURL: j.JWKSURL, StaticKeys: keys, Issuer: j.Issuer, Audience: j.Audience,
		Leeway: j.Leeway.Std(), Algorithms: j.Algorithms,
		TenantClaim: j.TenantClaim, TeamClaim: j.TeamClaim, RolesClaim: j.RolesClaim, ModelsClaim: j.ModelsClaim,
		RefreshInterval: j.RefreshInterval.Std(),
	}, errors.Join(errs...)
}

// maxKeyFile bounds a static key file.
const maxKeyFile = 1 << 20

// staticKey returns entry's PEM text: entry itself, or the file it names.
func staticKey(entry string) (string, error) {
	if strings.Contains(entry, "-----BEGIN") {
		return entry, nil
	}
	f, err := os.Open(entry)
	if err != nil {
		return "", errors.New("neither PEM text nor a readable file")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("read the key file: %w", err)
	case len(b) > maxKeyFile:
		return "", fmt.Errorf("the key file is larger than %d bytes", maxKeyFile)
	}
	return string(b), nil
}

// Spike is traffic-spike protection (auth.spike): a key or client address
// whose request rate jumps far above its own recent baseline is throttled
// for a cool-down, and a "traffic.spike" event is recorded.
type Spike struct {
	// Enabled switches detection on. Default false.
	Enabled bool `yaml:"enabled"`
	// Factor is how many times its baseline a window's requests must
	// reach to be a spike. Default 10; more than 1.
	Factor float64 `yaml:"factor"`
	// Window is the span requests are counted over. Default 10s.
	Window Duration `yaml:"window"`
	// Baseline is the span the usual rate is averaged over (an
	// exponentially weighted average of windows). Default 10m; at least
	// two windows. No spike trips in the first Baseline after start, while
	// baselines are learnt.
	Baseline Duration `yaml:"baseline"`
	// MinRequests is the fewest requests in one window that can be a
	// spike, whatever the baseline. Default 100.
	MinRequests int `yaml:"min_requests"`
	// Cooldown is how long a spiking key or address is refused (429).
	// Default 1m.
	Cooldown Duration `yaml:"cooldown"`
}

// Defaults of auth.jwt and auth.spike.
const (
	defaultSpikeFactor      = 10.0
	defaultSpikeWindow      = Duration(10 * time.Second)
	defaultSpikeBaseline    = Duration(10 * time.Minute)
	defaultSpikeMinRequests = 100
	defaultSpikeCooldown    = Duration(time.Minute)
)

// authDefaults fills auth.spike; auth.jwt's defaults are the validator's.
func (c *Config) authDefaults() {
	s := &c.Auth.Spike
	if s.Factor == 0 && !c.src.explicit("auth.spike.factor") {
		s.Factor = defaultSpikeFactor
	}
	c.defaultDuration(&s.Window, "auth.spike.window", defaultSpikeWindow)
	c.defaultDuration(&s.Baseline, "auth.spike.baseline", defaultSpikeBaseline)
	c.defaultInt(&s.MinRequests, "auth.spike.min_requests", defaultSpikeMinRequests)
	c.defaultDuration(&s.Cooldown, "auth.spike.cooldown", defaultSpikeCooldown)
}

// jwtHints completes the validator's "required" complaints.
var jwtHints = map[string]string{
	"issuer":   `the token issuer ("iss") to accept, e.g. https://idp.example.com/`,
	"audience": `the "aud" values to accept, e.g. [sluice]`,
}

// jwt checks auth.jwt by building the validator it describes; each of the
// validator's complaints starts with its field's name, which becomes the
// key path.
func (v *validator) jwt() {
	j := &v.c.Auth.JWT
	if !j.Enabled() {
		return
	}
	const base = "auth.jwt"
	cfg, readErr := j.AuthConfig()
	unread := map[string]bool{}
	for _, e := range splitJoined(readErr) {
		field, msg, _ := strings.Cut(e.Error(), ": ")
		unread[field] = true
		v.bad(base+"."+field, "%s", msg)
	}
	_, err := auth.NewJWTValidator(cfg)
	for _, e := range splitJoined(errors.Unwrap(err)) { // Unwrap drops "auth: jwt config: "
		field, msg, ok := strings.Cut(e.Error(), ": ")
		switch {
		case !ok:
			v.bad(base, "%s", e.Error())
		case unread[field]:
			// Already reported: the entry could not be read.
		case field == "jwks_url or static_keys":
			v.missing(base, "jwks_url or static_keys is required: where the identity provider's public keys come from")
		case msg == "required" || strings.HasPrefix(msg, "at least one value is required"):
			v.missing(base+"."+field, "required: %s", jwtHints[field])
		default:
			v.bad(base+"."+field, "%s", msg)
		}
	}
}

// splitJoined lists the errors errors.Join put together; one error is a
// list of one, nil an empty list.
func splitJoined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func (v *validator) spike() {
	s := &v.c.Auth.Spike
	if !s.Enabled {
		return
	}
	if !(s.Factor > 1) {
		v.bad("auth.spike.factor", "must be greater than 1 (how many times its baseline a rate must reach)")
	}
	if s.Window <= 0 {
		v.bad("auth.spike.window", "must be greater than 0")
	}
	if s.Baseline < 2*s.Window {
		v.bad("auth.spike.baseline", "must be at least two windows (%s)", 2*s.Window)
	}
	if s.MinRequests <= 0 {
		v.bad("auth.spike.min_requests", "must be greater than 0")
	}
	if s.Cooldown <= 0 {
		v.bad("auth.spike.cooldown", "must be greater than 0")
	}
}
