package llm

import (
	"net/http"
	"strings"
	"testing"
)

// An upstream's 401, or a 403 that says the key itself is bad, is a key
// refusal; any other 403 (no access to a model, a region, a scope) is a
// permission refusal that says nothing about the key. Neither helps when
// the same request is sent again to the same target.
func TestProviderStatusErrorCredentialRefusals(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		typ, code string
		wantCode  string
		keyBad    bool
	}{
		{"openai 401 invalid_api_key", 401, TypeInvalidRequest, "invalid_api_key", CodeUpstreamAuthFailed, true},
		{"401 without a body", 401, "", "", CodeUpstreamAuthFailed, true},
		{"anthropic 401", 401, TypeAuthentication, "", CodeUpstreamAuthFailed, true},
		{"openai 403 no access to the model", 403, TypeInvalidRequest, "model_not_found", CodeUpstreamPermission, false},
		{"openai 403 unsupported region", 403, "request_forbidden", "unsupported_country_region_territory", CodeUpstreamPermission, false},
		{"anthropic 403 permission_error", 403, TypePermission, "", CodeUpstreamPermission, false},
		{"gemini 403 permission_denied", 403, "", "permission_denied", CodeUpstreamPermission, false},
		{"403 without a body", 403, "", "", CodeUpstreamPermission, false},
		{"403 authentication_error", 403, TypeAuthentication, "", CodeUpstreamAuthFailed, true},
		{"403 invalid_api_key", 403, TypeInvalidRequest, "invalid_api_key", CodeUpstreamAuthFailed, true},
		{"403 account_deactivated", 403, TypeInvalidRequest, "account_deactivated", CodeUpstreamAuthFailed, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ProviderStatusError("p", tc.status, tc.typ, tc.code, "", "Project `proj_x` says no", 0)
			if e.Status != http.StatusBadGateway || e.Type != TypeAPI || e.Code != tc.wantCode {
				t.Errorf("got %d %s %s, want 502 %s %s", e.Status, e.Type, e.Code, TypeAPI, tc.wantCode)
			}
			if e.KeyRefused() != tc.keyBad {
				t.Errorf("KeyRefused = %v, want %v", e.KeyRefused(), tc.keyBad)
			}
			if !e.CredentialsRefused() {
				t.Error("CredentialsRefused = false")
			}
			if e.Retryable() {
				t.Error("Retryable = true: the same request to the same target gets the same answer")
			}
			if strings.Contains(e.Message, "proj_x") {
				t.Errorf("message %q passes the upstream's text on", e.Message)
			}
		})
	}
	if e := ProviderStatusError("p", 502, "", "", "", "", 0); !e.Retryable() || e.CredentialsRefused() || e.KeyRefused() {
		t.Errorf("a plain 502: Retryable %v, CredentialsRefused %v, KeyRefused %v", e.Retryable(), e.CredentialsRefused(), e.KeyRefused())
	}
	// The codes mean nothing coming from a client or the gateway itself.
	if e := (&Error{Status: 502, Code: CodeUpstreamAuthFailed, Fault: FaultGateway}); e.KeyRefused() || e.CredentialsRefused() {
		t.Error("a gateway error with the code counts as an upstream refusal")
	}
}
