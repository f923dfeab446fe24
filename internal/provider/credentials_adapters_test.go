package provider_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/mock"
	"github.com/sluicehq/sluice/internal/provider"
	"github.com/sluicehq/sluice/internal/provider/anthropic"
	"github.com/sluicehq/sluice/internal/provider/gemini"
	"github.com/sluicehq/sluice/internal/provider/openai"
)

// vaultCreds hands out c (nil: none) and records refusals.
type vaultCreds struct {
	mu       sync.Mutex
	c        *provider.Credential
	rejected []string
}

func (v *vaultCreds) Pick() *provider.Credential {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.c
}

func (v *vaultCreds) Rejected(c *provider.Credential, status int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rejected = append(v.rejected, fmt.Sprintf("%s %d", c.ID(), status))
}

func (v *vaultCreds) set(c *provider.Credential) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.c = c
}

func (v *vaultCreds) reports() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return strings.Join(v.rejected, ",")
}

const (
	configKey = "config-key-0123456789"
	vaultKey  = "vault-key-ABCDEFGHIJ"
)

// Every adapter sends a vault credential, when it has one, in place of
// its configured key, on whole and streamed chats, model lists and
// passthrough; reports a 401 answered to it (not the mock's permission
// 403); and falls back to the
// configured key when the source has none.
func TestAdaptersUseVaultCredentials(t *testing.T) {
	m := mock.New(mock.Options{})
	srv := httptest.NewServer(m)
	defer srv.Close()
	for _, tc := range []struct {
		typ, base, header, prefix string
		newFn                     provider.Constructor
	}{
		{"openai", srv.URL + "/v1", "Authorization", "Bearer ", openai.New},
		{"azure", srv.URL, "Api-Key", "", openai.New},
		{"anthropic", srv.URL, "X-Api-Key", "", anthropic.New},
		{"gemini", srv.URL, "X-Goog-Api-Key", "", gemini.New},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			creds := &vaultCreds{c: provider.NewCredential("cred_"+tc.typ, vaultKey)}
			p, err := tc.newFn(provider.Config{Name: "p-" + tc.typ, Type: tc.typ, BaseURL: tc.base, APIKey: configKey,
				Credentials: creds, Client: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			sent := func(what string) string {
				t.Helper()
				rec, ok := m.Last()
				if !ok {
					t.Fatalf("%s: the mock saw nothing", what)
				}
				return rec.Headers.Get(tc.header)
			}
			req := &llm.Request{Model: "echo", Messages: []llm.Message{{Role: "user", Parts: []llm.Part{llm.TextPart("hi")}}}}
			ctx := t.Context()
			if _, err := p.Chat(ctx, req); err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if got := sent("Chat"); got != tc.prefix+vaultKey {
				t.Errorf("Chat sent %s %q, want the vault key", tc.header, got)
			}
			st, err := p.ChatStream(ctx, req)
			if err != nil {
				t.Fatalf("ChatStream: %v", err)
			}
			for {
				if _, err := st.Recv(); err != nil {
					if err != io.EOF {
						t.Fatalf("Recv: %v", err)
					}
					break
				}
			}
			st.Close()
			if got := sent("ChatStream"); got != tc.prefix+vaultKey {
				t.Errorf("ChatStream sent %s %q, want the vault key", tc.header, got)
			}
			if ml, ok := p.(provider.ModelLister); ok && tc.typ != "azure" {
				if _, err := ml.ListModels(ctx); err != nil {
					t.Fatalf("ListModels: %v", err)
				}
				if got := sent("ListModels"); got != tc.prefix+vaultKey {
					t.Errorf("ListModels sent %s %q, want the vault key", tc.header, got)
				}
			}
			if pt, ok := p.(provider.Passthrough); ok {
				in := httptest.NewRequest(http.MethodGet, "http://gw/p/v1/models", nil)
				out := in.Clone(in.Context())
				out.Header = http.Header{}
				pt.RewritePassthrough(&httputil.ProxyRequest{In: in, Out: out}, "v1/models")
				if got := out.Header.Get(tc.header); got != tc.prefix+vaultKey {
					t.Errorf("passthrough sets %s %q, want the vault key", tc.header, got)
				}
			}

			// A refusal of the key is reported, for whole and streamed
			// requests; a permission refusal (the mock's 403) is not.
			m.InjectFault(mock.Fault{Status: http.StatusUnauthorized})
			if _, err := p.Chat(ctx, req); llm.AsError(err).Code != "upstream_auth_failed" {
				t.Fatalf("Chat under a 401 = %v", err)
			}
			m.InjectFault(mock.Fault{Status: http.StatusUnauthorized})
			if _, err := p.ChatStream(ctx, req); llm.AsError(err).Code != "upstream_auth_failed" {
				t.Fatalf("ChatStream under a 401 = %v", err)
			}
			m.InjectFault(mock.Fault{Status: http.StatusForbidden})
			if _, err := p.Chat(ctx, req); llm.AsError(err).Code != "upstream_permission_denied" {
				t.Fatalf("Chat under a 403 = %v", err)
			}
			m.InjectFault(mock.Fault{Status: http.StatusForbidden})
			if _, err := p.ChatStream(ctx, req); llm.AsError(err).Code != "upstream_permission_denied" {
				t.Fatalf("ChatStream under a 403 = %v", err)
			}
			want := "cred_" + tc.typ + " 401,cred_" + tc.typ + " 401"
			if got := creds.reports(); got != want {
				t.Errorf("reports %q, want %q", got, want)
			}

			// No vault key: the configured one, and nothing reported.
			creds.set(nil)
			m.InjectFault(mock.Fault{Status: http.StatusUnauthorized})
			p.Chat(ctx, req) //nolint:errcheck // the 401 is the point
			if got := sent("Chat without a vault key"); got != tc.prefix+configKey {
				t.Errorf("without a vault key, sent %s %q, want the configured key", tc.header, got)
			}
			if got := creds.reports(); got != want {
				t.Errorf("a request with the configured key was reported: %q", got)
			}
		})
	}
}

