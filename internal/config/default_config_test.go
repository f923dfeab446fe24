package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// providerSummary is what TestDefault compares per provider.
type providerSummary struct {
	Name, Type, BaseURL, Key string
}

func summarize(ps []Provider) []providerSummary {
	var out []providerSummary
	for _, p := range ps {
		out = append(out, providerSummary{p.Name, p.Type, p.BaseURL, p.APIKey.Value()})
	}
	return out
}

func TestDefault(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []providerSummary
	}{
		{name: "no environment", env: nil, want: nil},
		{
			name: "OpenAI key",
			env:  map[string]string{"OPENAI_API_KEY": "sk-1"},
			want: []providerSummary{{"openai", "openai", "https://api.openai.com/v1", "sk-1"}},
		},
		{
			name: "base URL overrides",
			env: map[string]string{
				"OPENAI_API_KEY": "sk-1", "OPENAI_BASE_URL": "http://127.0.0.1:9101/v1",
				"ANTHROPIC_API_KEY": "sk-ant", "ANTHROPIC_BASE_URL": " http://127.0.0.1:9102 ",
			},
			want: []providerSummary{
				{"openai", "openai", "http://127.0.0.1:9101/v1", "sk-1"},
				{"anthropic", "anthropic", "http://127.0.0.1:9102", "sk-ant"},
			},
		},
		{
			name: "base URL without a key adds nothing",
			env:  map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:9101/v1"},
			want: nil,
		},
		{
			name: "every catalog variable, in catalog order, trimmed; blank ones skipped",
			env: map[string]string{
				"TOGETHER_API_KEY": "t", "OPENROUTER_API_KEY": "or", "DEEPSEEK_API_KEY": "d", "GROQ_API_KEY": "gq",
				"MISTRAL_API_KEY": "m", "GEMINI_API_KEY": "g\n", "ANTHROPIC_API_KEY": "  ", "OPENAI_API_KEY": "o",
			},
			want: []providerSummary{
				{"openai", "openai", "https://api.openai.com/v1", "o"},
				{"gemini", "gemini", "https://generativelanguage.googleapis.com", "g"},
				{"mistral", "mistral", "https://api.mistral.ai/v1", "m"},
				{"groq", "groq", "https://api.groq.com/openai/v1", "gq"},
				{"deepseek", "deepseek", "https://api.deepseek.com/v1", "d"},
				{"openrouter", "openrouter", "https://openrouter.ai/api/v1", "or"},
				{"together", "together", "https://api.together.xyz/v1", "t"},
			},
		},
		{
			name: "OLLAMA_HOST",
			env:  map[string]string{"OLLAMA_HOST": "0.0.0.0"},
			want: []providerSummary{{"ollama", "ollama", "http://127.0.0.1:11434/v1", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Default(func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summarize(c.Providers)); diff != "" {
				t.Errorf("providers (-want +got):\n%s", diff)
			}
			wantModels := []Model{{Name: "chat-default", Strategy: "weighted", Targets: []Target{{Provider: "mock", Model: "echo", Weight: 1}},
				Retry: c.Routing.Retry}}
			if diff := cmp.Diff(wantModels, c.Models); diff != "" {
				t.Errorf("models (-want +got):\n%s", diff)
			}
			if !c.Mock.Enabled || c.Server.Listen != "127.0.0.1:8080" || c.Server.DataDir != "./data" || c.Path != "" {
				t.Errorf("mock %v, listen %q, data_dir %q, path %q; want the embedded defaults", c.Mock.Enabled, c.Server.Listen, c.Server.DataDir, c.Path)
			}
		})
	}
}

// TestDefaultInvalidEnvironment checks that values that cannot work stop
// Default with an error naming the variable, never the value.
func TestDefaultInvalidEnvironment(t *testing.T) {
	const secret = "sk-SECRET-9f8e7d"
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{
			name: "base URL without a scheme",
			env:  map[string]string{"OPENAI_API_KEY": "sk-1", "OPENAI_BASE_URL": "api.example.com/" + secret},
			want: "default config: providers[0].base_url: must be an absolute http(s) URL (value from environment variable OPENAI_BASE_URL)",
		},
		{
			name: "key with a line break inside",
			env:  map[string]string{"ANTHROPIC_API_KEY": secret + "\nX: y"},
			want: "default config: providers[0].api_key: must not contain line breaks or other control characters (value from environment variable ANTHROPIC_API_KEY)",
		},
		{
			name: "OLLAMA_HOST with a bad port",
			env:  map[string]string{"OLLAMA_HOST": "localhost:" + secret},
			want: "default config: environment variable OLLAMA_HOST: port must be a number from 1 to 65535",
		},
		{
			name: "OLLAMA_HOST with another scheme",
			env:  map[string]string{"OLLAMA_HOST": "unix://" + secret},
			want: "default config: environment variable OLLAMA_HOST: scheme must be http or https",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Default(func(k string) string { return tt.env[k] })
			if err == nil {
				t.Fatal("Default succeeded; want an error")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the value", err)
			}
		})
	}
}

func TestOllamaBaseURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"127.0.0.1", "http://127.0.0.1:11434/v1"},
		{"0.0.0.0:11434", "http://127.0.0.1:11434/v1"},
		{":8080", "http://127.0.0.1:8080/v1"},
		{"gpu-box", "http://gpu-box:11434/v1"},
		{"gpu-box:9000", "http://gpu-box:9000/v1"},
		{"[::]:11434", "http://127.0.0.1:11434/v1"},
		{"::1", "http://[::1]:11434/v1"},
		{"http://gpu-box", "http://gpu-box:80/v1"},
		{"https://ollama.example.com", "https://ollama.example.com:443/v1"},
		{"https://ollama.example.com:8443/ollama/", "https://ollama.example.com:8443/ollama/v1"},
		{"http://gpu-box:11434/v1", "http://gpu-box:11434/v1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ollamaBaseURL(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
