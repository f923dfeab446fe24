package config

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/provider"
)

// mockProvider is the name the gateway registers the built-in mock under
// when mock.enabled is true.
const mockProvider = "mock"

// reservedNames are first path segments the gateway serves itself, so no
// provider may use them for its passthrough path "/{name}/...".
var reservedNames = []string{"v1", "admin", "ui", "healthz", "readyz", "metrics", "_mock"}

// gatewayHeaders are set by the HTTP transport or the adapter; a static
// value would break the request.
var gatewayHeaders = []string{"Connection", "Content-Length", "Host", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// providers checks each provider and returns the names targets may refer
// to: every configured name, plus "mock" when the mock is enabled. A name
// maps to false when it came from an environment variable and so must not
// be printed.
func (v *validator) providers() map[string]bool {
	known := make(map[string]bool, len(v.c.Providers)+1)
	first := make(map[string]string, len(v.c.Providers))
	if v.c.Mock.Enabled {
		known[mockProvider] = true
	}
	for i := range v.c.Providers {
		p := &v.c.Providers[i]
		path := indexPath("providers", i)
		v.providerName(p.Name, fieldPath(path, "name"), first)
		if p.Name != "" {
			known[p.Name] = known[p.Name] || v.c.src.envVar(fieldPath(path, "name")) == ""
		}
		kind, ok := v.providerType(p.Type, fieldPath(path, "type"))
		v.baseURL(p, kind, ok, fieldPath(path, "base_url"))
		v.apiKey(p, kind, ok, fieldPath(path, "api_key"))
		v.headers(p.Headers, fieldPath(path, "headers"))
		seen := make(map[string]int, len(p.Models))
		for j, m := range p.Models {
			mp := indexPath(fieldPath(path, "models"), j)
			switch k, dup := seen[m]; {
			case m == "":
				v.missing(mp, "model name must not be empty")
			case dup:
				v.bad(mp, "duplicate model %s (first at %s)", v.q(mp, m), v.firstAt(indexPath(fieldPath(path, "models"), k)))
			default:
				seen[m] = j
			}
		}
		v.nonNegative(fieldPath(path, "timeout"), p.Timeout)
		if ks := p.KeySelection; ks != "" && ks != KeyRoundRobin && ks != KeyWeighted {
			kp := fieldPath(path, "key_selection")
			v.bad(kp, "must be %s or %s%s", KeyRoundRobin, KeyWeighted, v.show(kp, ks))
		}
	}
	return known
}

func (v *validator) providerName(name, path string, first map[string]string) {
	switch {
	case name == "":
		v.missing(path, "required: a name such as openai, used in model names (name/model) and targets")
	case !validName(name):
		v.bad(path, "must be lowercase letters, digits, - and _, starting with a letter or digit%s", v.show(path, name))
	case slices.Contains(reservedNames, name):
		v.bad(path, "%s is reserved (the gateway serves that path itself); choose another name", v.q(path, name))
	case name == mockProvider && v.c.Mock.Enabled:
		v.bad(path, "%s is reserved for the built-in mock provider while mock.enabled is true", v.q(path, name))
	default:
		if prev, dup := first[name]; dup {
			v.bad(path, "duplicate provider name %s (first at %s)", v.q(path, name), v.firstAt(prev))
			return
		}
		first[name] = path
	}
}

// validName reports whether s matches ^[a-z0-9][a-z0-9_-]*$.
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || i > 0 && (c == '-' || c == '_')) {
			return false
		}
	}
	return s != ""
}

func (v *validator) providerType(typ, path string) (provider.Kind, bool) {
	if typ == "" {
		v.missing(path, "required: one of %s", kindList())
		return provider.Kind{}, false
	}
	k, ok := provider.LookupKind(typ)
	if !ok {
		v.bad(path, "unknown provider type %s; valid types: %s", v.q(path, typ), kindList())
	}
	return k, ok
}

func kindList() string {
	types := make([]string, len(provider.Kinds))
	for i, k := range provider.Kinds {
		types[i] = k.Type
	}
	return strings.Join(types, ", ")
}

func (v *validator) baseURL(p *Provider, kind provider.Kind, known bool, path string) {
	if p.BaseURL == "" {
		if known && kind.BaseURL == "" {
			v.missing(path, "required for type %s: the API root, e.g. https://example.com/v1", kind.Type)
		}
		return
	}
	u, err := url.Parse(p.BaseURL)
	switch {
	case err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		// The URL is not printed: it may carry credentials.
		v.bad(path, "must be an absolute http(s) URL")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		v.bad(path, "must not have a query or fragment (use api_version or headers)")
	}
}

func (v *validator) apiKey(p *Provider, kind provider.Kind, known bool, path string) {
	key := p.APIKey.Value()
	if key == "" {
		if known && !kind.KeyOptional {
			v.missing(path, "required for type %s; write api_key: \"${%s}\" and set that environment variable", kind.Type, keyEnvName(p, kind))
		}
		return
	}
	if !validHeaderValue(key) {
		v.bad(path, "must not contain line breaks or other control characters")
	}
}

// keyEnvName suggests an environment variable for a provider's key: the
// catalog's (OPENAI_API_KEY) or one derived from the provider's name.
func keyEnvName(p *Provider, kind provider.Kind) string {
	if kind.EnvKey != "" && p.Name == kind.Type {
		return kind.EnvKey
	}
	name := strings.ToUpper(strings.Map(func(r rune) rune {
		if r == '-' {
			return '_'
		}
		return r
	}, p.Name))
	if !validName(p.Name) {
		name = strings.ToUpper(kind.Type)
	}
	return name + "_API_KEY"
}

func (v *validator) headers(h map[string]string, path string) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names) // a stable order for messages
	canonical := make(map[string]string, len(h))
	for _, name := range names {
		hp := fieldPath(path, name)
		ck := http.CanonicalHeaderKey(name)
		switch prev, dup := canonical[ck]; {
		case !validHeaderName(name):
			v.bad(hp, "not a valid HTTP header name")
		case slices.Contains(gatewayHeaders, ck):
			v.bad(hp, "%s is set by the gateway and cannot be configured", ck)
		case dup:
			v.bad(hp, "same header as %s (header names ignore case)", prev)
		default:
			canonical[ck] = name
		}
		if !validHeaderValue(h[name]) {
			v.bad(hp, "value must not contain line breaks or other control characters")
		}
	}
}
