package config

import (
	"flag"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// testEnv is the environment parse sees in tests: fixed, never the process's.
var testEnv = map[string]string{
	"MOCK_KEY":           "sk-mock-0000",
	"OPENAI_API_KEY":     "sk-openai-1111",
	"ANTHROPIC_API_KEY":  "sk-ant-2222",
	"GEMINI_API_KEY":     "gem-3333",
	"OPENROUTER_API_KEY": "sk-or-4444",
	"AZURE_OPENAI_KEY":   "azure-5555",
	"EMPTY":              "",
}

// lookupIn returns a lookup function over a fixed map.
func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// with returns testEnv plus extra.
func with(extra map[string]string) map[string]string {
	m := make(map[string]string, len(testEnv)+len(extra))
	for k, v := range testEnv {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// errLines splits a joined error into its lines; nil for no error.
func errLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// mustParse parses src with testEnv and fails the test on error.
func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := parse([]byte(src), "sluice.yaml", lookupIn(testEnv))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}

// okProvider is a provider that validates, for cases about other keys;
// keys appended to it belong to the provider and start on line 5.
const okProvider = "providers:\n  - name: openai\n    type: openai\n    api_key: k\n"
