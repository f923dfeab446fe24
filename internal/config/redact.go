package config

import (
	"bytes"
	"fmt"
	"maps"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

const redacted = "[redacted]"

// Redacted returns the config as YAML, defaults included, for printing
// (`sluice config check --print`). Secrets are replaced with "[redacted]":
// API keys, header values that look like credentials (Authorization,
// *key*, *token*, *secret*, cookies) or came from an environment variable,
// and passwords in base URLs. The output has the layout of a config file,
// but since secrets are gone it is for reading, not for loading again.
func (c *Config) Redacted() ([]byte, error) {
	out := *c
	out.Providers = make([]Provider, len(c.Providers))
	for i, p := range c.Providers {
		headers := fieldPath(indexPath("providers", i), "headers")
		out.Providers[i] = p.redacted(func(name string) bool {
			return c.src.envVar(fieldPath(headers, name)) != ""
		})
	}
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