// A Gemini provider may have no configured key when the vault gives them.
func TestGeminiKeyOptionalWithCredentials(t *testing.T) {
	if _, err := gemini.New(provider.Config{Name: "g", Type: "gemini"}); err == nil {
		t.Error("gemini.New without a key or credentials succeeded")
	}
	if _, err := gemini.New(provider.Config{Name: "g", Type: "gemini", Credentials: &vaultCreds{}}); err != nil {
		t.Errorf("gemini.New with credentials only: %v", err)
	}
}

// The error bodies providers answer a bad key, or a key without access,
// with. Only a refusal of the key itself is reported (and so disables
// it); none of them is worth sending again to the same target.
func TestAdaptersReportOnlyKeyRefusals(t *testing.T) {
	const geminiInfo = `{"error":{"code":%d,"message":"%s","status":"%s","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"%s","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}`
	m := mock.New(mock.Options{})
	srv := httptest.NewServer(m)
	defer srv.Close()
	for _, tc := range []struct {
		name, typ, base string
		newFn           provider.Constructor
		status          int
		body            string
		code            string // the canonical error's code
		report          bool
	}{
		{"openai 401 invalid_api_key", "openai", srv.URL + "/v1", openai.New, 401,
			`{"error":{"message":"Incorrect API key provided: sk-abc***xyz.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			"upstream_auth_failed", true},
		{"openai 401 account_deactivated", "openai", srv.URL + "/v1", openai.New, 401,
			`{"error":{"message":"The OpenAI account associated with this API key has been deactivated.","type":"invalid_request_error","param":null,"code":"account_deactivated"}}`,
			"upstream_auth_failed", true},
		{"openai 403 no access to the model", "openai", srv.URL + "/v1", openai.New, 403,
			"{\"error\":{\"message\":\"Project `proj_abc` does not have access to model `gpt-5`\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"model_not_found\"}}",
			"upstream_permission_denied", false},
		{"openai 403 unsupported region", "openai", srv.URL + "/v1", openai.New, 403,
			`{"error":{"code":"unsupported_country_region_territory","message":"Country, region, or territory not supported","param":null,"type":"request_forbidden"}}`,
			"upstream_permission_denied", false},
		{"anthropic 401 authentication_error", "anthropic", srv.URL, anthropic.New, 401,
			`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`,
			"upstream_auth_failed", true},
		{"anthropic 403 permission_error", "anthropic", srv.URL, anthropic.New, 403,
			`{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}`,
			"upstream_permission_denied", false},
		{"gemini 400 API_KEY_INVALID", "gemini", srv.URL, gemini.New, 400,
			fmt.Sprintf(geminiInfo, 400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", "API_KEY_INVALID"),
			"upstream_auth_failed", true},
		{"gemini 403 API_KEY_INVALID", "gemini", srv.URL, gemini.New, 403,
			fmt.Sprintf(geminiInfo, 403, "API key expired. Please renew the API key.", "PERMISSION_DENIED", "API_KEY_INVALID"),
			"upstream_auth_failed", true},
		{"gemini 403 leaked key", "gemini", srv.URL, gemini.New, 403,
			`{"error":{"code":403,"message":"Your API key was reported as leaked. Please use another API key.","status":"PERMISSION_DENIED"}}`,
			"upstream_auth_failed", true},
		{"gemini 403 API_KEY_SERVICE_BLOCKED", "gemini", srv.URL, gemini.New, 403,
			fmt.Sprintf(geminiInfo, 403, "Requests to this API generativelanguage.googleapis.com method are blocked.", "PERMISSION_DENIED", "API_KEY_SERVICE_BLOCKED"),
			"upstream_permission_denied", false},
		{"gemini 403 SERVICE_DISABLED", "gemini", srv.URL, gemini.New, 403,
			fmt.Sprintf(geminiInfo, 403, "Generative Language API has not been used in project 1 before or it is disabled.", "PERMISSION_DENIED", "SERVICE_DISABLED"),
			"upstream_permission_denied", false},
		{"gemini 403 permission denied", "gemini", srv.URL, gemini.New, 403,
			`{"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED"}}`,
			"upstream_permission_denied", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			creds := &vaultCreds{c: provider.NewCredential("cred_x", vaultKey)}
			p, err := tc.newFn(provider.Config{Name: "p", Type: tc.typ, BaseURL: tc.base, APIKey: configKey,
				Credentials: creds, Client: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			req := &llm.Request{Model: "echo", Messages: []llm.Message{{Role: "user", Parts: []llm.Part{llm.TextPart("hi")}}}}
			for _, stream := range []bool{false, true} {
				m.InjectFault(mock.Fault{Status: tc.status, Body: tc.body})
				if stream {
					_, err = p.ChatStream(t.Context(), req)
				} else {
					_, err = p.Chat(t.Context(), req)
				}
				e := llm.AsError(err)
				if e == nil || e.Code != tc.code || e.Status != http.StatusBadGateway {
					t.Fatalf("stream=%v: %v, want a 502 %s", stream, err, tc.code)
				}
				if e.Retryable() {
					t.Errorf("stream=%v: the refusal is retryable", stream)
				}
			}
			want := ""
			if tc.report {
				want = fmt.Sprintf("cred_x %d,cred_x %d", tc.status, tc.status)
			}
			if got := creds.reports(); got != want {
				t.Errorf("reports %q, want %q", got, want)
			}
		})
	}
}
