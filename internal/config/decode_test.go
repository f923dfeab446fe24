package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseDecodeErrors covers every class of problem the decoder reports:
// each names the file, the exact line and the key path.
func TestParseDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "unknown key with suggestion",
			src:  "server:\n  listen: 127.0.0.1:8080\n  lisen: x\n",
			want: []string{"sluice.yaml:3: server.lisen: unknown key (did you mean listen?)"},
		},
		{
			name: "unknown top-level key",
			src:  "# comment\nsever:\n  listen: x\n",
			want: []string{"sluice.yaml:2: sever: unknown key (did you mean server?)"},
		},
		{
			name: "unknown key far from any known one",
			src:  "log:\n  colour: true\n",
			want: []string{"sluice.yaml:2: log.colour: unknown key"},
		},
		{
			name: "unknown key inside a list item",
			src:  "providers:\n  - name: openai\n    type: openai\n    api_key: k\n    base-url: http://x\n",
			want: []string{"sluice.yaml:5: providers[0].base-url: unknown key (did you mean base_url?)"},
		},
		{
			name: "unknown key with odd characters is quoted",
			src:  "server:\n  \"lis ten\": x\n",
			want: []string{`sluice.yaml:2: server["lis ten"]: unknown key (did you mean listen?)`},
		},
		{
			name: "duplicate key",
			src:  "server:\n  listen: 127.0.0.1:1\n  data_dir: d\n  listen: 127.0.0.1:2\n",
			want: []string{"sluice.yaml:4: server.listen: duplicate key (first at line 2)"},
		},
		{
			name: "duplicate header",
			src:  okProvider + "    headers:\n      X-A: 1\n      X-A: 2\n",
			want: []string{"sluice.yaml:7: providers[0].headers.X-A: duplicate key (first at line 6)"},
		},
		{
			name: "string where an integer belongs",
			src:  "server:\n  max_body_bytes: lots\n",
			want: []string{`sluice.yaml:2: server.max_body_bytes: must be an integer, got "lots"`},
		},
		{
			name: "float where an integer belongs",
			src:  "server: {max_body_bytes: 1.5e6}\n",
			want: []string{`sluice.yaml:1: server.max_body_bytes: must be an integer, got "1.5e6"`},
		},
		{
			name: "quoted number is a string",
			src:  "server: {max_body_bytes: \"100\"}\n",
			want: []string{`sluice.yaml:1: server.max_body_bytes: must be an integer, got "100"`},
		},
		{
			name: "integer too large",
			src:  okProvider + "models:\n  - name: m\n    targets: [{provider: openai, model: x, weight: 0x7fffffffffffffff}]\n",
			want: nil, // fits int on 64-bit platforms
		},
		{
			name: "YAML 1.1 boolean",
			src:  "mock:\n  enabled: yes\n",
			want: []string{`sluice.yaml:2: mock.enabled: must be true or false, got "yes"`},
		},
		{
			name: "mapping where a string belongs",
			src:  "providers:\n  - name: {first: a}\n    type: openai\n    api_key: k\n",
			want: []string{"sluice.yaml:2: providers[0].name: must be a string, got a mapping"},
		},
		{
			name: "mapping where a list belongs",
			src:  "providers:\n  openai: {type: openai}\n",
			want: []string{"sluice.yaml:2: providers: must be a list, got a mapping"},
		},
		{
			name: "scalar where a mapping belongs",
			src:  "server: 127.0.0.1:8080\n",
			want: []string{"sluice.yaml:1: server: must be a mapping of keys, got a string"},
		},
		{
			name: "list item of the wrong kind",
			src:  okProvider + "models:\n  - chat\n",
			want: []string{"sluice.yaml:6: models[0]: must be a mapping of keys, got a string"},
		},
		{
			name: "unsupported tag",
			src:  "providers:\n  - {name: x, type: openai, api_key: !!binary aGVsbG8=}\n",
			want: []string{"sluice.yaml:2: providers[0].api_key: must be a string, got a !!binary value"},
		},
		{
			name: "non-string key",
			src:  "server:\n  ? [a, b]\n  : x\n",
			want: []string{"sluice.yaml:2: server: keys must be plain strings, got a list"},
		},
		{
			name: "duration as a plain integer",
			src:  okProvider + "    timeout: 30\n",
			want: []string{`sluice.yaml:5: providers[0].timeout: a plain number is not a duration; use a unit, e.g. 30s, 1m or 250ms, got "30"`},
		},
		{
			name: "duration without a valid unit",
			src:  "server:\n  idle_timeout: 2 minutes\n",
			want: []string{`sluice.yaml:2: server.idle_timeout: must be a duration such as 30s, 1m or 1h30m (units: ns, us, ms, s, m, h), got "2 minutes"`},
		},
		{
			name: "duration as a boolean",
			src:  "mock: {latency: true}\n",
			want: []string{`sluice.yaml:1: mock.latency: must be a duration such as 30s, 1m or 1h30m (units: ns, us, ms, s, m, h), got "true"`},
		},
		{
			name: "invalid YAML: unclosed flow list",
			src:  "server:\n  listen: 127.0.0.1:8080\nproviders: [\n",
			want: []string{"sluice.yaml:3: invalid YAML: did not find expected node content"},
		},
		{
			name: "invalid YAML: bad indentation",
			src:  "server:\n  listen: 127.0.0.1:8080\n data_dir: d\n",
			want: []string{"sluice.yaml:3: invalid YAML: did not find expected key"},
		},
		{
			name: "invalid YAML: missing colon",
			src:  "server:\n  listen: x\nlog\n",
			want: []string{"sluice.yaml:3: invalid YAML: could not find expected ':'"},
		},
		{
			name: "invalid YAML on the first line",
			src:  "server: a: b\n",
			want: []string{"sluice.yaml:1: invalid YAML: mapping values are not allowed in this context"},
		},
		{
			name: "tab indentation",
			src:  "\tserver: {}\n",
			want: []string{"sluice.yaml:1: invalid YAML: found character that cannot start any token"},
		},
		{
			name: "unterminated quote runs to the end",
			src:  "log:\n  level: 'info\n",
			want: []string{"sluice.yaml:2: invalid YAML: found unexpected end of stream"},
		},
		{
			name: "invalid UTF-8",
			src:  "log:\n  level: info\n  format: \"\xff\"\n",
			want: []string{"sluice.yaml:3: invalid YAML: invalid leading UTF-8 octet"},
		},
		{
			name: "control character",
			src:  "log:\n  level: in\x01fo\n",
			want: []string{"sluice.yaml:2: invalid YAML: control characters are not allowed"},
		},
		{
			name: "unknown anchor",
			src:  "log: {}\nserver: *nope\n",
			want: []string{"sluice.yaml:2: invalid YAML: unknown anchor 'nope' referenced"},
		},
		{
			name: "two documents",
			src:  "log: {level: info}\n---\nlog: {level: debug}\n",
			want: []string{"sluice.yaml:2: a config file holds one YAML document; remove the second one (after ---)"},
		},
		{
			name: "top level is a list",
			src:  "- server\n",
			want: []string{"sluice.yaml:1: the top level must be a mapping of keys (server, log, providers, models, mock, auth, store, request_log, metrics, tracing, pricing), got a list"},
		},
		{
			name: "alias inside its own anchor",
			src:  "x-loop: &loop\n  a: *loop\nserver: *loop\n",
			want: []string{"sluice.yaml:2: server.a: unknown key"},
		},
		{
			name: "merge key cycle",
			src:  "server: &s\n  <<: *s\n",
			want: []string{"sluice.yaml:2: server: alias *s is used inside its own anchor"},
		},
		{
			name: "merge of a scalar",
			src:  "server:\n  <<: 5\n",
			want: []string{"sluice.yaml:2: server: \"<<\" merges mappings, got a number"},
		},
		{
			name: "problems are sorted by line and all reported",
			src: "log: {level: loud}\n" +
				"server:\n  lisen: x\n  max_body_bytes: -1\n" +
				"providers:\n  - {name: a, type: nope, api_key: k}\n",
			want: []string{
				`sluice.yaml:1: log.level: must be debug, info, warn or error, got "loud"`,
				"sluice.yaml:3: server.lisen: unknown key (did you mean listen?)",
				"sluice.yaml:4: server.max_body_bytes: must be greater than 0 (bytes; the default is 10485760)",
				`sluice.yaml:6: providers[0].type: unknown provider type "nope"; valid types: ` + kindList(),
			},
		},
		{
			name: "a value that failed to decode is not also reported missing",
			src:  "providers:\n  - {name: a, type: openai, api_key: [k]}\n",
			want: []string{"sluice.yaml:2: providers[0].api_key: must be a string, got a list"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse([]byte(tt.src), "sluice.yaml", lookupIn(testEnv))
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if (err == nil) != (c != nil) {
				t.Errorf("parse returned config %v with error %v; want exactly one", c != nil, err)
			}
		})
	}
}

