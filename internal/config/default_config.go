package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/provider"
)

// baseURLEnv names the variables that override a catalog type's base URL in
// the embedded default, as the vendors' own SDKs do.
var baseURLEnv = map[string]string{
	"openai":    "OPENAI_BASE_URL",
	"anthropic": "ANTHROPIC_BASE_URL",
}

// defaultModel is the virtual model of the embedded default.
const defaultModel = "chat-default"

// Default returns the embedded configuration `sluice serve` uses without
// --config: every server default, the built-in mock enabled, and a virtual
// model "chat-default" answered by mock/echo. Real providers are switched
// on by the environment, read through getenv (nil means os.Getenv):
//
//   - for each catalog type with an EnvKey (OPENAI_API_KEY,
//     ANTHROPIC_API_KEY, GEMINI_API_KEY, …) that is set and not blank, a
//     provider named after the type with that key;
//   - OPENAI_BASE_URL and ANTHROPIC_BASE_URL replace those providers'
//     base URLs when set;
//   - OLLAMA_HOST ("host", "host:port" or a URL, as the Ollama CLI reads
//     it) adds a provider "ollama" at that address + "/v1".
//
// Values are trimmed of surrounding white space. Default fails only for a
// value that cannot work (a base URL that is not an http(s) URL, a key with
// a line break); the error names the variable, never its value.
func Default(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	src := newSource("")
	c := &Config{Mock: Mock{Enabled: true}, src: src}
	// Loopback only (serve refuses more), so no key is asked for.
	c.Auth.RequireKeys = false
	src.set["auth.require_keys"] = true
	for _, k := range provider.Kinds {
		if k.EnvKey == "" {
			continue
		}
		key := strings.TrimSpace(getenv(k.EnvKey))
		if key == "" {
			continue
		}
		path := indexPath("providers", len(c.Providers))
		p := Provider{Name: k.Type, Type: k.Type, APIKey: Secret(key)}
		src.env[fieldPath(path, "api_key")] = k.EnvKey
		if env := baseURLEnv[k.Type]; env != "" {
			if base := strings.TrimSpace(getenv(env)); base != "" {
				p.BaseURL = base
				src.env[fieldPath(path, "base_url")] = env
			}
		}
		c.Providers = append(c.Providers, p)
	}
	if host := strings.TrimSpace(getenv("OLLAMA_HOST")); host != "" {
		base, err := ollamaBaseURL(host)
		if err != nil {
			return nil, fmt.Errorf("default config: environment variable OLLAMA_HOST: %w", err)
		}
		src.env[fieldPath(indexPath("providers", len(c.Providers)), "base_url")] = "OLLAMA_HOST"
		c.Providers = append(c.Providers, Provider{Name: "ollama", Type: "ollama", BaseURL: base})
	}
	c.Models = []Model{{
		Name:    defaultModel,
		Targets: []Target{{Provider: mockProvider, Model: "echo", Weight: defaultWeight}},
	}}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("default config: %w", err)
	}
	return c, nil
}

// ollamaBaseURL turns an OLLAMA_HOST value into the OpenAI-compatible API
// root of that server, reading it as the Ollama CLI does: the scheme
// defaults to http, the host to 127.0.0.1 and the port to 11434 (80 or 443
// with an explicit scheme). A wildcard host (0.0.0.0, ::), which is how a
// server is told to listen everywhere, is reached on loopback.
func ollamaBaseURL(s string) (string, error) {
	scheme, hostport, ok := strings.Cut(s, "://")
	port := "11434"
	switch {
	case !ok:
		scheme, hostport = "http", s
	case scheme == "http":
		port = "80"
	case scheme == "https":
		port = "443"
	default:
		return "", fmt.Errorf("scheme must be http or https")
	}
	hostport, path, _ := strings.Cut(hostport, "/")
	host := hostport
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	}
	host = strings.Trim(host, "[]")
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", fmt.Errorf("port must be a number from 1 to 65535")
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: "/" + strings.Trim(path, "/")}
	if _, err := url.Parse(u.String()); err != nil || strings.ContainsAny(host, " /?#@") {
		return "", fmt.Errorf("not a host, host:port or URL")
	}
	if !strings.HasSuffix(u.Path, "/v1") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1"
	}
	return u.String(), nil
}
