package config

import (
	"fmt"
	"time"
)

// Config is the whole gateway configuration. Build one with Load, Parse or
// Default, which apply defaults and validate; a Config built by hand should
// go through ApplyDefaults and Validate before use.
//
// For the numeric and duration fields below whose zero value is meaningful,
// a zero written in the file is kept (a duration of 0 means "no limit") and
// only a key that is absent (or null) takes the default. A Config built in
// code has no file, so there every zero takes the default.
type Config struct {
	Server    Server     `yaml:"server"`
	Log       Log        `yaml:"log"`
	Providers []Provider `yaml:"providers"`
	// Models are virtual models: names clients call, mapped to targets.
	Models []Model `yaml:"models"`
	// Routes are conditional routes, tried in order before the router
	// resolves the model; see Route. Empty: every request goes to the
	// model it names.
	Routes []Route `yaml:"routes"`
	// Routing holds the retry, timeout, fallback, circuit-breaker and
	// least-latency defaults; see Routing.
	Routing Routing `yaml:"routing"`
	// Mock runs the built-in mock provider in-process (the embedded default
	// switches it on). Zero value: off.
	Mock Mock `yaml:"mock"`
	// Auth is who may call the gateway.
	Auth Auth `yaml:"auth"`
	// Limits is where rate-limit counters live and the per-IP limits;
	// see Limits.
	Limits Limits `yaml:"limits"`
	// Budgets says how spend budgets are enforced; see Budgets.
	Budgets Budgets `yaml:"budgets"`
	// Cache is the response cache; see Cache.
	Cache Cache `yaml:"cache"`
	// Guardrails are the guardrail rules, in the order they run; see
	// Guardrail.
	Guardrails []Guardrail `yaml:"guardrails"`
	// Cluster names this replica and the Redis replicas share; see
	// Cluster.
	Cluster Cluster `yaml:"cluster"`
	// Store is where state and request logs are kept.
	Store Store `yaml:"store"`
	// RequestLog is the durable per-request log.
	RequestLog RequestLog `yaml:"request_log"`
	// Metrics is the Prometheus endpoint.
	Metrics Metrics `yaml:"metrics"`
	// Tracing is OpenTelemetry export.
	Tracing Tracing `yaml:"tracing"`
	// Pricing overrides the built-in pricing catalog per model.
	Pricing []Price `yaml:"pricing"`

	// Path is the file the config was loaded from; empty for the embedded
	// default. Not part of the YAML.
	Path string `yaml:"-"`

	// src records where each key came from (line, explicit zero, env
	// variable); nil for a Config built in code.
	src *source
}

// ProviderByName returns the configured provider with that name, or nil.
// The built-in mock provider (Mock.Enabled) is not in Providers, so
// ProviderByName("mock") is nil for it. The pointer aliases c.Providers.
func (c *Config) ProviderByName(name string) *Provider {
	for i := range c.Providers {
		if c.Providers[i].Name == name {
			return &c.Providers[i]
		}
	}
	return nil
}

// Server configures the client-facing HTTP listener.
type Server struct {
	// Listen is the address to serve on, host:port with a numeric port
	// (":8080" listens on every interface; port 0 picks a free one).
	// Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// MaxBodyBytes bounds a request body; larger bodies get 413. Must be
	// above 0. Default 10 MiB (10485760).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ReadHeaderTimeout bounds reading request headers. Default 10s; an
	// explicit 0 means no limit.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 120s; an
	// explicit 0 means no limit.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// ShutdownGrace is how long in-flight requests and streams may run
	// after SIGTERM before they are cut. Default 30s; an explicit 0 cuts
	// them at once.
	ShutdownGrace Duration `yaml:"shutdown_grace"`
	// DataDir holds the gateway's files (database, spool). Default "./data".
	DataDir string `yaml:"data_dir"`
	// WatchConfig reloads the config file when it changes on disk, as
	// SIGHUP does. Default false.
	WatchConfig bool `yaml:"watch_config"`
}

// Log configures the process log.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is "text" or "json". Default text.
	Format string `yaml:"format"`
}

