package config

import (
	"fmt"
	"strings"
	"testing"
)

const secretValue = "sk-live-TOPSECRET-4242"

// TestErrorsNeverShowEnvValues puts a secret from the environment into
// every kind of field where it fails and checks that the error names the
// variable and never shows the value.
func TestErrorsNeverShowEnvValues(t *testing.T) {
	env := with(map[string]string{"S": secretValue, "SPLIT": secretValue + "\n"})
	tests := []struct {
		name string
		src  string
	}{
		{"listen", "server: {listen: \"${S}\"}\n"},
		{"max_body_bytes", "server: {max_body_bytes: \"${S}\"}\n"},
		{"duration", "server: {idle_timeout: \"${S}\"}\n"},
		{"bool", "mock: {enabled: \"${S}\"}\n"},
		{"log level", "log: {level: \"${S}\"}\n"},
		{"provider name", "providers: [{name: \"${S}\", type: openai, api_key: k}]\n"},
		{"duplicate provider name", "providers: [{name: a, type: openai, api_key: k}, {name: \"${S}\", type: openai, api_key: k}]\n"},
		{"provider type", "providers: [{name: a, type: \"${S}\", api_key: k}]\n"},
		{"base_url", "providers: [{name: a, type: openai, api_key: k, base_url: \"${S}\"}]\n"},
		{"base_url with credentials", "providers: [{name: a, type: openai, api_key: k, base_url: \"ftp://u:${S}@h\"}]\n"},
		{"api_key with a line break", "providers: [{name: a, type: openai, api_key: \"${SPLIT}\"}]\n"},
		{"header value", "providers: [{name: a, type: openai, api_key: k, headers: {X-A: \"${SPLIT}\"}}]\n"},
		{"model name", okProvider + "models: [{name: \" ${S}\", targets: [{provider: openai, model: m}]}]\n"},
		{"model name collision", okProvider + "models: [{name: \"openai/${S}\", targets: [{provider: openai, model: m}]}]\n"},
		{"strategy", okProvider + "models: [{name: m, strategy: \"${S}\", targets: [{provider: openai, model: m}]}]\n"},
		{"target provider", okProvider + "models: [{name: m, targets: [{provider: \"${S}\", model: m}]}]\n"},
		{"target provider from env is not listed", "providers: [{name: \"${S}\", type: ollama}]\nmodels: [{name: m, targets: [{provider: x, model: m}]}]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.src), "sluice.yaml", lookupIn(env))
			if err == nil {
				t.Fatal("parse succeeded; want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "TOPSECRET") {
				t.Errorf("error shows the secret: %s", msg)
			}
			if !strings.Contains(msg, "environment variable S") && tt.name != "target provider from env is not listed" {
				t.Errorf("error does not name the variable: %s", msg)
			}
		})
	}
}

// TestSecretsNeverPrinted checks Redacted and fmt output of a config full
// of secrets.
func TestSecretsNeverPrinted(t *testing.T) {
	env := with(map[string]string{"S": secretValue})
	src := `providers:
  - name: a
    type: openai
    api_key: ${S}
    base_url: https://user:${S}@proxy.example.com/v1
    headers:
      Authorization: Bearer ${S}
      X-Plain: ${S}
      X-Api-Key: literal-TOPSECRET-in-file
      X-Title: visible
  - name: b
    type: openai
    api_key: literal-TOPSECRET-in-file
    base_url: https://${S}@proxy.example.com/v1
`
	c, err := parse([]byte(src), "s.yaml", lookupIn(env))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "TOPSECRET") {
		t.Errorf("Redacted output shows a secret:\n%s", out)
	}
	// fmt cannot know which values came from the environment; it hides
	// API keys, credential-like headers and URL user info.
	delete(c.Providers[0].Headers, "X-Plain")
	for _, s := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c.Providers), fmt.Sprint(c.Providers[1])} {
		if strings.Contains(s, "TOPSECRET") {
			t.Errorf("fmt output shows a secret:\n%s", s)
		}
	}
	for _, want := range []string{
		"api_key: '[redacted]'",
		"base_url: https://[redacted]@proxy.example.com/v1",
		"Authorization: '[redacted]'",
		"X-Plain: '[redacted]'",
		"X-Api-Key: '[redacted]'",
		"X-Title: visible",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("Redacted output lacks %q:\n%s", want, out)
		}
	}
	if c.Providers[0].Headers["Authorization"] != "Bearer "+secretValue {
		t.Error("Redacted changed the Config it was called on")
	}
}
