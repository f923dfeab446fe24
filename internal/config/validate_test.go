package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseValidationErrors covers every semantic rule with the exact line
// and key path it reports.
func TestParseValidationErrors(t *testing.T) {
	const target = "models:\n  - name: m\n    targets:\n      - {provider: openai, model: gpt-4o}\n"
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "listen without a port",
			src:  "server:\n  listen: 8080\n",
			want: []string{`sluice.yaml:2: server.listen: must be host:port, e.g. 127.0.0.1:8080 or :8080, got "8080"`},
		},
		{
			name: "listen with a named port",
			src:  "server: {listen: \"localhost:http\"}\n",
			want: []string{`sluice.yaml:1: server.listen: port must be a number from 0 to 65535, got "localhost:http"`},
		},
		{
			name: "listen on every interface and port 0 are fine",
			src:  "server: {listen: \":0\"}\n",
		},
		{
			name: "explicit zero body limit",
			src:  "server:\n  max_body_bytes: 0\n",
			want: []string{"sluice.yaml:2: server.max_body_bytes: must be greater than 0 (bytes; the default is 10485760)"},
		},
		{
			name: "negative durations",
			src:  "server:\n  read_header_timeout: -1s\n  idle_timeout: -1s\n  shutdown_grace: -1s\nmock: {latency: -5ms}\n",
			want: []string{
				"sluice.yaml:2: server.read_header_timeout: must not be negative",
				"sluice.yaml:3: server.idle_timeout: must not be negative",
				"sluice.yaml:4: server.shutdown_grace: must not be negative",
				"sluice.yaml:5: mock.latency: must not be negative",
			},
		},
		{
			name: "store driver and postgres dsn",
			src:  "store: {driver: mysql}\n",
			want: []string{`sluice.yaml:1: store.driver: must be sqlite or postgres, got "mysql"`},
		},
		{
			name: "postgres needs a postgres URL",
			src:  "store:\n  driver: postgres\n  dsn: \"mysql://u:hunter2@h/db\"\n",
			want: []string{"sluice.yaml:3: store.dsn: must be a postgres:// URL"},
		},
		{
			name: "request log sizes and export",
			src: "request_log:\n  queue_size: 0\n  flush_interval: 0s\n  payloads: {routes: [v1/chat]}\n" +
				"  export:\n    webhook: {url: \"ftp://x\", headers: {\"Bad Name\": v}}\n",
			want: []string{
				"sluice.yaml:2: request_log.queue_size: must be greater than 0",
				"sluice.yaml:3: request_log.flush_interval: must be greater than 0",
				`sluice.yaml:4: request_log.payloads.routes[0]: must be a path starting with /, got "v1/chat"`,
				"sluice.yaml:6: request_log.export.webhook.url: must be an absolute http(s) URL",
				`sluice.yaml:6: request_log.export.webhook.headers["Bad Name"]: not a valid HTTP header name`,
			},
		},
		{
			name: "tracing needs an endpoint and a ratio from 0 to 1",
			src:  "tracing: {enabled: true, sample_ratio: 1.5}\n",
			want: []string{
				"sluice.yaml:1: tracing.sample_ratio: must be from 0 to 1",
				"sluice.yaml:1: tracing.endpoint: required when tracing is enabled: the OTLP/HTTP collector, e.g. http://127.0.0.1:4318",
			},
		},
		{
			name: "tracing endpoint without credentials",
			src:  "tracing: {enabled: true, endpoint: \"https://u:p@collector:4318?k=1\"}\n",
			want: []string{"sluice.yaml:1: tracing.endpoint: must not carry credentials, a query or a fragment (put credentials in tracing.headers)"},
		},
		{
			name: "prices are exact decimals",
			src: "pricing:\n  - {model: gpt-4o, input: \"2.50\", output: \"abc\"}\n" +
				"  - {model: gpt-4o, input: 1, output: 2}\n  - {input: 1}\n",
			want: []string{
				`sluice.yaml:2: pricing[0].output: invalid USD amount "abc": not a decimal number`,
				`sluice.yaml:3: pricing[1].model: "gpt-4o" is priced twice (first at line 2)`,
				`sluice.yaml:4: pricing[2].model: required: "provider/model" or a bare model name`,
				`sluice.yaml:4: pricing[2].output: required: US dollars per million tokens, e.g. "2.50"`,
			},
		},
		{
			name: "log level and format",
			src:  "log:\n  level: verbose\n  format: yaml\n",
			want: []string{
				`sluice.yaml:2: log.level: must be debug, info, warn or error, got "verbose"`,
				`sluice.yaml:3: log.format: must be text or json, got "yaml"`,
			},
		},
		{
			name: "provider name missing",
			src:  "providers:\n  - type: openai\n    api_key: k\n",
			want: []string{"sluice.yaml:2: providers[0].name: required: a name such as openai, used in model names (name/model) and targets"},
		},
		{
			name: "provider name with capitals",
			src:  "providers:\n  - {name: OpenAI, type: openai, api_key: k}\n",
			want: []string{`sluice.yaml:2: providers[0].name: must be lowercase letters, digits, - and _, starting with a letter or digit, got "OpenAI"`},
		},
		{
			name: "provider name starting with a dash",
			src:  "providers:\n  - {name: -x, type: openai, api_key: k}\n",
			want: []string{`sluice.yaml:2: providers[0].name: must be lowercase letters, digits, - and _, starting with a letter or digit, got "-x"`},
		},
		{
			name: "reserved provider names",
			src:  "providers:\n  - {name: v1, type: openai, api_key: k}\n  - {name: metrics, type: openai, api_key: k}\n",
			want: []string{
				`sluice.yaml:2: providers[0].name: "v1" is reserved (the gateway serves that path itself); choose another name`,
				`sluice.yaml:3: providers[1].name: "metrics" is reserved (the gateway serves that path itself); choose another name`,
			},
		},
		{
			name: "mock is reserved while the mock is enabled",
			src:  "mock: {enabled: true}\nproviders:\n  - {name: mock, type: ollama}\n",
			want: []string{`sluice.yaml:3: providers[0].name: "mock" is reserved for the built-in mock provider while mock.enabled is true`},
		},
		{
			name: "mock is an ordinary name while the mock is off",
			src:  "providers:\n  - {name: mock, type: ollama}\nmodels:\n  - {name: m, targets: [{provider: mock, model: echo}]}\n",
		},
		{
			name: "duplicate provider names",
			src:  okProvider + "  - name: openai\n    type: openai\n    api_key: k2\n",
			want: []string{`sluice.yaml:5: providers[1].name: duplicate provider name "openai" (first at line 2)`},
		},
		{
			name: "type missing",
			src:  "providers:\n  - {name: x, api_key: k}\n",
			want: []string{"sluice.yaml:2: providers[0].type: required: one of " + kindList()},
		},
		{
			name: "type unknown",
			src:  "providers:\n  - name: x\n    type: opnai\n",
			want: []string{`sluice.yaml:3: providers[0].type: unknown provider type "opnai"; valid types: openai, azure, anthropic, gemini, mistral, groq, deepseek, openrouter, together, ollama, vllm, lmstudio`},
		},
		{
			name: "base_url relative",
			src:  okProvider + "    base_url: api.openai.com/v1\n",
			want: []string{"sluice.yaml:5: providers[0].base_url: must be an absolute http(s) URL"},
		},
		{
			name: "base_url with another scheme",
			src:  okProvider + "    base_url: ftp://example.com/v1\n",
			want: []string{"sluice.yaml:5: providers[0].base_url: must be an absolute http(s) URL"},
		},
		{
			name: "base_url with a query",
			src:  okProvider + "    base_url: https://example.com/v1?key=x\n",
			want: []string{"sluice.yaml:5: providers[0].base_url: must not have a query or fragment (use api_version or headers)"},
		},
		{
			name: "base_url required for azure and vllm",
			src:  "providers:\n  - {name: az, type: azure, api_key: k}\n  - {name: vl, type: vllm}\n",
			want: []string{
				"sluice.yaml:2: providers[0].base_url: required for type azure: the API root, e.g. https://example.com/v1",
				"sluice.yaml:3: providers[1].base_url: required for type vllm: the API root, e.g. https://example.com/v1",
			},
		},
		{
			name: "api_key required, suggesting the catalog variable",
			src:  "providers:\n  - {name: openai, type: openai}\n",
			want: []string{`sluice.yaml:2: providers[0].api_key: required for type openai; write api_key: "${OPENAI_API_KEY}" and set that environment variable`},
		},
		{
			name: "api_key required, suggesting a variable named after the provider",
			src:  "providers:\n  - {name: claude-eu, type: anthropic}\n",
			want: []string{`sluice.yaml:2: providers[0].api_key: required for type anthropic; write api_key: "${CLAUDE_EU_API_KEY}" and set that environment variable`},
		},
		{
			name: "api_key optional for local servers",
			src:  "providers:\n  - {name: local, type: ollama}\n  - {name: studio, type: lmstudio}\n  - {name: vl, type: vllm, base_url: \"http://10.0.0.1:8000/v1\"}\n",
		},
		{
			name: "api_key with a line break",
			src:  okProvider + "    headers: {}\n  - {name: o2, type: openai, api_key: \"sk-1\\nX-Evil: 1\"}\n",
			want: []string{"sluice.yaml:6: providers[1].api_key: must not contain line breaks or other control characters"},
		},
		{
			name: "header names and values",
			src: okProvider + "    headers:\n" +
				"      \"Bad Name\": x\n" +
				"      Content-Length: \"5\"\n" +
				"      X-Id: a\n" +
				"      x-id: b\n" +
				"      X-Line: \"a\\r\\nb\"\n",
			want: []string{
				`sluice.yaml:6: providers[0].headers["Bad Name"]: not a valid HTTP header name`,
				"sluice.yaml:7: providers[0].headers.Content-Length: Content-Length is set by the gateway and cannot be configured",
				"sluice.yaml:9: providers[0].headers.x-id: same header as X-Id (header names ignore case)",
				"sluice.yaml:10: providers[0].headers.X-Line: value must not contain line breaks or other control characters",
			},
		},
		{
			name: "advertised models",
			src:  okProvider + "    models:\n      - gpt-4o\n      - \"\"\n      - gpt-4o\n",
			want: []string{
				"sluice.yaml:7: providers[0].models[1]: model name must not be empty",
				`sluice.yaml:8: providers[0].models[2]: duplicate model "gpt-4o" (first at line 6)`,
			},
		},
		{
			name: "negative provider timeout",
			src:  okProvider + "    timeout: -1m\n",
			want: []string{"sluice.yaml:5: providers[0].timeout: must not be negative"},
		},
		{
			name: "model name missing",
			src:  okProvider + "models:\n  - targets: [{provider: openai, model: x}]\n",
			want: []string{"sluice.yaml:6: models[0].name: required: the model name clients send"},
		},
		{
			name: "model name with spaces around it",
			src:  okProvider + "models:\n  - {name: \" m\", targets: [{provider: openai, model: x}]}\n",
			want: []string{"sluice.yaml:6: models[0].name: must not begin or end with spaces"},
		},
		{
			name: "duplicate model names",
			src:  okProvider + target + "  - name: m\n    targets: [{provider: openai, model: x}]\n",
			want: []string{`sluice.yaml:9: models[1].name: duplicate model name "m" (first at line 6)`},
		},
		{
			name: "model name in provider/model form of a configured provider",
			src:  okProvider + "models:\n  - name: openai/gpt-4o\n    targets: [{provider: openai, model: gpt-4o}]\n",
			want: []string{`sluice.yaml:6: models[0].name: "openai/gpt-4o" reads as model "gpt-4o" of configured provider "openai" (provider/model); rename the virtual model`},
		},
		{
			name: "model name in provider/model form of the enabled mock",
			src:  "mock: {enabled: true}\nmodels:\n  - name: mock/echo\n    targets: [{provider: mock, model: echo}]\n",
			want: []string{`sluice.yaml:3: models[0].name: "mock/echo" reads as model "echo" of configured provider "mock" (provider/model); rename the virtual model`},
		},
		{
			name: "a slash is fine when the prefix is not a provider",
			src:  okProvider + "models:\n  - name: team/chat\n    targets: [{provider: openai, model: gpt-4o}]\n",
		},
		{
			name: "unknown strategy",
			src:  okProvider + target + "    strategy: random\n",
			want: []string{`sluice.yaml:9: models[0].strategy: must be one of weighted, fallback, least-latency, least-busy, cost, got "random"`},
		},
		{
			name: "no targets",
			src:  okProvider + "models:\n  - name: m\n    targets: []\n",
			want: []string{"sluice.yaml:7: models[0].targets: at least one target is required, e.g. [{provider: openai, model: gpt-4o-mini}]"},
		},
		{
			name: "targets key missing",
			src:  okProvider + "models:\n  - name: m\n",
			want: []string{"sluice.yaml:6: models[0].targets: at least one target is required, e.g. [{provider: openai, model: gpt-4o-mini}]"},
		},
		{
			name: "dangling target provider, on the target's line",
			src: okProvider + "models:\n  - name: m\n    targets:\n" +
				"      - {provider: openai, model: gpt-4o}\n" +
				"      - provider: anthropic\n        model: claude\n",
			want: []string{`sluice.yaml:9: models[0].targets[1].provider: unknown provider "anthropic"; configured: openai`},
		},
		{
			name: "target on the mock while the mock is off",
			src:  okProvider + "models:\n  - {name: m, targets: [{provider: mock, model: echo}]}\n",
			want: []string{`sluice.yaml:6: models[0].targets[0].provider: unknown provider "mock"; configured: openai; set mock.enabled: true to use the built-in mock`},
		},
		{
			name: "target fields missing",
			src:  okProvider + "models:\n  - name: m\n    targets:\n      - {weight: 2}\n",
			want: []string{
				"sluice.yaml:8: models[0].targets[0].provider: required: the name of a configured provider",
				"sluice.yaml:8: models[0].targets[0].model: required: the provider's own model name",
			},
		},
		{
			name: "negative weight",
			src:  okProvider + target + "      - {provider: openai, model: gpt-4o-mini, weight: -1}\n",
			want: []string{"sluice.yaml:9: models[0].targets[1].weight: must not be negative"},
		},
		{
			name: "all weights zero",
			src:  okProvider + "models:\n  - name: m\n    targets:\n      - {provider: openai, model: a, weight: 0}\n      - {provider: openai, model: b, weight: 0}\n",
			want: []string{"sluice.yaml:7: models[0].targets: at least one target needs a weight above 0"},
		},
		{
			name: "zero weight next to a default weight is fine",
			src:  okProvider + target + "      - {provider: openai, model: b, weight: 0}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.src), "sluice.yaml", lookupIn(testEnv))
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidateWithoutFile checks a Config built in code: problems carry
// their key path but no file or line, and ApplyDefaults fills every zero.
func TestValidateWithoutFile(t *testing.T) {
	c := &Config{
		Providers: []Provider{{Name: "a", Type: "openai", APIKey: "k"}, {Name: "a", Type: "nope"}},
		Models:    []Model{{Name: "m", Targets: []Target{{Provider: "a", Model: "x"}}}},
	}
	c.ApplyDefaults()
	want := []string{
		`providers[1].name: duplicate provider name "a" (first at providers[0].name)`,
		`providers[1].type: unknown provider type "nope"; valid types: ` + kindList(),
	}
	if diff := cmp.Diff(want, errLines(c.Validate())); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if got := c.Models[0].Targets[0].Weight; got != 1 {
		t.Errorf("weight = %d; want the default 1 for a Config built in code", got)
	}
	var first *Error
	if !errors.As(c.Validate(), &first) || first.Path != "providers[1].name" || first.Line != 0 {
		t.Errorf("first problem = %+v; want an *Error for providers[1].name without a line", first)
	}
}

// TestValidateBeforeDefaults checks that Validate does not apply defaults
// itself: an empty Config is missing its listen address.
func TestValidateBeforeDefaults(t *testing.T) {
	err := (&Config{}).Validate()
	if err == nil || !strings.Contains(err.Error(), "server.listen: required") {
		t.Errorf("Validate() = %v; want server.listen required", err)
	}
}
