package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"KEY": "sk-1", "EMPTY": "", "HOST": "h", "DOLLAR": "a$b"}
	tests := []struct {
		name     string
		in       string
		want     string
		wantVars []string
		wantErr  string
	}{
		{name: "no dollar", in: "plain text", want: "plain text"},
		{name: "variable", in: "${KEY}", want: "sk-1", wantVars: []string{"KEY"}},
		{name: "variable inside text", in: "Bearer ${KEY}!", want: "Bearer sk-1!", wantVars: []string{"KEY"}},
		{name: "two variables", in: "http://${HOST}:${PORT:-80}/v1", want: "http://h:80/v1", wantVars: []string{"HOST", "PORT"}},
		{name: "default when unset", in: "${NOPE:-fallback}", want: "fallback", wantVars: []string{"NOPE"}},
		{name: "default when empty", in: "${EMPTY:-fallback}", want: "fallback", wantVars: []string{"EMPTY"}},
		{name: "value wins over default", in: "${KEY:-fallback}", want: "sk-1", wantVars: []string{"KEY"}},
		{name: "empty default", in: "${NOPE:-}", want: "", wantVars: []string{"NOPE"}},
		{name: "default is literal", in: "${NOPE:-a:-b $x}", want: "a:-b $x", wantVars: []string{"NOPE"}},
		{name: "set but empty without default", in: "[${EMPTY}]", want: "[]", wantVars: []string{"EMPTY"}},
		{name: "escaped dollar", in: "pa$$word", want: "pa$word"},
		{name: "escaped reference", in: "$${KEY}", want: "${KEY}"},
		{name: "lone dollar kept", in: "cost: $5, $", want: "cost: $5, $"},
		{name: "bare $VAR is not expanded", in: "$KEY", want: "$KEY"},
		{name: "value is not expanded again", in: "${DOLLAR}", want: "a$b", wantVars: []string{"DOLLAR"}},
		{name: "unset", in: "x ${MOCK_KEY} y", wantErr: "environment variable MOCK_KEY is not set (write ${MOCK_KEY:-default} for a fallback)"},
		{name: "unterminated", in: "${KEY", wantErr: `unterminated "${": missing "}"`},
		{name: "empty name", in: "${}", wantErr: `"${" must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)`},
		{name: "name starting with a digit", in: "${1X}", wantErr: `"${" must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)`},
		{name: "unsupported operator", in: "${KEY:=x}", wantErr: "unsupported form ${KEY...}: write ${KEY} or ${KEY:-default} (and $$ for a literal $)"},
		{name: "dash without colon", in: "${KEY-x}", wantErr: "unsupported form ${KEY...}: write ${KEY} or ${KEY:-default} (and $$ for a literal $)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, vars, err := expand(tt.in, lookupIn(env))
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantVars, vars); diff != "" {
				t.Errorf("vars (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseEnv checks expansion inside documents: values only, typed
// after expansion, never re-parsed as YAML.
func TestParseEnv(t *testing.T) {
	env := with(map[string]string{
		"LISTEN":   "127.0.0.1:9999",
		"MAXBODY":  "2048",
		"TIMEOUT":  "45s",
		"ENABLED":  "true",
		"WEIGHT":   "7",
		"INJECT":   "x\n  evil: true",
		"HDR":      "v: {a: 1}",
		"LEVEL":    "null",
		"PROVIDER": "openai",
	})
	src := `server:
  listen: ${LISTEN}
  max_body_bytes: "${MAXBODY}"   # quoted, still an integer once expanded
  idle_timeout: ${UNSET_TIMEOUT:-}
mock:
  enabled: ${ENABLED}
providers:
  - name: ${PROVIDER}
    type: openai
    api_key: ${OPENAI_API_KEY}
    api_version: ${INJECT}
    timeout: ${TIMEOUT}
    headers:
      X-Hdr: ${HDR}
models:
  - name: m
    targets: [{provider: openai, model: "$${literal}", weight: "${WEIGHT}"}]
`
	c, err := parse([]byte(src), "env.yaml", lookupIn(env))
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		Listen      string
		MaxBody     int64
		IdleTimeout Duration
		Enabled     bool
		Name        string
		Key         string
		APIVersion  string
		Timeout     Duration
		Header      string
		Model       string
		Weight      int
	}
	got := view{
		c.Server.Listen, c.Server.MaxBodyBytes, c.Server.IdleTimeout, c.Mock.Enabled,
		c.Providers[0].Name, c.Providers[0].APIKey.Value(), c.Providers[0].APIVersion, c.Providers[0].Timeout,
		c.Providers[0].Headers["X-Hdr"], c.Models[0].Targets[0].Model, c.Models[0].Targets[0].Weight,
	}
	wantView := view{
		Listen: "127.0.0.1:9999", MaxBody: 2048, IdleTimeout: defaultIdleTimeout, Enabled: true,
		Name: "openai", Key: testEnv["OPENAI_API_KEY"], APIVersion: "x\n  evil: true", Timeout: Duration(45e9),
		Header: "v: {a: 1}", Model: "${literal}", Weight: 7,
	}
	if diff := cmp.Diff(wantView, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestParseEnvErrors checks problems in ${...} references and in expanded
// values: each names the line, the key and the variable.
func TestParseEnvErrors(t *testing.T) {
	env := with(map[string]string{"PORT": "eighty", "NUM": "30"})
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "unset variable",
			src:  "providers:\n  - name: mock-a\n    type: openai\n    base_url: http://127.0.0.1:9101/v1\n    api_key: ${MOCK_KEY_UNSET}\n",
			want: []string{"sluice.yaml:5: providers[0].api_key: environment variable MOCK_KEY_UNSET is not set (write ${MOCK_KEY_UNSET:-default} for a fallback)"},
		},
		{
			name: "keys are never expanded",
			src:  "providers:\n  - name: openai\n    type: openai\n    api_key: k\n    headers:\n      ${HDR}: x\n",
			want: []string{`sluice.yaml:6: providers[0].headers["${HDR}"]: not a valid HTTP header name`},
		},
		{
			name: "bad reference",
			src:  "log:\n  level: ${LEVEL:?required}\n",
			want: []string{"sluice.yaml:2: log.level: unsupported form ${LEVEL...}: write ${LEVEL} or ${LEVEL:-default} (and $$ for a literal $)"},
		},
		{
			name: "expanded value of the wrong type names the variable",
			src:  "server:\n  max_body_bytes: ${PORT}\n",
			want: []string{"sluice.yaml:2: server.max_body_bytes: must be an integer (value from environment variable PORT)"},
		},
		{
			name: "expanded plain number for a duration",
			src:  "server:\n  idle_timeout: ${NUM}\n",
			want: []string{"sluice.yaml:2: server.idle_timeout: a plain number is not a duration; use a unit, e.g. 30s, 1m or 250ms (value from environment variable NUM)"},
		},
		{
			name: "empty variable for a required value",
			src:  "providers:\n  - name: openai\n    type: openai\n    api_key: ${EMPTY}\n",
			want: []string{`sluice.yaml:4: providers[0].api_key: required for type openai; write api_key: "${OPENAI_API_KEY}" and set that environment variable (environment variable EMPTY is empty)`},
		},
		{
			name: "invalid expanded value names the variable",
			src:  "server:\n  listen: ${PORT}\n",
			want: []string{"sluice.yaml:2: server.listen: must be host:port, e.g. 127.0.0.1:8080 or :8080 (value from environment variable PORT)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.src), "sluice.yaml", lookupIn(env))
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