// Provider is one upstream LLM API.
type Provider struct {
	// Name identifies the provider in model names ("name/model"), targets
	// and passthrough paths ("/name/..."). Required, unique, [a-z0-9_-].
	Name string `yaml:"name"`
	// Type is a provider type from the catalog (openai, azure, anthropic,
	// gemini, mistral, groq, deepseek, openrouter, together, ollama, vllm,
	// lmstudio). Required.
	Type string `yaml:"type"`
	// BaseURL is the API root; defaults to the type's public endpoint.
	// Required for azure and vllm.
	BaseURL string `yaml:"base_url"`
	// APIKey is the upstream credential, usually "${ENV_VAR}". Required
	// unless the type is a local server.
	APIKey Secret `yaml:"api_key"`
	// APIVersion is Azure's api-version or Anthropic's anthropic-version.
	// Default: the adapter's own.
	APIVersion string `yaml:"api_version"`
	// Headers are added to every upstream request. Names must be valid
	// HTTP header names and unique ignoring case; framing headers
	// (Content-Length, Host, …) cannot be set. Values of headers that look
	// like credentials are redacted when the config is printed.
	Headers map[string]string `yaml:"headers"`
	// Models are advertised in /v1/models as "name/model".
	Models []string `yaml:"models"`
	// Timeout bounds one whole upstream call, and for streams the silence
	// between two chunks (a long healthy stream is never cut). Default 10m;
	// an explicit 0 means no bound beyond the client's own.
	Timeout Duration `yaml:"timeout"`
	// Region tags where the provider runs ("eu", "us"; [a-z0-9-]); a
	// caller pinned to regions reaches only targets tagged with one of
	// them. Default "" (untagged: never reached by a pinned caller).
	Region string `yaml:"region"`
	// HealthCheck optionally probes the provider's model list on an
	// interval; while it fails, the provider's targets are skipped like
	// open breakers. Default off.
	HealthCheck HealthCheck `yaml:"health_check"`
	// KeySelection picks among the provider's keys stored in the vault
	// (/admin/v1/credentials): "round_robin" (default) or "weighted" (by
	// each key's weight). With no usable vault key, APIKey is sent.
	KeySelection string `yaml:"key_selection,omitempty" json:",omitempty"`
}

// Key selections (Provider.KeySelection); "" is KeyRoundRobin.
const (
	KeyRoundRobin = "round_robin"
	KeyWeighted   = "weighted"
)

// Model is a virtual model.
type Model struct {
	// Name is what clients send as "model". Required, unique, and not of
	// the form "provider/model" for a configured provider.
	Name string `yaml:"name"`
	// Targets are tried per Strategy. At least one.
	Targets []Target `yaml:"targets"`
	// Strategy orders the targets for each request: "weighted" (default:
	// drawn by weight), "fallback" (in order), "least-latency" (fastest
	// decaying average first, with some exploration), "least-busy" (fewest
	// requests in flight first) or "cost" (cheapest catalog price first).
	// The others follow as fallbacks on a retryable failure.
	Strategy string `yaml:"strategy"`
	// Retry, Timeouts and FallbackOn override routing's defaults key by
	// key for this model.
	Retry      Retry    `yaml:"retry"`
	Timeouts   Timeouts `yaml:"timeouts"`
	FallbackOn []string `yaml:"fallback_on"`
	// Cache overrides the cache defaults (cache:) for this model.
	Cache *CacheSettings `yaml:"cache,omitempty" json:",omitempty"`
}

// Target is one provider model behind a virtual model, or another virtual
// model (nesting: leave provider out and name the model).
type Target struct {
	// Provider names a configured provider. Empty: Model names another
	// virtual model, whose own strategy orders its targets in this
	// target's place (cycles are rejected).
	Provider string `yaml:"provider"`
	// Model is the provider's own model name, or a virtual model's name
	// when Provider is empty. Required.
	Model string `yaml:"model"`
	// Weight is the share of traffic under the weighted strategy. Default
	// 1; an explicit 0 keeps the target for fallback only. At least one
	// target of a model needs a weight above 0.
	Weight int `yaml:"weight"`
	// Region overrides the provider's region tag for this target.
	Region string `yaml:"region"`
	// ContextWindow is the model's context window in tokens, for
	// fallback_on: [context_length] (which moves only to a target with a
	// larger known window). Default 0: unknown.
	ContextWindow int `yaml:"context_window"`
	// MaxTokens caps the answer's max_tokens for this target (a request
	// asking for more, or for no limit, is sent with the cap). Default 0:
	// no cap.
	MaxTokens int `yaml:"max_tokens"`
	// Extra is merged into the upstream request body sent to this target,
	// as a JSON merge patch (RFC 7386): each key sets that top-level
	// member of the provider's own wire format (objects merge, null
	// removes the member), whatever format the client spoke. Keys the
	// gateway writes from the request (model, messages, stream, …) are
	// refused. Provider targets only. Default none.
	Extra map[string]JSON `yaml:"extra,omitempty" json:",omitempty"`
	// Retry overrides the model's retry settings key by key for this
	// target (x-sluice-* request headers still win). Provider targets
	// only. Default: the model's.
	Retry *Retry `yaml:"retry,omitempty" json:",omitempty"`
}

// Mock configures the in-process mock provider.
type Mock struct {
	// Enabled starts the mock on a loopback port and registers it as the
	// provider "mock" (so "mock/echo" works). Default false; the embedded
	// default config enables it.
	Enabled bool `yaml:"enabled"`
	// Latency delays every mock answer. Default 0.
	Latency Duration `yaml:"latency"`
}

// Duration is a time.Duration written in YAML as "10s", "1m30s", "250ms".
// A plain number is rejected (except 0), since its unit would be a guess.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as a Go duration string ("1m30s"), so that YAML and
// JSON output read like the config file.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Go duration string ("1m30s").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Secret is a string that never prints: fmt, logs and YAML output show
// "[redacted]" (or "" when empty). Use Value to read it.
type Secret string

// Value returns the secret itself.
func (s Secret) Value() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the secret.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// MarshalYAML writes the redacted form.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalText writes the redacted form (JSON and slog use it).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
