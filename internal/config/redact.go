package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

const redacted = "[redacted]"

// Redacted returns the config as YAML, defaults included, for printing
// (`sluice config check --print`). Secrets are replaced with "[redacted]":
// API keys, header values that look like credentials (Authorization,
// *key*, *token*, *secret*, cookies) or came from an environment variable,
// and passwords in base URLs; in a target's extra, the members that hold
// a credential-like key at any depth or a value from an environment
// variable. The output has the layout of a config file, but since secrets
// are gone it is for reading, not for loading again.
func (c *Config) Redacted() ([]byte, error) {
	out := *c
	out.Providers = make([]Provider, len(c.Providers))
	for i, p := range c.Providers {
		headers := fieldPath(indexPath("providers", i), "headers")
		out.Providers[i] = p.redacted(func(name string) bool {
			return c.src.envVar(fieldPath(headers, name)) != ""
		})
	}
	out.Models = c.redactedModels()
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&out); err != nil {
		return nil, fmt.Errorf("config: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: encode: %w", err)
	}
	return b.Bytes(), nil
}

// redacted returns a copy of p for printing: credential-like header values
// (and those fromEnv reports, if not nil) and base URL user info replaced.
// The API key needs nothing: a Secret prints redacted.
func (p Provider) redacted(fromEnv func(header string) bool) Provider {
	if p.Headers != nil {
		p.Headers = maps.Clone(p.Headers)
		for name := range p.Headers {
			if sensitiveHeader(name) || fromEnv != nil && fromEnv(name) {
				p.Headers[name] = redacted
			}
		}
	}
	p.BaseURL = redactURL(p.BaseURL)
	return p
}

// String formats p as %+v would, with credentials redacted (API key,
// credential-like header values, base URL user info), so that printing a
// Provider or a Config with fmt does not leak them.
func (p Provider) String() string {
	type plain Provider // without methods, so fmt does not recurse
	return fmt.Sprintf("%+v", plain(p.redacted(nil)))
}

// GoString is String for %#v.
func (p Provider) GoString() string {
	type plain Provider
	return strings.Replace(fmt.Sprintf("%#v", plain(p.redacted(nil))), "config.plain", "config.Provider", 1)
}

// redactedModels returns the models with the sensitive members of each
// target's extra replaced (see Redacted); c.Models itself when no target
// has extra.
func (c *Config) redactedModels() []Model {
	var out []Model
	for i := range c.Models {
		for j, t := range c.Models[i].Targets {
			if len(t.Extra) == 0 {
				continue
			}
			if out == nil {
				out = slices.Clone(c.Models)
			}
			m := &out[i]
			if &m.Targets[0] == &c.Models[i].Targets[0] {
				m.Targets = slices.Clone(m.Targets)
			}
			ep := fieldPath(indexPath(fieldPath(indexPath("models", i), "targets"), j), "extra")
			extra := maps.Clone(t.Extra)
			for k, v := range extra {
				if sensitiveParam(k) || sensitiveJSON(v) || c.src.envUnder(fieldPath(ep, k)) {
					extra[k] = JSON(`"` + redacted + `"`)
				}
			}
			m.Targets[j].Extra = extra
		}
	}
	if out == nil {
		return c.Models
	}
	return out
}

// sensitiveJSON reports whether a JSON value holds a member whose key
// looks like a credential's, at any depth.
func sensitiveJSON(v []byte) bool {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return true // cannot look inside: hide it
	}
	var walk func(x any) bool
	walk = func(x any) bool {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				if sensitiveParam(k) || walk(v) {
					return true
				}
			}
		case []any:
			for _, v := range x {
				if walk(v) {
					return true
				}
			}
		}
		return false
	}
	return walk(x)
}

// sensitiveParam reports whether a request param's value is likely a
// credential: one of the words of its name (split at '_', '-' and
// camelCase humps) names one. "api_key", "accessToken" and
// "authentication" are; "max_tokens" and "top_k" are not.
func sensitiveParam(name string) bool {
	start := 0
	for i := 0; i <= len(name); i++ {
		end := i == len(name) || name[i] == '_' || name[i] == '-' ||
			i > start && 'A' <= name[i] && name[i] <= 'Z' && 'a' <= name[i-1] && name[i-1] <= 'z'
		if !end {
			continue
		}
		switch strings.ToLower(name[start:i]) {
		case "key", "apikey", "token", "secret", "password", "passwd", "auth", "authorization", "authentication",
			"credential", "credentials", "cookie", "signature", "bearer":
			return true
		}
		start = i
		if i < len(name) && (name[i] == '_' || name[i] == '-') {
			start = i + 1
		}
	}
	return false
}

// sensitiveHeader reports whether a header's value is likely a credential.
func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"auth", "key", "token", "secret", "cookie", "password", "signature", "credential"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// redactURL hides the user info of a URL ("https://[redacted]@host/v1");
// URLs without it pass unchanged, and text that does not parse as a URL
// is hidden whole.
func redactURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return redacted
	case u.User == nil:
		return s
	}
	u.User = nil
	rest := strings.TrimPrefix(u.String(), u.Scheme+"://")
	return u.Scheme + "://" + redacted + "@" + rest
}