// TestParseAcceptsYAMLFeatures checks YAML that is valid and means what a
// YAML user expects: anchors, merge keys, x- extension keys, nulls,
// integer spellings and string-typed scalars.
func TestParseAcceptsYAMLFeatures(t *testing.T) {
	src := `
x-common: &common
  type: openai
  api_key: k
  timeout: 1m
providers:
  - name: a
    <<: *common
  - name: b
    <<: [*common, {api_version: v1}]
    timeout: 2m
server:
  listen:            # null: the default
  max_body_bytes: 0x100_000
log: ~
models:
  - name: 2024-06-01   # a timestamp, taken as written
    targets: [{provider: a, model: 42}]
`
	c := mustParse(t, src)
	got := struct {
		Types    []string
		Timeouts []Duration
		Version  string
		Listen   string
		Max      int64
		Model    string
		Target   string
		Level    string
	}{
		Types:    []string{c.Providers[0].Type, c.Providers[1].Type},
		Timeouts: []Duration{c.Providers[0].Timeout, c.Providers[1].Timeout},
		Version:  c.Providers[1].APIVersion,
		Listen:   c.Server.Listen,
		Max:      c.Server.MaxBodyBytes,
		Model:    c.Models[0].Name,
		Target:   c.Models[0].Targets[0].Model,
		Level:    c.Log.Level,
	}
	want := got
	want.Types = []string{"openai", "openai"}
	want.Timeouts = []Duration{Duration(60e9), Duration(120e9)}
	want.Version = "v1"
	want.Listen = defaultListen
	want.Max = 0x100000
	want.Model = "2024-06-01"
	want.Target = "42"
	want.Level = "info"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestParseAliasBudget guards against documents whose aliases multiply
// into far more nodes than the file holds ("billion laughs"): 500 models
// sharing a list of 500 targets is 250,000 targets from a 2 kB file.
func TestParseAliasBudget(t *testing.T) {
	src := "x-x: &x {provider: p, model: m}\nx-t: &t [" + strings.Repeat("*x, ", 499) + "*x]\n" +
		"x-m: &m {name: m, targets: *t}\nmodels: [" + strings.Repeat("*m, ", 499) + "*m]\n"
	_, err := parse([]byte(src), "big.yaml", lookupIn(testEnv))
	want := []string{"big.yaml:4: document too large: aliases expand to too many nodes"}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestParseErrorLimit checks that a file with very many problems reports
// the first ones and a count, every line naming the file.
func TestParseErrorLimit(t *testing.T) {
	src := "models:\n" + strings.Repeat("  - {name: m, bogus: 1, targets: [{provider: p, model: m}]}\n", 200)
	_, err := parse([]byte(src), "many.yaml", lookupIn(testEnv))
	lines := errLines(err)
	if len(lines) != maxErrors+1 {
		t.Fatalf("got %d error lines; want %d", len(lines), maxErrors+1)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "many.yaml") {
			t.Errorf("line %q does not name the file", l)
		}
	}
	if want := "many.yaml: "; !strings.HasPrefix(lines[maxErrors], want) || !strings.HasSuffix(lines[maxErrors], "more problems not shown") {
		t.Errorf("last line = %q; want a count of the problems not shown", lines[maxErrors])
	}
}

// TestParseMergeChainBudget guards against merge keys that chain anchors
// so that each level copies every key of the levels below it.
func TestParseMergeChainBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("x-0: &a0 {k0: 0}\n")
	for i := 1; i < 5000; i++ {
		fmt.Fprintf(&b, "x-%d: &a%d {<<: *a%d, k%d: 0}\n", i, i, i-1, i)
	}
	b.WriteString("server: *a4999\n")
	_, err := parse([]byte(b.String()), "chain.yaml", lookupIn(testEnv))
	lines := errLines(err)
	if want := "chain.yaml:5001: document too large: aliases expand to too many nodes"; len(lines) == 0 || lines[0] != want {
		t.Errorf("first error = %q; want %q", lines[0], want)
	}
}
