package provider

import (
	"net/url"
	"testing"
)

func TestJoinURL(t *testing.T) {
	tests := []struct {
		name, base, path, query, want string
	}{
		{"plain", "https://api.openai.com/v1", "chat/completions", "", "https://api.openai.com/v1/chat/completions"},
		{"slashes on both sides", "https://h/v1/", "/models", "", "https://h/v1/models"},
		{"empty path", "https://h/v1", "", "", "https://h/v1/"},
		{"query kept", "https://h/v1", "files", "limit=2&after=x", "https://h/v1/files?limit=2&after=x"},
		{"trailing slash kept", "https://h/v1", "vector_stores/", "", "https://h/v1/vector_stores/"},
		{"dot dot cannot climb", "https://h/api/v1", "../../admin/keys", "", "https://h/api/v1/admin/keys"},
		{"dot dot inside is resolved", "https://h/v1", "files/../models", "", "https://h/v1/models"},
		{"backslashes are slashes", "https://h/v1", `..\..\secret`, "", "https://h/v1/secret"},
		{"double slashes collapse", "https://h/v1", "a//b", "", "https://h/v1/a/b"},
		{"host cannot change", "https://h/v1", "//evil.example/x", "", "https://h/v1/evil.example/x"},
		{"escaped on the wire", "https://h/v1", "models/a b:gen", "", "https://h/v1/models/a%20b:gen"},
		{"root base", "http://127.0.0.1:11434", "api/tags", "", "http://127.0.0.1:11434/api/tags"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, err := url.Parse(tc.base)
			if err != nil {
				t.Fatal(err)
			}
			got := JoinURL(base, tc.path, tc.query)
			if got.String() != tc.want {
				t.Errorf("JoinURL(%q, %q) = %q, want %q", tc.base, tc.path, got, tc.want)
			}
			if base.String() != tc.base {
				t.Errorf("base changed to %q", base)
			}
		})
	}
}
